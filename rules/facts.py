"""Turning a case (plain data) into the facts the rulesets match on, as of an instant `now`.

Deadline facts (`dl` set) always match exactly one outcome rule. Check facts (`ck` = 1) may match none,
which durable-rules does not allow, so each ruleset has a catch-all rule on `ck`.

A case is a dict with the interchange fields (instants as aware datetimes, text as str or None) and
`contacts`: a list of `(contact_at, kind)` pairs. The facts hold epoch seconds and 0/1 markers only:
durable-rules compares numbers well, and every field that a rule reads on the right-hand side of a
comparison is always present (an absent one there gives undefined results, see docs/rules.md).

The time arithmetic lives here (due = start + threshold, the as-of filtering of timestamps, the gaps between
progress contacts); the decisions (met, late, missed, at risk, breached, review) are the rules' business.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from rules.thresholds import Thresholds

H = 3600
VALID_GROUNDS = ("outside_business_scope", "outside_service_scope", "past_time_limit")
EVENT_FIELDS = ("closed_at", "archived_at", "survey_at", "long_running_since", "rejection_informed_at")


def empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def ts(value: datetime) -> int:
    return int(value.timestamp())


@dataclass
class CaseView:
    """A case as a supervisor would have seen it at `now`: later events and contacts are left out."""

    case: dict
    now: int
    received: int
    contacts: list[tuple[int, str]]  # sorted, only those at or before now
    events: dict[str, int | None]
    satisfaction: str | None

    @property
    def accepted(self) -> bool:
        return self.case.get("acceptance") == "accepted"

    @property
    def rejected(self) -> bool:
        return self.case.get("acceptance") == "rejected"

    @property
    def closed(self) -> bool:
        return self.events["closed_at"] is not None


def view(case: dict, now: int) -> CaseView | None:
    """The case as of `now`, or None if it had not been received yet."""
    received = ts(case["received_at"])
    if received > now:
        return None
    contacts = sorted((ts(t), k) for t, k in case.get("contacts") or () if ts(t) <= now)
    events: dict[str, int | None] = {}
    for name in EVENT_FIELDS:
        value = case.get(name)
        events[name] = ts(value) if value is not None and ts(value) <= now else None
    satisfaction = case.get("satisfaction")
    survey = case.get("survey_at")
    if survey is not None and ts(survey) > now:
        satisfaction = None  # the survey that produced it had not happened yet
    return CaseView(case, now, received, contacts, events, satisfaction)


def _deadline(fact: dict, p: str, applies: bool, due: int = 0, at: int | None = None,
              warn: int = 0, gap: int = 0, interval: int = 0) -> None:
    fact[f"{p}_app"] = 1 if applies else 0
    fact[f"{p}_due"] = due
    fact[f"{p}_warn"] = due - warn
    fact[f"{p}_gap"] = gap
    fact[f"{p}_int"] = interval
    if applies and at is not None:
        fact[f"{p}_at"] = at


def _own(p: str, due: int, at: int | None, warn: int, gap: int = 0, interval: int = 0) -> dict[str, Any]:
    """A fact of its own for one deadline (the deadlines ruleset): `dl` names it, the fields are generic."""
    fact: dict[str, Any] = {"dl": p, "due": due, "warn": due - warn, "gap": gap, "int": interval}
    if at is not None:
        fact["at"] = at
    return fact


def deadline_facts(v: CaseView, th: Thresholds) -> list[dict[str, Any]]:
    """One fact per applicable handling deadline: each then matches exactly one outcome rule, so the engine
    decodes every fact once (a single fact for all four was decoded once per deadline it carried)."""
    warn = int(th.warn_hours * H)
    facts: list[dict[str, Any]] = []
    rcv = v.received
    first = v.contacts[0][0] if v.contacts else None
    final = next((t for t, k in v.contacts if k == "final"), None)
    if v.accepted:
        facts.append(_own("fc", rcv + int(th.first_contact_hours * H), first, warn))
        fr_due = rcv + int(th.final_result_hours * H)
        lrs = v.events["long_running_since"]
        if lrs is not None and lrs <= fr_due:
            agreed = v.case.get("progress_interval_hours")
            interval = int((agreed if agreed else th.progress_interval_hours) * H)
            points = [lrs] + [t for t, _k in v.contacts if t > lrs and (final is None or t <= final)]
            gap = max((b - a for a, b in zip(points, points[1:])), default=0)
            facts.append(_own("pg", points[-1] + interval, final, warn, gap, interval))
        else:
            facts.append(_own("fr", fr_due, final, warn))
    promised = v.case.get("promised_reply_at")
    if promised is not None:
        pr_due = ts(promised)
        reply = next((t for t, _k in v.contacts if rcv < t <= pr_due), None)
        facts.append(_own("pr", pr_due, reply, warn))
    for fact in facts:
        fact["now"] = v.now
    return facts


def scope_facts(v: CaseView, th: Thresholds) -> dict[str, Any]:
    """Rejection checks and the notice deadline in one fact (prefixed fields `sn_*`)."""
    reason = v.case.get("rejection_reason")
    reviewed = v.case.get("reviewed_at")  # a supervisor's review of the rejection (7.1.2), as of now
    fact: dict[str, Any] = {"now": v.now, "rej": 1 if v.rejected else 0,
                            "rev": 1 if reviewed is not None and ts(reviewed) <= v.now else 0,
                            "rej_reason": "" if empty(reason) else str(reason)}
    due = v.received + int(th.rejection_notice_hours * H)
    _deadline(fact, "sn", v.rejected, due, v.events["rejection_informed_at"], int(th.warn_hours * H))
    return fact


def _has(case: dict, name: str) -> int:
    return 0 if empty(case.get(name)) else 1


def records_facts(v: CaseView, th: Thresholds) -> dict[str, Any]:
    c = v.case
    return {
        "ck": 1,
        "acc": 1 if v.accepted else 0,
        "closed": 1 if v.closed else 0,
        "tr": _has(c, "transferred_to"),
        "d_description": _has(c, "description"),
        "d_true_reason": _has(c, "true_reason"),
        "d_customer_demand": _has(c, "customer_demand"),
        "d_promised_reply_at": 0 if c.get("promised_reply_at") is None else 1,
        "d_items_confirmed": 1 if c.get("items_confirmed") is True else 0,
        "d_event_restoration": _has(c, "event_restoration"),
        "d_existing_problem": _has(c, "existing_problem"),
        "d_solution_measures": _has(c, "solution_measures"),
        "d_dept_solution": _has(c, "dept_solution"),
        "d_decision": _has(c, "decision"),
    }


def satisfaction_facts(v: CaseView, th: Thresholds) -> dict[str, Any]:
    c = v.case
    survey = v.events["survey_at"]
    return {
        "ck": 1,
        "closed": 1 if v.closed else 0,
        "cl_at": v.events["closed_at"] or 0,
        "sv": 0 if survey is None else 1,
        "sv_at": survey or 0,
        "dis": 1 if v.satisfaction == "dissatisfied" else 0,
        "d_cause": _has(c, "dissatisfaction_cause"),
        "exc": 1 if c.get("demand_excessive") is True else 0,
        "d_alt": _has(c, "alternatives"),
    }


def archive_facts(v: CaseView, th: Thresholds) -> list[dict[str, Any]]:
    """The archive deadline as a fact of its own once the case is closed; the typical-case check as a
    check fact when the case is marked typical."""
    facts: list[dict[str, Any]] = []
    closed = v.events["closed_at"]
    if closed is not None:
        due = closed + int(th.archive_days * 24 * H)
        fact = _own("ar", due, v.events["archived_at"], int(th.warn_hours * H))
        fact["now"] = v.now
        facts.append(fact)
    if v.case.get("typical") is True:
        facts.append({"ck": 1, "typ": 1, "d_summary": _has(v.case, "typical_summary")})
    return facts


BUILDERS = {
    "deadlines": deadline_facts,
    "scope": scope_facts,
    "records": records_facts,
    "satisfaction": satisfaction_facts,
    "archive": archive_facts,
}


def routed(v: CaseView) -> Iterable[str]:
    """The rulesets in which at least one rule can apply to this case (the others would only hit the
    catch-all rule). Keeps a bulk evaluation from pushing millions of facts that cannot flag."""
    c = v.case
    if v.accepted or c.get("promised_reply_at") is not None:
        yield "deadlines"
    if v.rejected:
        yield "scope"
    if v.accepted or v.closed or not empty(c.get("transferred_to")):
        yield "records"
    if v.closed or v.satisfaction == "dissatisfied":
        yield "satisfaction"
    if v.closed or c.get("typical") is True:
        yield "archive"
