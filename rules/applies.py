"""Which check rules apply to a case as of `now` (the "applies to" column of obligations.md).

Stored obligations hold a check rule only when it raises something (breached or review), so a check rule
that is absent may have passed or may not apply: views that must tell the two apart (the inspection
scorecard, the archive checklist) ask here. Plain Python on the same case dict as rules/.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def applicable_checks(case: dict[str, Any], now: datetime) -> set[str]:
    if case["received_at"] > now:
        return set()
    closed = case.get("closed_at") is not None and case["closed_at"] <= now
    surveyed = case.get("survey_at") is None or case["survey_at"] <= now
    dissatisfied = case.get("satisfaction") == "dissatisfied" and surveyed
    transferred = not _blank(case.get("transferred_to"))
    out = set()
    if case.get("acceptance") == "accepted":
        out.add("REC-ACCEPTANCE")
    if case.get("acceptance") == "rejected":
        out |= {"SCOPE-REJECTED", "SCOPE-GROUND"}
    if transferred:
        out.add("REC-TRANSFER")
        if closed:
            out.add("REC-DEPT-SOLUTION")
    if closed:
        out |= {"REC-DECISION", "SAT-SURVEY"}
    if dissatisfied:
        out.add("SAT-ROOT-CAUSE")
        if case.get("demand_excessive") is True:
            out.add("SAT-ALTERNATIVES")
    if case.get("typical") is True:
        out.add("ARC-TYPICAL")
    return out
