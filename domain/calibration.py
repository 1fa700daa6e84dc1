"""Calibration sessions (6.3): how far a group of inspectors agree on the same cases, item by item.

Pure arithmetic on a table of answers (case, inspector, item, verdict) and of scores (case, inspector,
score). Agreement among more than two raters is Krippendorff's alpha from the maintained `krippendorff`
package (nominal for verdicts, interval for scores); Cohen's kappa per pair of inspectors is kept for the
pairwise view. `spread` is the item's variance: per case, the population variance of the verdicts coded
pass = 1, fail = 0 (不适用 leaves the case out), averaged over the cases two or more inspectors judged.
"""
from __future__ import annotations

from itertools import combinations
from typing import Sequence

import krippendorff
import numpy as np
import pandas as pd

from domain.quality import cohen_kappa

CODES = {"pass": 0, "fail": 1, "na": 2}  # nominal categories for alpha (the numbers carry no order)
DEFAULT_THRESHOLD = 0.1  # one dissent among three inspectors gives 0.22; unanimity 0


def alpha(matrix: Sequence[Sequence[float]], level: str) -> float | None:
    """Krippendorff's alpha of a raters × units matrix (NaN where a rater gave no value); None when there
    is nothing to compare (fewer than two values in every unit, or a single value overall)."""
    data = np.asarray(matrix, dtype=float)
    if data.size == 0 or data.shape[0] < 2:
        return None
    pairable = (np.sum(~np.isnan(data), axis=0) >= 2)
    if not pairable.any():
        return None
    values = data[:, pairable]
    if len(np.unique(values[~np.isnan(values)])) < 2:
        return 1.0  # every pairable value the same: full agreement (the formula divides by zero)
    return float(krippendorff.alpha(reliability_data=values, level_of_measurement=level))


def verdict_matrix(answers: pd.DataFrame, item_key: str | None = None) -> tuple[list[str], np.ndarray]:
    """Raters × units for nominal alpha: units are cases (one item) or case × item pairs (all items)."""
    frame = answers if item_key is None else answers[answers["item_key"] == item_key]
    if frame.empty:
        return [], np.empty((0, 0))
    unit = frame["case_no"] + "\x1f" + frame["item_key"]
    table = (frame.assign(unit=unit, code=frame["verdict"].map(CODES))
             .pivot_table(index="inspector", columns="unit", values="code", aggfunc="first"))
    return list(table.index), table.to_numpy(dtype=float)


def spread(answers: pd.DataFrame, item_key: str) -> float | None:
    frame = answers[(answers["item_key"] == item_key) & answers["verdict"].isin(["pass", "fail"])]
    per_case = (frame.assign(x=(frame["verdict"] == "pass").astype(float))
                .groupby("case_no")["x"].agg(["var", "count"]))
    per_case = per_case[per_case["count"] >= 2]
    if per_case.empty:
        return None
    population_var = per_case["var"] * (per_case["count"] - 1) / per_case["count"]
    return float(population_var.mean())


def percent_agreement(answers: pd.DataFrame, item_key: str) -> float | None:
    """Share of inspector pairs, over the cases, that gave the same verdict (in %)."""
    frame = answers[answers["item_key"] == item_key]
    same = total = 0
    for _case, group in frame.groupby("case_no"):
        for a, b in combinations(group["verdict"].tolist(), 2):
            total += 1
            same += a == b
    return None if total == 0 else 100.0 * same / total


def items_table(answers: pd.DataFrame, items: Sequence[dict], threshold: float = DEFAULT_THRESHOLD,
                consensus: dict[tuple[str, str], str] | None = None) -> pd.DataFrame:
    """Per scorecard item: cases compared, percent agreement, spread, nominal alpha, whether the spread is
    above the threshold (to discuss), and how many inspectors' answers differ from the consensus set."""
    rows = []
    for item in items:
        key = item["key"]
        raters, matrix = verdict_matrix(answers, key)
        compared = int(np.sum(np.sum(~np.isnan(matrix), axis=0) >= 2)) if matrix.size else 0
        s = spread(answers, key)
        off = None
        if consensus:
            mine = answers[answers["item_key"] == key]
            agreed = mine.apply(lambda r: consensus.get((r["case_no"], key)), axis=1) if not mine.empty else []
            off = int(sum(1 for v, c in zip(mine["verdict"], agreed) if c is not None and v != c)) if len(mine) else 0
        rows.append({"item_key": key, "clause": item["clause"], "title_zh": item["title_zh"],
                     "title_en": item["title_en"], "cases": compared,
                     "agreement": percent_agreement(answers, key), "spread": s,
                     "alpha": alpha(matrix, "nominal") if compared else None,
                     "discuss": s is not None and s > threshold, "off_consensus": off})
    return pd.DataFrame(rows)


