"""A second, plain-Python reading of obligations.md, written without the engine or rules/facts.py.

It exists to check the durable-rules engine (which has shown undefined behaviour, see docs/rules.md): the
differential tests feed both the same generated cases and require identical outcomes. It is deliberately
direct and slow; it is not used by the product.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rules.thresholds import DEFAULT, Thresholds

GROUNDS = {"outside_business_scope", "outside_service_scope", "past_time_limit"}


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def _deadline(now: datetime, due: datetime, done: datetime | None, warn: timedelta) -> str:
    if done is not None:
        return "met" if done <= due else "late"
    if now > due:
        return "missed"
    if due - warn <= now:
        return "at_risk"
    return "pending"


def reference(case: dict, now: datetime, th: Thresholds = DEFAULT) -> dict[str, tuple[str, datetime | None]]:
    """rule_id -> (outcome, due) for every rule that applies to `case` as of `now`."""
    out: dict[str, tuple[str, datetime | None]] = {}
    received = case["received_at"]
    if received > now:
        return out

    def seen(name: str) -> datetime | None:
        value = case.get(name)
        return value if value is not None and value <= now else None

    contacts = sorted((t, k) for t, k in case.get("contacts") or [] if t <= now)
    warn = timedelta(hours=th.warn_hours)
    accepted = case.get("acceptance") == "accepted"
    rejected = case.get("acceptance") == "rejected"
    closed_at = seen("closed_at")
    satisfaction = case.get("satisfaction")
    if case.get("survey_at") is not None and case["survey_at"] > now:
        satisfaction = None

    if accepted:
        due = received + timedelta(hours=th.first_contact_hours)
        out["SLA-FIRST-CONTACT"] = (_deadline(now, due, contacts[0][0] if contacts else None, warn), due)

        finals = [t for t, k in contacts if k == "final"]
        final = finals[0] if finals else None
        due = received + timedelta(hours=th.final_result_hours)
        lrs = seen("long_running_since")
        if lrs is not None and lrs <= due:
            hours = case.get("progress_interval_hours") or th.progress_interval_hours
            interval = timedelta(hours=hours)
            points = [lrs] + [t for t, _ in contacts if t > lrs and (final is None or t <= final)]
            gaps = [b - a for a, b in zip(points, points[1:])]
            pdue = points[-1] + interval
            if any(g > interval for g in gaps):
                outcome = "late"
            elif final is not None:
                outcome = "met"
            else:
                outcome = _deadline(now, pdue, None, warn)
            out["SLA-PROGRESS"] = (outcome, pdue)
        else:
            out["SLA-FINAL-RESULT"] = (_deadline(now, due, final, warn), due)

        missing = [_blank(case.get(f)) for f in ("description", "true_reason", "customer_demand")]
        if any(missing) or case.get("promised_reply_at") is None or case.get("items_confirmed") is not True:
            out["REC-ACCEPTANCE"] = ("breached", None)

    promised = case.get("promised_reply_at")
    if promised is not None:
        replies = [t for t, _ in contacts if received < t <= promised]
        out["SLA-PROMISED-REPLY"] = (_deadline(now, promised, replies[0] if replies else None, warn), promised)

    if rejected:
        reviewed = case.get("reviewed_at")
        if reviewed is None or reviewed > now:  # a review recorded after `now` had not happened yet
            out["SCOPE-REJECTED"] = ("review", None)
        if case.get("rejection_reason") not in GROUNDS:
            out["SCOPE-GROUND"] = ("breached", None)
        due = received + timedelta(hours=th.rejection_notice_hours)
        out["SCOPE-NOTICE"] = (_deadline(now, due, seen("rejection_informed_at"), warn), due)

    if not _blank(case.get("transferred_to")):
        if any(_blank(case.get(f)) for f in ("event_restoration", "customer_demand", "existing_problem",
                                              "solution_measures")):
            out["REC-TRANSFER"] = ("breached", None)
        if closed_at is not None and _blank(case.get("dept_solution")):
            out["REC-DEPT-SOLUTION"] = ("breached", None)

    if closed_at is not None:
        if _blank(case.get("decision")):
            out["REC-DECISION"] = ("breached", None)
        survey = seen("survey_at")
        if survey is None or survey > closed_at:
            out["SAT-SURVEY"] = ("breached", None)
        due = closed_at + timedelta(days=th.archive_days)
        out["ARC-ARCHIVE"] = (_deadline(now, due, seen("archived_at"), warn), due)

    if satisfaction == "dissatisfied":
        if _blank(case.get("dissatisfaction_cause")):
            out["SAT-ROOT-CAUSE"] = ("breached", None)
        if case.get("demand_excessive") is True and _blank(case.get("alternatives")):
            out["SAT-ALTERNATIVES"] = ("breached" if closed_at is not None else "review", None)

    if case.get("typical") is True and _blank(case.get("typical_summary")):
        out["ARC-TYPICAL"] = ("breached", None)
    return out
