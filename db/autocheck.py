"""The automatic check of every closed case (#19 item 5): an engine-only score on the scorecard items the
rules can judge, computed from the stored obligations the same way the assessment form pre-fills its
verdicts (domain.scorecard.engine_verdict). It is labelled automatic everywhere and never stored with, or
averaged into, the inspectors' scores: items the inspector alone judges, and items the engine leaves open
(a rule under review, a deadline not yet due), are simply not part of it.
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any, Sequence

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Case, Handler, Obligation, Team
from db.obligations import live_status
from domain.config import local_zone
from domain.scorecard import engine_verdict, score
from rules.applies import applicable_checks

CHUNK = 900  # ids per IN (...) list: under SQLite's variable limit on every version in use
COLUMNS = ["case_id", "case_no", "handler", "team", "closed_at", "month", "auto_score", "auto_passed",
           "judged", "failed"]
_RECORD = (Case.id, Case.case_no, Case.received_at, Case.closed_at, Case.survey_at, Case.satisfaction,
           Case.transferred_to, Case.acceptance, Case.demand_excessive, Case.typical, Case.handler_id, Case.team_id)


def auto_scores(session: Session, case_ids: Sequence[int], card: dict[str, Any], now: datetime) -> pd.DataFrame:
    """One row per case: the automatic score (0–100 over the items the engine judged, None when it judged
    none), pass or fail against the card's pass mark, how many items it judged and which failed."""
    ids = sorted(set(int(i) for i in case_ids))
    if not ids:
        return pd.DataFrame(columns=COLUMNS)
    judged_items = [i for i in card["items"] if i.get("rules")]
    handlers = dict(session.execute(select(Handler.id, Handler.name)).all())
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    rows = []
    for n in range(0, len(ids), CHUNK):
        part = ids[n:n + CHUNK]
        owed: dict[int, list[dict[str, Any]]] = defaultdict(list)
        q = (select(Obligation.case_id, Obligation.rule_id, Obligation.state, Obligation.due_at, Obligation.warn_at,
                    Obligation.evidence).where(Obligation.case_id.in_(part)))
        for case_id, rule_id, state, due_at, warn_at, evidence in session.execute(q):
            owed[case_id].append({"rule_id": rule_id, "state": state,
                                  "status": live_status(state, due_at, warn_at, now),
                                  "evidence": json.loads(evidence) if evidence else {}})
        for r in session.execute(select(*_RECORD).where(Case.id.in_(part))):
            record = dict(zip(("id", "case_no", "received_at", "closed_at", "survey_at", "satisfaction",
                               "transferred_to", "acceptance", "demand_excessive", "typical"), r[:10]))
            applicable = applicable_checks(record, now)
            verdicts = {}
            for item in judged_items:
                v = engine_verdict(item, owed[record["id"]], lambda o: "", applicable).verdict
                if v is not None:
                    verdicts[item["key"]] = v
            scored = [i for i in judged_items if i["key"] in verdicts]
            result = score(scored, verdicts, card["pass_mark"]) if scored else None
            rows.append({"case_id": record["id"], "case_no": record["case_no"], "handler": handlers.get(r[10]),
                         "team": teams.get(r[11]), "closed_at": record["closed_at"],
                         "auto_score": None if result is None else result.score,
                         "auto_passed": None if result is None else result.passed,
                         "judged": sum(1 for v in verdicts.values() if v != "na"),
                         "failed": [k for k, v in verdicts.items() if v == "fail"]})
    frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "month"])
    closed = pd.to_datetime(frame["closed_at"], utc=True)
    frame.insert(5, "month", closed.dt.tz_convert(str(local_zone())).dt.strftime("%Y-%m").where(closed.notna(), ""))
    return frame


def closed_case_ids(session: Session, start: datetime, end: datetime, teams: Sequence[str] = ()) -> list[int]:
    """Cases closed in [start, end), optionally of some teams: the population of the automatic check."""
    q = select(Case.id).where(Case.closed_at.is_not(None), Case.closed_at >= start, Case.closed_at < end)
    if teams:
        q = q.join(Team, Team.id == Case.team_id).where(Team.name.in_(list(teams)))
    return list(session.scalars(q))