def pairs_table(answers: pd.DataFrame) -> pd.DataFrame:
    """Per pair of inspectors: items both judged, percent agreement and Cohen's kappa."""
    rows = []
    for a, b in combinations(sorted(answers["inspector"].unique()), 2):
        left = answers[answers["inspector"] == a].set_index(["case_no", "item_key"])["verdict"]
        right = answers[answers["inspector"] == b].set_index(["case_no", "item_key"])["verdict"]
        both = left.to_frame("a").join(right.to_frame("b"), how="inner")
        if both.empty:
            continue
        rows.append({"a": a, "b": b, "n": len(both), "agreement": 100.0 * float((both["a"] == both["b"]).mean()),
                     "kappa": cohen_kappa(both["a"].tolist(), both["b"].tolist())})
    return pd.DataFrame(rows, columns=["a", "b", "n", "agreement", "kappa"])


def overall(answers: pd.DataFrame, scores: pd.DataFrame) -> dict[str, float | None]:
    """Alpha over every case × item (nominal) and over the case scores (interval)."""
    _raters, matrix = verdict_matrix(answers)
    score_matrix = (scores.pivot_table(index="inspector", columns="case_no", values="score", aggfunc="first")
                    .to_numpy(dtype=float)) if not scores.empty else np.empty((0, 0))
    return {"alpha_verdicts": alpha(matrix, "nominal") if matrix.size else None,
            "alpha_scores": alpha(score_matrix, "interval") if score_matrix.size else None}


LEANING_POINTS = 5.0  # percentage points of "pass" above (lenient) or below (strict) the reference


def _pass_diff(verdicts: pd.Series, reference: pd.Series) -> pd.Series:
    return (verdicts == "pass").astype(float) - (reference == "pass").astype(float)


def graders(assessed: pd.DataFrame, items: pd.DataFrame, agreed: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grade the graders: per inspector, how often she overrides the engine and how far her pass rate lies
    from the engine's and from the consensus answers (percentage points; + lenient, − strict), and the
    monthly trend against the engine. Only pass/fail verdicts compare (不适用 is about applicability)."""
    judged = items.merge(assessed[["id", "inspector", "month"]], left_on="assessment_id", right_on="id")
    judged = judged[judged["verdict"].isin(["pass", "fail"]) & judged["engine_verdict"].isin(["pass", "fail"])]
    judged = judged.assign(diff=_pass_diff(judged["verdict"], judged["engine_verdict"]) * 100,
                           override=(judged["verdict"] != judged["engine_verdict"]).astype(float) * 100)
    vs_engine = judged.groupby("inspector").agg(engine_n=("diff", "size"), engine_diff=("diff", "mean"),
                                                override_share=("override", "mean"))
    both = agreed[agreed["verdict"].isin(["pass", "fail"]) & agreed["consensus"].isin(["pass", "fail"])]
    both = both.assign(diff=_pass_diff(both["verdict"], both["consensus"]) * 100)
    vs_consensus = both.groupby("inspector").agg(consensus_n=("diff", "size"), consensus_diff=("diff", "mean"))
    table = vs_engine.join(vs_consensus, how="outer").reset_index()
    if table.empty:
        return (pd.DataFrame(columns=["inspector", "engine_n", "engine_diff", "override_share", "consensus_n",
                                      "consensus_diff", "leaning"]),
                pd.DataFrame(columns=["inspector", "month", "engine_diff", "n"]))
    for column in ("engine_n", "consensus_n"):
        table[column] = pd.to_numeric(table[column], errors="coerce").fillna(0).astype(int)

    def leaning(row) -> str:
        basis = row["consensus_diff"] if row["consensus_n"] >= 5 else row["engine_diff"]
        if pd.isna(basis):
            return "unknown"
        return "lenient" if basis > LEANING_POINTS else "strict" if basis < -LEANING_POINTS else "in_step"

    table["leaning"] = table.apply(leaning, axis=1)
    trend = (judged.groupby(["inspector", "month"]).agg(engine_diff=("diff", "mean"), n=("diff", "size"))
             .reset_index())
    return table[["inspector", "engine_n", "engine_diff", "override_share", "consensus_n", "consensus_diff",
                  "leaning"]], trend
