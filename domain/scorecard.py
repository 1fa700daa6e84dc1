"""Scorecards for the periodic quality inspection of 6.3: the default card derived from the standard, the
engine's verdict for an item (pre-filling the inspector's form), and the score.

An item is a plain dict so that a scorecard version can be stored as JSON and edited as a table:
    key, clause, title_zh, title_en, weight, critical, rules (rule ids the engine judges it by),
    fields (optional: only these missing fields of those rules count against this item).
An item without rules is judged by the inspector alone.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Collection, Iterable, Sequence

from domain.i18n import Said, Term

VERDICTS = ("pass", "fail", "na")
DEFAULT_NAME = "投诉处理质检评分表"
DEFAULT_PASS_MARK = 80.0

DEFAULT_ITEMS: list[dict[str, Any]] = [
    {"key": "reason_demand", "clause": "8.2.1", "title_zh": "记录了投诉内容、真实原因与客户诉求",
     "title_en": "Complaint, true reason and demand recorded", "weight": 10, "critical": False,
     "rules": ["REC-ACCEPTANCE"], "fields": ["description", "true_reason", "customer_demand"]},
    {"key": "confirm_promise", "clause": "8.2.2, 8.2.3", "title_zh": "逐项确认并承诺（约定）回复时间，且按时回复",
     "title_en": "Items confirmed, reply time promised and kept", "weight": 10, "critical": False,
     "rules": ["REC-ACCEPTANCE", "SLA-PROMISED-REPLY"], "fields": ["items_confirmed", "promised_reply_at"]},
    {"key": "rejection", "clause": "7.1.2", "title_zh": "不予受理理由成立并及时告知",
     "title_en": "Rejection ground valid and told in time", "weight": 10, "critical": True,
     "rules": ["SCOPE-GROUND", "SCOPE-REJECTED", "SCOPE-NOTICE"]},
    {"key": "transfer_record", "clause": "8.3.2", "title_zh": "转派记录含事件还原、诉求、问题、措施四部分",
     "title_en": "Four-part record on transfer", "weight": 10, "critical": False, "rules": ["REC-TRANSFER"]},
    {"key": "dept_solution", "clause": "8.3.3", "title_zh": "责任部门核查后给出解决方案",
     "title_en": "Responsible department's solution on file", "weight": 5, "critical": False,
     "rules": ["REC-DEPT-SOLUTION"]},
    {"key": "informed", "clause": "8.3.4", "title_zh": "履行告知义务，答复了处理结果",
     "title_en": "Customer kept informed and given the result", "weight": 10, "critical": False, "rules": []},
    {"key": "timeliness", "clause": "8.3.1, 8.3.5", "title_zh": "24小时内联系、48小时内答复、按期告知进度",
     "title_en": "Contact in 24 h, result in 48 h, progress on time", "weight": 20, "critical": True,
     "rules": ["SLA-FIRST-CONTACT", "SLA-FINAL-RESULT", "SLA-PROGRESS"]},
    {"key": "decision", "clause": "8.3.6", "title_zh": "形成并留存处理决定", "title_en": "Handling decision on record",
     "weight": 5, "critical": False, "rules": ["REC-DECISION"]},
    {"key": "survey", "clause": "9.1", "title_zh": "办结前完成满意度回访", "title_en": "Survey before closing",
     "weight": 5, "critical": False, "rules": ["SAT-SURVEY"]},
    {"key": "repair", "clause": "9.2, 9.3", "title_zh": "不满意时查明根由，诉求过高时提供替代方案",
     "title_en": "Root cause found; alternatives offered", "weight": 5, "critical": False,
     "rules": ["SAT-ROOT-CAUSE", "SAT-ALTERNATIVES"]},
    {"key": "archived", "clause": "10.1.1", "title_zh": "办结后按时归档", "title_en": "Archived on time",
     "weight": 5, "critical": False, "rules": ["ARC-ARCHIVE"]},
    {"key": "communication", "clause": "6.1.2, 4.3", "title_zh": "沟通表达、服务态度与处理公正（质检员判断）",
     "title_en": "Communication, attitude and fairness (inspector's judgement)", "weight": 5, "critical": False,
     "rules": []},
]


class ScorecardInvalid(ValueError):
    """An edited scorecard that cannot be saved; the message names the row and the field."""


EDITOR_COLUMNS_ZH = {"clause": "条款", "title_zh": "名称（中文）", "title_en": "名称（英文）"}


def validate_items(items: Sequence[dict[str, Any]], known_rules: Collection[str]) -> list[dict[str, Any]]:
    """Check an edited item list and return it normalised; raise ScorecardInvalid naming the problem.

    `known_rules` are the rule ids an item may name (the rule catalogue lives above this package)."""

    out, seen = [], set()
    if not items:
        raise ScorecardInvalid(Said("err.scorecard.1"))
    for n, raw in enumerate(items, start=1):
        key = str(raw.get("key") or "").strip()
        if not key:
            raise ScorecardInvalid(Said("err.scorecard.3", n=n))
        if key in seen:
            raise ScorecardInvalid(Said("err.scorecard.4", n=n, key=repr(key)))
        seen.add(key)
        for field in ("clause", "title_zh", "title_en"):
            if not str(raw.get(field) or "").strip():
                raise ScorecardInvalid(Said("err.scorecard.7", n=n, field=Term(field, EDITOR_COLUMNS_ZH[field])))
        try:
            weight = float(raw.get("weight"))
        except (TypeError, ValueError):
            raise ScorecardInvalid(Said("err.scorecard.8", n=n)) from None
        if not weight > 0:
            raise ScorecardInvalid(Said("err.scorecard.5", n=n))
        rules = _as_list(raw.get("rules"))
        unknown = [r for r in rules if r not in known_rules]
        if unknown:
            raise ScorecardInvalid(Said("err.scorecard.6", n=n, value=unknown[0]))
        out.append({"key": key, "clause": str(raw["clause"]).strip(), "title_zh": str(raw["title_zh"]).strip(),
                    "title_en": str(raw["title_en"]).strip(), "weight": weight, "critical": bool(raw.get("critical")),
                    "rules": rules, "fields": _as_list(raw.get("fields"))})
    return out


def with_item_keys(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items as edited, each with a key: a row added in the editor gets the next free `item<n>` (keys
    identify an item across versions; people never type them)."""
    out = [dict(i) for i in items]
    used = {str(i.get("key") or "").strip() for i in out}
    n = 0
    for item in out:
        if not str(item.get("key") or "").strip():
            n += 1
            while f"item{n}" in used:
                n += 1
            item["key"] = f"item{n}"
            used.add(item["key"])
    return out


