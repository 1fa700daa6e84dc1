"""Plain-language detail for a flag, in Chinese or English, from its outcome and evidence."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rules.catalogue import BY_ID
from domain.timeutil import fmt_duration, fmt_local
from domain.vocab import CASE_COLUMNS

GROUND_ZH = "超出经营范围、超出服务范围、超出服务时限"


def _field(name: str, lang: str) -> str:
    return CASE_COLUMNS[name][0] if lang == "zh" else name


def explain(rule_id: str, outcome: str, due_at: datetime | None, fulfilled_at: datetime | None,
            evidence: dict[str, Any] | None, now: datetime, lang: str = "zh") -> str:
    ev = evidence or {}
    zh = lang == "zh"
    rule = BY_ID[rule_id]
    if rule.kind == "deadline":
        due = fmt_local(due_at)
        if rule_id == "SLA-PROGRESS" and ev.get("longest_gap_s", 0) > ev.get("interval_s", 0):
            gap, interval = fmt_duration(ev["longest_gap_s"], lang), fmt_duration(ev["interval_s"], lang)
            return (f"两次联系最长间隔 {gap}，超过约定的 {interval}" if zh
                    else f"longest gap between contacts {gap}, more than the interval of {interval}")
        if outcome == "late" and fulfilled_at is not None and due_at is not None:
            late = fmt_duration((fulfilled_at - due_at).total_seconds(), lang)
            return (f"应于 {due} 前完成，实际 {fmt_local(fulfilled_at)}，晚了 {late}" if zh
                    else f"due {due}, done {fmt_local(fulfilled_at)}, {late} late")
        if outcome == "missed" and due_at is not None:
            over = fmt_duration((now - due_at).total_seconds(), lang)
            return f"应于 {due} 前完成，已超时 {over}，仍未完成" if zh else f"due {due}, overdue by {over}, not done yet"
        if outcome == "at_risk" and due_at is not None:
            left = fmt_duration((due_at - now).total_seconds(), lang)
            return f"应于 {due} 前完成，还剩 {left}" if zh else f"due {due}, {left} left"
        if outcome == "met":
            return f"已于 {fmt_local(fulfilled_at)} 按时完成" if zh else f"done on time at {fmt_local(fulfilled_at)}"
        return f"应于 {due} 前完成" if zh else f"due {due}"
    if ev.get("missing"):
        names = [_field(f, lang) for f in ev["missing"]]
        return ("缺少：" + "、".join(names)) if zh else ("missing: " + ", ".join(names))
    if rule_id == "SCOPE-GROUND":
        reason = ev.get("reason") or ""
        if not reason:
            return "未写明不予受理原因" if zh else "no rejection ground given"
        return (f"原因“{reason}”不在允许范围（{GROUND_ZH}）内" if zh
                else f"ground {reason!r} is not one of the permitted grounds")
    if rule_id == "SAT-SURVEY" and ev.get("survey"):
        s = fmt_local(datetime.fromtimestamp(ev["survey"], timezone.utc))
        c = fmt_local(datetime.fromtimestamp(ev["closed"], timezone.utc))
        return f"回访 {s} 晚于办结 {c}" if zh else f"survey {s} after closing {c}"
    return rule.title_zh if zh else rule.title_en
