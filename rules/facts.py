"""Turning a case (plain data) into the one fact the ruleset matches on, as of an instant `now`.

A case is a dict with the interchange fields (instants as aware datetimes, text as str or None) and
`contacts`: a list of `(contact_at, kind)` pairs. Each case becomes **one** fact carrying every field a rule
reads, and nothing else. The fields are short names (the engine's JSON is encoded per fact, so every key
costs time at a million cases); `FIELDS` below says what each one means.

Deadlines are given as signed offsets in whole seconds, so that every condition compares one field with a
constant (durable-rules compares numbers well; a field on the right of a comparison that is absent from a
fact gives undefined results, see docs/rules.md, so no rule puts a field there):

- fulfilled deadline: `<p>a` = fulfilled − due (late when > 0);
- unfulfilled deadline: `<p>n` = now − due (missed when > 0) and `<p>w` = now − (due − warning lead)
  (at risk when ≥ 0 and not yet missed);
- progress updates also carry `pgg` = longest gap between progress points − agreed interval (late when > 0).

A deadline's fields are present only when the deadline applies to the case as of `now` (which deadline
applies is time arithmetic: a case declared long-running before its final-result due is checked for progress
instead). Check rules read 0/1 markers behind a gate marker (`ac` accepted, `tr` transferred, `cl` closed,
`ds` dissatisfied, `ty` typical, `rj` rejected); a marker behind a closed gate is left out.

The time arithmetic and the "is this field blank" tests live here; every decision (late, missed, at risk,
breached, review) is a rule in rules/engine.py. The due times themselves travel beside the fact (`Deadline`)
and never go into the engine: the stored obligation needs them, the rules do not.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from rules.thresholds import Thresholds

H = 3600
VALID_GROUNDS = ("outside_business_scope", "outside_service_scope", "past_time_limit")

# Deadline prefixes in facts -> rule ids.
DEADLINE_PREFIX = {"fc": "SLA-FIRST-CONTACT", "fr": "SLA-FINAL-RESULT", "pg": "SLA-PROGRESS",
                   "pr": "SLA-PROMISED-REPLY", "sn": "SCOPE-NOTICE", "ar": "ARC-ARCHIVE"}
# Check markers: fact key -> case field whose blankness it reports (1 = filled in).
ACCEPTANCE_MARKS = {"a_ds": "description", "a_tr": "true_reason", "a_cd": "customer_demand",
                    "a_pr": "promised_reply_at", "a_ic": "items_confirmed"}
TRANSFER_MARKS = {"t_er": "event_restoration", "t_cd": "customer_demand", "t_ep": "existing_problem",
                  "t_sm": "solution_measures"}
FIELDS = {
    "id": "position of the case in the evaluated list",
    "<p>a / <p>n / <p>w": "deadline offsets (see above); p in fc fr pg pr sn ar",
    "pgg": "longest gap between progress points minus the interval",
    "rj, rv, rr": "rejected (1); its review recorded by now (0/1); the rejection ground as written",
    "ac, a_*": "accepted (1); acceptance record fields filled in (0/1)",
    "tr, t_*, t_ds": "transferred (1); four-part record fields; the department's solution (0/1)",
    "cl, dc": "closed by now (0/1); decision recorded (0/1, closed cases)",
    "sv, sc": "survey by now (0/1, closed cases); survey − closing in seconds (surveyed closed cases)",
    "ds, rc, ex, al": "dissatisfied as of now (1); cause recorded; demand excessive (0/1); alternatives",
    "ty, ts": "marked typical (1); summary written (0/1)",
}


# One applicable deadline of one case, beside its fact (epoch seconds; a plain tuple, built by the million):
# (rule_id, due, warn, fulfilled or None, longest gap, interval) — the last two for progress updates only.
Deadline = tuple


def empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def ts(value: datetime) -> int:
    return int(value.timestamp())


def case_fact(case: dict, now: int, th: Thresholds) -> tuple[dict, list[Deadline]] | None:
    """The fact for one case as of `now` (epoch seconds) and its applicable deadlines, or None when the case
    had not been received yet. Later events and contacts are left out (the as-of view).

    Written for speed (it runs once per case in bulk evaluations): blank tests and timestamps are inline."""
    received = int(case["received_at"].timestamp())
    if received > now:
        return None
    get = case.get
    fact: dict[str, Any] = {}
    deadlines: list[Deadline] = []
    warn_s = round(th.warn_hours * H)
    raw = get("contacts")
    if raw:
        contacts = [(int(t.timestamp()), k) for t, k in raw]
        contacts = sorted(c for c in contacts if c[0] <= now)
    else:
        contacts = []

    def put(p: str, rule_id: str, due: int, at: int | None, gap: int = 0, interval: int = 0) -> None:
        warn = due - warn_s
        if at is None:
            fact[p + "n"] = now - due
            fact[p + "w"] = now - warn
        else:
            fact[p + "a"] = at - due
        deadlines.append((rule_id, due, warn, at, gap, interval))

    value = get("closed_at")
    closed_at = None if value is None else int(value.timestamp())
    if closed_at is not None and closed_at > now:
        closed_at = None
    fact["cl"] = 0 if closed_at is None else 1
    acceptance = get("acceptance")
    if acceptance == "accepted":
        first = contacts[0][0] if contacts else None
        final = next((t for t, k in contacts if k == "final"), None)
        put("fc", "SLA-FIRST-CONTACT", received + round(th.first_contact_hours * H), first)
        fr_due = received + round(th.final_result_hours * H)
        value = get("long_running_since")
        lrs = None if value is None else int(value.timestamp())
        if lrs is not None and lrs <= fr_due and lrs <= now:
            agreed = get("progress_interval_hours")
            interval = round((agreed if agreed else th.progress_interval_hours) * H)
            points = [lrs] + [t for t, _k in contacts if t > lrs and (final is None or t <= final)]
            gap = max((b - a for a, b in zip(points, points[1:])), default=0)
            fact["pgg"] = gap - interval
            put("pg", "SLA-PROGRESS", points[-1] + interval, final, gap, interval)
        else:
            put("fr", "SLA-FINAL-RESULT", fr_due, final)
        fact["ac"] = 1
        for key, name in ACCEPTANCE_MARKS.items():
            value = get(name)
            if name == "items_confirmed":
                fact[key] = 1 if value is True else 0
            else:
                fact[key] = 0 if value is None or (value.__class__ is str and not value.strip()) else 1
    promised = get("promised_reply_at")
    if promised is not None:
        pr_due = int(promised.timestamp())
        reply = next((t for t, _k in contacts if received < t <= pr_due), None)
        put("pr", "SLA-PROMISED-REPLY", pr_due, reply)
    if acceptance == "rejected":
        reviewed = get("reviewed_at")  # a supervisor's review of the rejection (7.1.2), as of now
        reason = get("rejection_reason")
        informed = get("rejection_informed_at")
        informed_s = None if informed is None else int(informed.timestamp())
        fact["rj"] = 1
        fact["rv"] = 1 if reviewed is not None and int(reviewed.timestamp()) <= now else 0
        fact["rr"] = "" if empty(reason) else str(reason)
        put("sn", "SCOPE-NOTICE", received + round(th.rejection_notice_hours * H),
            None if informed_s is None or informed_s > now else informed_s)
    value = get("transferred_to")
    if not (value is None or (value.__class__ is str and not value.strip())):
        fact["tr"] = 1
        for key, name in TRANSFER_MARKS.items():
            value = get(name)
            fact[key] = 0 if value is None or (value.__class__ is str and not value.strip()) else 1
        value = get("dept_solution")
        fact["t_ds"] = 0 if value is None or (value.__class__ is str and not value.strip()) else 1
    survey_at = get("survey_at")
    survey = None if survey_at is None else int(survey_at.timestamp())
    if survey is not None and survey > now:
        survey = None
    if closed_at is not None:
        value = get("decision")
        fact["dc"] = 0 if value is None or (value.__class__ is str and not value.strip()) else 1
        fact["sv"] = 0 if survey is None else 1
        if survey is not None:
            fact["sc"] = survey - closed_at
        archived = get("archived_at")
        archived_s = None if archived is None else int(archived.timestamp())
        put("ar", "ARC-ARCHIVE", closed_at + round(th.archive_days * 24 * H),
            None if archived_s is None or archived_s > now else archived_s)
    if get("satisfaction") == "dissatisfied" and (survey_at is None or survey is not None):
        fact["ds"] = 1  # a survey after `now` had not produced this answer yet
        fact["rc"] = 0 if empty(get("dissatisfaction_cause")) else 1
        fact["ex"] = 1 if get("demand_excessive") is True else 0
        fact["al"] = 0 if empty(get("alternatives")) else 1
    if get("typical") is True:
        fact["ty"] = 1
        fact["ts"] = 0 if empty(get("typical_summary")) else 1
    return fact, deadlines