def _as_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
    return [str(v) for v in value]


def dumps(items: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(items), ensure_ascii=False)


@dataclass(frozen=True)
class EngineVerdict:
    verdict: str | None  # pass | fail | na, or None when the inspector must judge (review, not yet due)
    evidence: list[str]  # one line per rule that spoke


def engine_verdict(item: dict[str, Any], obligations: Sequence[dict[str, Any]], explain_one,
                   applicable: set[str] | frozenset[str] = frozenset(), name_rule=str) -> EngineVerdict:
    """The rule engine's verdict on one item from the case's stored obligations (with live status).

    `explain_one(obligation) -> str` renders a line of evidence; `applicable` names the check rules that
    apply to the case (stored obligations hold a check rule only when it raises something, so an applicable
    check without a row has passed). A rule that does not apply says nothing; a breach fails the item (if `fields` is set, only a missing field in that list does);
    a review or a deadline not yet due leaves the verdict to the inspector. `name_rule(rule_id)` names a
    rule in the evidence (the pages pass its title in the reader's language; ids are for machines).
    """
    if not item.get("rules"):
        return EngineVerdict(None, [])
    by_rule = {o["rule_id"]: o for o in obligations}
    fields = set(item.get("fields") or ())
    votes, evidence = [], []
    for rule_id in item["rules"]:
        o = by_rule.get(rule_id)
        if o is None:
            if rule_id in applicable:
                votes.append("pass")
                evidence.append(f"{name_rule(rule_id)}: ✓")
            continue
        if o["status"] == "breached":
            missing = set((o.get("evidence") or {}).get("missing") or ())
            if fields and missing and not (missing & fields):
                votes.append("pass")
                continue
            votes.append("fail")
        elif o["status"] in ("review", "at_risk"):
            votes.append("undecided")
        elif o["state"] == "open":
            votes.append("undecided")
        else:
            votes.append("pass")
        evidence.append(f"{name_rule(rule_id)}: {explain_one(o)}")
    if not votes:
        return EngineVerdict("na", [])
    if "fail" in votes:
        return EngineVerdict("fail", evidence)
    if "undecided" in votes:
        return EngineVerdict(None, evidence)
    return EngineVerdict("pass", evidence)


@dataclass(frozen=True)
class Score:
    score: float | None  # 0-100 over the applicable items; None when no item applies
    passed: bool
    critical_failed: bool


def score(items: Sequence[dict[str, Any]], verdicts: dict[str, str], pass_mark: float) -> Score:
    """Weighted share of passed items among the applicable ones, as a percentage. A failed critical item
    zeroes the score and fails the case, whatever else passed."""
    missing = [i["key"] for i in items if verdicts.get(i["key"]) not in VERDICTS]
    if missing:
        raise ValueError(Said("err.scorecard.2", value=missing[0]))
    critical = any(i["critical"] and verdicts[i["key"]] == "fail" for i in items)
    applicable = [i for i in items if verdicts[i["key"]] != "na"]
    total = sum(float(i["weight"]) for i in applicable)
    if total == 0:
        return Score(None, not critical, critical)
    got = sum(float(i["weight"]) for i in applicable if verdicts[i["key"]] == "pass")
    value = 0.0 if critical else round(100.0 * got / total, 1)
    return Score(value, (not critical) and value >= pass_mark, critical)


def overrides(items: Iterable[dict[str, Any]], verdicts: dict[str, str], engine: dict[str, str | None],
              reasons: dict[str, str]) -> list[str]:
    """Keys of items where the inspector's verdict differs from a verdict the engine gave but no reason was
    written: those must be explained before saving."""
    out = []
    for i in items:
        e = engine.get(i["key"])
        if e is not None and verdicts.get(i["key"]) != e and not (reasons.get(i["key"]) or "").strip():
            out.append(i["key"])
    return out


def form_items(items: Sequence[dict[str, Any]], obligations: Sequence[dict[str, Any]],
               saved: dict[str, dict[str, Any]] | None, explain_one, lang: str = "zh",
               applicable: set[str] | frozenset[str] = frozenset(), name_rule=str) -> list[dict[str, Any]]:
    """What the assessment form shows per item: title, clause, weight, the engine's verdict and evidence,
    and the starting verdict (the saved one, else the engine's; None when the inspector must judge)."""
    out = []
    for i in items:
        ev = engine_verdict(i, obligations, explain_one, applicable, name_rule)
        prior = (saved or {}).get(i["key"]) or {}
        out.append({**i, "title": i["title_zh"] if lang == "zh" else i["title_en"], "engine": ev.verdict,
                    "evidence": "；".join(ev.evidence) if lang == "zh" else "; ".join(ev.evidence),
                    "initial": prior.get("verdict") or ev.verdict, "reason": prior.get("reason") or "",
                    "comment": prior.get("comment") or ""})
    return out
