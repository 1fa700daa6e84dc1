"""The automatic check of every closed case (#19 item 5): an engine-only score on the scorecard items the
rules can judge, from the stored obligations, with the same verdict rules as the assessment form's
pre-filled verdicts (domain.scorecard.engine_verdict; tests/test_autocheck.py compares the two case by
case). It is labelled automatic everywhere and never stored with, or averaged into, the inspectors'
scores: items the inspector alone judges, and items the engine leaves open (a rule under review, a
deadline not yet due), are not part of it.

Column-wise (pandas/numpy) rather than case by case: a results page over five months of a large centre
checks hundreds of thousands of cases (benchmarks/bench_autocheck.py).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Integer, String, case, select, type_coerce
from sqlalchemy.orm import Session

from db.models import Case, Handler, Obligation, Team
from domain.config import local_zone

CHUNK = 900  # ids per IN (...) list: under SQLite's variable limit on every version in use
COLUMNS = ["case_id", "case_no", "handler", "team", "closed_at", "month", "auto_score", "auto_passed",
           "judged", "failed"]
NONE, PASS, UNDECIDED, FAIL = 0, 1, 2, 3  # an item's verdict is its rules' strongest vote


CASE_COLUMNS = ["case_id", "case_no", "received_at", "closed_at", "survey_at", "satisfaction", "transferred_to",
                "acceptance", "demand_excessive", "typical", "handler_id", "team_id"]
OWED_COLUMNS = ["case_id", "rule_id", "state", "due_at", "evidence"]


def _raw(session: Session, q) -> list[tuple]:
    """The driver's own tuples: no per-value type processing (instants as text on SQLite, naive UTC on
    PostgreSQL; booleans as 0/1 on SQLite), parsed column-wise below. Per-value processing was two thirds
    of the time (profile in benchmarks/bench_autocheck.py's docstring)."""
    result = session.connection().execute(q)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _load(session: Session, ids: list[int], fields_rules: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cases and their stored obligations. Ids that fill most of their range (a period's cases) are
    read as one id range and filtered here; scattered ids are read in IN (...) chunks."""
    text = lambda c: type_coerce(c, String)  # noqa: E731 - raw instants
    case_q = select(Case.id, Case.case_no, text(Case.received_at), text(Case.closed_at), text(Case.survey_at),
                    Case.satisfaction, Case.transferred_to, Case.acceptance, type_coerce(Case.demand_excessive, Integer),
                    type_coerce(Case.typical, Integer), Case.handler_id, Case.team_id)
    # the evidence (JSON) matters only for a breach of a rule some item restricts to its own fields
    owed_q = select(Obligation.case_id, Obligation.rule_id, Obligation.state, text(Obligation.due_at),
                    case((Obligation.rule_id.in_(sorted(fields_rules)) & (Obligation.state != "met"),
                          Obligation.evidence), else_=None))
    lo, hi = ids[0], ids[-1]
    if len(ids) >= 0.5 * (hi - lo + 1):
        cases = _raw(session, case_q.where(Case.id.between(lo, hi)))
        owed = _raw(session, owed_q.where(Obligation.case_id.between(lo, hi)))
    else:
        cases, owed = [], []
        for n in range(0, len(ids), CHUNK):
            part = ids[n:n + CHUNK]
            cases += _raw(session, case_q.where(Case.id.in_(part)))
            owed += _raw(session, owed_q.where(Obligation.case_id.in_(part)))
    wanted = set(ids)
    cases = pd.DataFrame(cases, columns=CASE_COLUMNS)
    owed = pd.DataFrame(owed, columns=OWED_COLUMNS)
    cases = cases[cases["case_id"].isin(wanted)].sort_values("case_id").reset_index(drop=True)
    owed = owed[owed["case_id"].isin(wanted)].reset_index(drop=True)
    return cases, owed


def _months(instants: pd.Series) -> pd.Series:
    """Local calendar month (YYYY-MM) of each instant, "" for none (one label per month, not per row)."""
    local = instants.dt.tz_convert(str(local_zone()))
    codes = (local.dt.year * 100 + local.dt.month).fillna(0).astype(int)
    return codes.map({c: f"{c // 100}-{c % 100:02d}" if c else "" for c in codes.unique()})


def _utc(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column, utc=True, format="ISO8601")


def _applicable(cases: pd.DataFrame, now: pd.Timestamp) -> dict[str, np.ndarray]:
    """rules/applies.applicable_checks, column-wise: which check rules apply to each case as of `now`."""
    started = (_utc(cases["received_at"]) <= now).to_numpy()
    closed_at = _utc(cases["closed_at"])
    closed = (closed_at.notna() & (closed_at <= now)).to_numpy()
    survey_at = _utc(cases["survey_at"])
    surveyed = (survey_at.isna() | (survey_at <= now)).to_numpy()
    dissatisfied = (cases["satisfaction"] == "dissatisfied").to_numpy() & surveyed
    transferred = cases["transferred_to"].fillna("").astype(str).str.strip().ne("").to_numpy()
    accepted = (cases["acceptance"] == "accepted").to_numpy()
    rejected = (cases["acceptance"] == "rejected").to_numpy()
    excessive = pd.to_numeric(cases["demand_excessive"]).fillna(0).astype(bool).to_numpy()  # NULL: not known
    typical = pd.to_numeric(cases["typical"]).fillna(0).astype(bool).to_numpy()
    out = {"REC-ACCEPTANCE": accepted, "SCOPE-REJECTED": rejected, "SCOPE-GROUND": rejected,
           "REC-TRANSFER": transferred, "REC-DEPT-SOLUTION": transferred & closed, "REC-DECISION": closed,
           "SAT-SURVEY": closed, "SAT-ROOT-CAUSE": dissatisfied, "SAT-ALTERNATIVES": dissatisfied & excessive,
           "ARC-TYPICAL": typical}
    return {rule: started & applies for rule, applies in out.items()}


def _votes(owed: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """Each stored obligation's vote (db.obligations.live_status, then engine_verdict's reading of it)."""
    state = owed["state"]
    due = _utc(owed["due_at"])  # warn_at only tells "at risk" from "not yet due": both leave it open
    is_open = (state == "open").to_numpy()
    breached = (state == "breached").to_numpy() | (is_open & (due.notna() & (due < now)).to_numpy())
    undecided = (state == "review").to_numpy() | is_open  # at risk or not yet due: the inspector decides
    vote = np.where(breached, FAIL, np.where(undecided, UNDECIDED, PASS))
    return owed.assign(vote=vote, breached=breached)


def _only_other_fields(evidence: str | None, fields: set[str]) -> bool:
    """A record breach that names missing fields, none of them the item's own."""
    missing = set((json.loads(evidence) or {}).get("missing") or ()) if evidence else set()
    return bool(missing) and not (missing & fields)


def auto_scores(session: Session, case_ids: Sequence[int], card: dict[str, Any], now: datetime) -> pd.DataFrame:
    """One row per case: the automatic score (0–100 over the items the engine judged, None when it judged
    none), pass or fail against the card's pass mark, how many items it judged and which failed."""
    ids = sorted({int(i) for i in case_ids})
    if not ids:
        return pd.DataFrame(columns=COLUMNS)
    items = [i for i in card["items"] if i.get("rules")]
    fields_rules = {r for i in items if i.get("fields") for r in i["rules"]}
    cases, owed = _load(session, ids, fields_rules)
    stamp = pd.Timestamp(now).tz_convert("UTC") if pd.Timestamp(now).tzinfo else pd.Timestamp(now, tz="UTC")
    applicable = _applicable(cases, stamp)
    owed = _votes(owed, stamp)
    position = pd.Series(np.arange(len(cases)), index=cases["case_id"].to_numpy())
    owed["row"] = position.reindex(owed["case_id"].to_numpy()).to_numpy()
    by_rule = owed.groupby("rule_id").indices  # rule -> row positions, found once
    verdict = np.zeros((len(cases), len(items)), dtype=np.int8)
    for k, item in enumerate(items):
        fields = set(item.get("fields") or ())
        for rule in item["rules"]:
            vote = np.where(applicable[rule], PASS, NONE) if rule in applicable else np.zeros(len(cases), dtype=np.int8)
            mine = owed.iloc[by_rule[rule]] if rule in by_rule else owed.iloc[0:0]
            if not mine.empty:
                votes = mine["vote"].to_numpy()
                if fields:  # a breach counts against this item only when one of its own fields is missing
                    loose = mine["breached"].to_numpy() & mine["evidence"].map(
                        lambda e: _only_other_fields(e, fields)).to_numpy(dtype=bool)
                    votes = np.where(loose, PASS, votes)
                vote = vote.astype(np.int8)
                vote[mine["row"].to_numpy()] = votes  # a stored row replaces the applicability guess
            verdict[:, k] = np.maximum(verdict[:, k], vote)
    weights = np.array([float(i["weight"]) for i in items])
    critical = np.array([bool(i["critical"]) for i in items])
    decided = (verdict == PASS) | (verdict == FAIL)
    total = (decided * weights).sum(axis=1)
    got = ((verdict == PASS) * weights).sum(axis=1)
    critical_failed = ((verdict == FAIL) & critical).any(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(critical_failed, 0.0, np.round(100.0 * got / total, 1))
    scored = total > 0
    keys = np.array([i["key"] for i in items], dtype=object)
    handlers = dict(session.execute(select(Handler.id, Handler.name)).all())
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    closed = _utc(cases["closed_at"])
    frame = pd.DataFrame({
        "case_id": cases["case_id"], "case_no": cases["case_no"], "handler": cases["handler_id"].map(handlers),
        "team": cases["team_id"].map(teams), "closed_at": closed,
        "month": _months(closed),
        "auto_score": pd.Series(np.where(scored, value, np.nan)).astype(object).where(scored, None),
        "auto_passed": pd.Series(~critical_failed & (value >= card["pass_mark"])).astype(object).where(scored, None),
        "judged": decided.sum(axis=1),
        "failed": [list(keys[row]) for row in (verdict == FAIL)],
    })
    return frame.sort_values("case_id").reset_index(drop=True)


def reference_scores(session: Session, case_ids: Sequence[int], card: dict[str, Any],
                     now: datetime) -> dict[int, tuple[float | None, list[str], int]]:
    """The same check case by case, through the assessment form's own code path (case_record,
    applicable_checks, engine_verdict, score): slow, kept as the reference that tests and the benchmark hold
    `auto_scores` to. Returns case id -> (score, failed item keys, items judged)."""
    from db.obligations import live_status
    from db.queries import case_record
    from domain.scorecard import engine_verdict, score
    from rules.applies import applicable_checks

    out = {}
    judged_items = [i for i in card["items"] if i.get("rules")]
    for case_id in case_ids:
        owed = [{"rule_id": o.rule_id, "state": o.state, "status": live_status(o.state, o.due_at, o.warn_at, now),
                 "evidence": json.loads(o.evidence) if o.evidence else {}}
                for o in session.scalars(select(Obligation).where(Obligation.case_id == case_id))]
        record = case_record(session, session.get(Case, case_id).case_no)
        applicable = applicable_checks(record, now)
        verdicts = {i["key"]: v for i in judged_items
                    if (v := engine_verdict(i, owed, lambda o: "", applicable).verdict) is not None}
        scored = [i for i in judged_items if i["key"] in verdicts]
        result = score(scored, verdicts, card["pass_mark"]) if scored else None
        out[case_id] = (None if result is None else result.score,
                        sorted(k for k, v in verdicts.items() if v == "fail"),
                        sum(1 for v in verdicts.values() if v != "na"))
    return out


def closed_case_ids(session: Session, start: datetime, end: datetime, teams: Sequence[str] = ()) -> list[int]:
    """Cases closed in [start, end), optionally of some teams: the population of the automatic check."""
    q = select(Case.id).where(Case.closed_at.is_not(None), Case.closed_at >= start, Case.closed_at < end)
    if teams:
        q = q.join(Team, Team.id == Case.team_id).where(Team.name.in_(list(teams)))
    return list(session.scalars(q))
