"""Flags as the outside world sees them (command line, exports, pages): one shape for fresh evaluations and
stored obligations alike."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from rules.catalogue import BY_ID
from rules.evaluate import Finding
from rules.explain import explain
from domain.timeutil import iso_with_offset


def finding_flag(f: Finding, now: datetime, lang: str = "zh") -> dict[str, Any]:
    return {
        "case_no": f.case_no, "rule_id": f.rule_id, "clause": f.clause, "status": f.status,
        "due_at": iso_with_offset(f.due_at),
        "detail": explain(f.rule_id, f.outcome, f.due_at, f.fulfilled_at, f.evidence, now, lang),
    }


def stored_flag(d: dict[str, Any], now: datetime, lang: str = "zh") -> dict[str, Any]:
    """A row of db.obligations.stored_flags in the same shape; the outcome follows the live status."""
    outcome = d["outcome"]
    if d["status"] == "breached" and outcome in ("pending", "at_risk"):
        outcome = "missed"
    elif d["status"] == "at_risk":
        outcome = "at_risk"
    return {
        "case_no": d["case_no"], "rule_id": d["rule_id"], "clause": d["clause"], "status": d["status"],
        "due_at": iso_with_offset(d["due_at"]),
        "detail": explain(d["rule_id"], outcome, d["due_at"], d["fulfilled_at"], d["evidence"], now, lang),
    }


def title(rule_id: str, lang: str = "zh") -> str:
    rule = BY_ID[rule_id]
    return rule.title_zh if lang == "zh" else rule.title_en


def sort_flags(flags: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(flags, key=lambda d: (d["case_no"], d["rule_id"]))
