"""Inspection results (the personnel assessment of 6.3) and inspector agreement, from plain DataFrames.

`assessments`: one row per assessment (handler, team, month, score, passed, critical_failed, inspector);
`items`: one row per scored item (assessment_id, item_key, clause, verdict).
"""
from __future__ import annotations

from datetime import datetime
from itertools import combinations
from typing import Any, Sequence

import pandas as pd

from domain.i18n import t


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters over the same subjects; None when chance agreement is total (both gave
    one and the same category throughout), where kappa is undefined."""
    if len(a) != len(b):
        raise ValueError("the two raters must rate the same subjects")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b)) / n
    cats = set(a) | set(b)
    expected = sum((list(a).count(c) / n) * (list(b).count(c) / n) for c in cats)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def agreement(cal: pd.DataFrame) -> pd.DataFrame:
    """Per item and pair of inspectors: cases both assessed, percent agreement and Cohen's kappa."""
    rows: list[dict[str, Any]] = []
    if cal.empty:
        return pd.DataFrame(columns=["item_key", "clause", "pair", "cases", "agreement", "kappa"])
    wide = cal.pivot_table(index=["item_key", "clause", "case_no"], columns="inspector", values="verdict",
                           aggfunc="last")
    for (item, clause), block in wide.groupby(level=[0, 1]):
        for x, y in combinations(sorted(block.columns), 2):
            both = block[[x, y]].dropna()
            if both.empty:
                continue
            k = cohen_kappa(both[x].tolist(), both[y].tolist())
            rows.append({"item_key": item, "clause": clause, "pair": f"{x} × {y}", "cases": len(both),
                         "agreement": round(100.0 * (both[x] == both[y]).mean(), 1),
                         "kappa": None if k is None else round(k, 3)})
    return pd.DataFrame(rows, columns=["item_key", "clause", "pair", "cases", "agreement", "kappa"])


def disagreements(cal: pd.DataFrame) -> pd.DataFrame:
    """Case × item with each inspector's verdict side by side, only where they differ."""
    if cal.empty:
        return pd.DataFrame()
    wide = cal.pivot_table(index=["case_no", "item_key", "clause"], columns="inspector", values="verdict",
                           aggfunc="last").reset_index()
    people = [c for c in wide.columns if c not in ("case_no", "item_key", "clause")]
    differs = wide[people].apply(lambda r: r.dropna().nunique() > 1, axis=1)
    return wide[differs].reset_index(drop=True)


def by_group(assessments: pd.DataFrame, items: pd.DataFrame, group: str, lang: str = "zh",
             titles: dict[str, str] | None = None) -> pd.DataFrame:
    """Per `group` (handler or team) and month: assessments, mean score, pass rate, most failed items."""
    cols = [group, "month", "assessed", "mean_score", "pass_rate", "top_failed"]
    if assessments.empty:
        return pd.DataFrame(columns=cols)
    failed = items[items["verdict"] == "fail"].merge(assessments[["id", group, "month"]],
                                                     left_on="assessment_id", right_on="id")
    rows = []
    for (who, month), g in assessments.groupby([group, "month"], dropna=False):
        f = failed[(failed[group] == who) & (failed["month"] == month)]
        top = f["item_key"].value_counts().head(3)
        names = [f"{(titles or {}).get(k, k)} ×{v}" for k, v in top.items()]
        scores = g["score"].dropna()
        rows.append({group: who, "month": month, "assessed": len(g),
                     "mean_score": round(float(scores.mean()), 1) if len(scores) else None,
                     "pass_rate": round(100.0 * g["passed"].mean(), 1), "top_failed": "、".join(names)})
    return pd.DataFrame(rows, columns=cols).sort_values([group, "month"]).reset_index(drop=True)


def pareto(items: pd.DataFrame) -> pd.DataFrame:
    """Failed items by clause, most frequent first, with the cumulative share."""
    cols = ["clause", "item_key", "failed", "share", "cumulative"]
    f = items[items["verdict"] == "fail"]
    if f.empty:
        return pd.DataFrame(columns=cols)
    counts = f.groupby(["clause", "item_key"]).size().reset_index(name="failed")
    counts = counts.sort_values(["failed", "clause"], ascending=[False, True]).reset_index(drop=True)
    total = counts["failed"].sum()
    counts["share"] = (100.0 * counts["failed"] / total).round(1)
    counts["cumulative"] = (100.0 * counts["failed"].cumsum() / total).round(1)
    return counts[cols]


def labelled(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Column headers in the UI language (for display and export)."""
    names = {c: t(f"qa.col.{c}", lang) for c in frame.columns if f"qa.col.{c}" in _KNOWN}
    return frame.rename(columns=names)


_KNOWN = {f"qa.col.{c}" for c in ("handler", "team", "month", "assessed", "mean_score", "pass_rate", "top_failed",
                                  "clause", "item_key", "failed", "share", "cumulative", "pair", "cases",
                                  "agreement", "kappa", "case_no", "inspector", "score", "passed", "plan",
                                  "assignee", "category", "channel", "stratum", "verdict")}


def auto_summary(auto: pd.DataFrame, assessed: pd.DataFrame, group: str = "handler") -> pd.DataFrame:
    """The automatic check beside the human one, per handler (or team), never blended: cases the engine
    scored, their mean automatic score and automatic pass rate; cases inspectors assessed and their mean
    score. `auto` comes from db.autocheck.auto_scores, `assessed` from db.inspection.assessment_rows."""
    scored = auto[auto["auto_score"].notna()]
    machine = scored.groupby(group).agg(auto_cases=("case_id", "size"), auto_mean=("auto_score", "mean"),
                                        auto_pass=("auto_passed", lambda s: 100.0 * s.astype(float).mean()))
    human = (assessed.groupby(group).agg(human_cases=("id", "size"), human_mean=("score", "mean"))
             if not assessed.empty else pd.DataFrame(columns=["human_cases", "human_mean"]))
    out = machine.join(human, how="outer").reset_index().rename(columns={"index": group})
    for column in ("auto_cases", "human_cases"):
        out[column] = pd.to_numeric(out[column], errors="coerce").fillna(0).astype(int)
    out["human_mean"] = pd.to_numeric(out["human_mean"], errors="coerce")
    return out.sort_values(["auto_mean", group], na_position="last").reset_index(drop=True)


def coaching_follow_up(items: pd.DataFrame, keys: Sequence[str], since: datetime, until: datetime) -> pd.DataFrame:
    """A coached handler's verdicts on the coached items before the coaching and after it (up to `until`):
    per item, how many pass/fail verdicts on each side, the share failed, and the change in points (negative
    is better). `items` holds one row per assessment item: item_key, verdict, assessed_at (UTC)."""
    rows = []
    judged = items[items["verdict"].isin(["pass", "fail"])]
    for key in keys:
        mine = judged[judged["item_key"] == key]
        before = mine[mine["assessed_at"] < since]
        after = mine[(mine["assessed_at"] >= since) & (mine["assessed_at"] <= until)]
        rate_before = None if before.empty else 100.0 * float((before["verdict"] == "fail").mean())
        rate_after = None if after.empty else 100.0 * float((after["verdict"] == "fail").mean())
        rows.append({"item_key": key, "before_n": len(before), "before_fail": rate_before, "after_n": len(after),
                     "after_fail": rate_after,
                     "change": None if rate_before is None or rate_after is None else rate_after - rate_before})
    return pd.DataFrame(rows, columns=["item_key", "before_n", "before_fail", "after_n", "after_fail", "change"])
