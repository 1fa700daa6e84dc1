"""Blind calibration sessions (6.3): a calibration sample with a lead, a deadline and a spread threshold.

Until the session closes (the lead or an administrator closes it, or its deadline passes) every
participant sees only her own answers and how many answers each colleague has given — never their
verdicts, whoever asks (the check is here, on the server, not on the page). After it closes, answers are
frozen, everyone sees everyone's, and the lead sets a consensus answer per case and item.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.audit import record
from db.models import (Assessment, AssessmentItem, CalibrationConsensus, CalibrationSession, Case, SampleItem,
                       SamplingPlan)
from domain.calibration import DEFAULT_THRESHOLD
from domain.i18n import Said
from domain.roles import require
from domain.scorecard import VERDICTS


class CalibrationRefused(ValueError):
    """A calibration action that is not allowed now (the message says why)."""


def open_session(session: Session, plan_id: int, lead: str, deadline: datetime,
                 threshold: float = DEFAULT_THRESHOLD) -> int:
    row = CalibrationSession(plan_id=plan_id, lead=lead, deadline=deadline, variance_threshold=float(threshold))
    session.add(row)
    session.flush()
    return row.id


def is_closed(row: CalibrationSession | dict, now: datetime) -> bool:
    closed_at = row["closed_at"] if isinstance(row, dict) else row.closed_at
    deadline = row["deadline"] if isinstance(row, dict) else row.deadline
    return closed_at is not None or now >= deadline


def closed_for_plan(session: Session, plan_id: int, now: datetime) -> bool:
    row = session.scalar(select(CalibrationSession).where(CalibrationSession.plan_id == plan_id))
    return row is not None and is_closed(row, now)


def sessions(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every session, newest first, with its plan's name, inspectors, cases and answers given so far."""
    answered = (select(SampleItem.plan_id, func.count(Assessment.id).label("answered"),
                       func.count(SampleItem.id).label("n_items"), func.count(func.distinct(SampleItem.case_id)).label("cases"))
                .outerjoin(Assessment, Assessment.sample_item_id == SampleItem.id)
                .group_by(SampleItem.plan_id).subquery())
    q = (select(CalibrationSession, SamplingPlan.name, SamplingPlan.params, answered.c.answered, answered.c.n_items,
                answered.c.cases)
         .join(SamplingPlan, SamplingPlan.id == CalibrationSession.plan_id)
         .outerjoin(answered, answered.c.plan_id == CalibrationSession.plan_id)
         .order_by(CalibrationSession.id.desc()))
    out = []
    for row, name, params, n_answered, n_items, n_cases in session.execute(q):
        out.append({"id": row.id, "plan_id": row.plan_id, "name": name, "lead": row.lead, "deadline": row.deadline,
                    "threshold": row.variance_threshold, "closed_at": row.closed_at, "closed_by": row.closed_by,
                    "closed": is_closed(row, now), "inspectors": json.loads(params).get("inspectors", []),
                    "answered": int(n_answered or 0), "items": int(n_items or 0), "cases": int(n_cases or 0)})
    return out


def _session(session: Session, session_id: int) -> CalibrationSession:
    row = session.get(CalibrationSession, session_id)
    if row is None:
        raise CalibrationRefused(Said("err.calibration.none", session_id=session_id))
    return row


def progress(session: Session, session_id: int) -> pd.DataFrame:
    """Per inspector: cases given and cases answered (no verdicts: safe to show while the session is open)."""
    row = _session(session, session_id)
    q = (select(SampleItem.assignee, func.count(SampleItem.id), func.count(Assessment.id))
         .outerjoin(Assessment, Assessment.sample_item_id == SampleItem.id)
         .where(SampleItem.plan_id == row.plan_id).group_by(SampleItem.assignee).order_by(SampleItem.assignee))
    return pd.DataFrame(session.execute(q).all(), columns=["inspector", "given", "answered"])


def answers(session: Session, session_id: int, viewer: str, now: datetime, whose: str | None = None) -> pd.DataFrame:
    """Item verdicts of the session: `whose` answers only, or everyone's (`whose=None`).

    While the session is open only the viewer's own answers may be read: asking for anyone else's (or for
    everyone's) is refused, whatever the role."""
    row = _session(session, session_id)
    if not is_closed(row, now) and whose != viewer:
        raise CalibrationRefused(Said("err.calibration.blind"))
    q = (select(Case.case_no, Assessment.inspector, AssessmentItem.item_key, AssessmentItem.clause,
                AssessmentItem.verdict, AssessmentItem.engine_verdict)
         .join(Assessment, Assessment.id == AssessmentItem.assessment_id)
         .join(SampleItem, SampleItem.id == Assessment.sample_item_id)
         .join(Case, Case.id == Assessment.case_id)
         .where(SampleItem.plan_id == row.plan_id)
         .order_by(Case.case_no, AssessmentItem.item_key, Assessment.inspector))
    if whose is not None:
        q = q.where(Assessment.inspector == whose)
    cols = ["case_no", "inspector", "item_key", "clause", "verdict", "engine_verdict"]
    return pd.DataFrame([tuple(r) for r in session.execute(q)], columns=cols)


def scores(session: Session, session_id: int, viewer: str, now: datetime) -> pd.DataFrame:
    row = _session(session, session_id)
    if not is_closed(row, now):
        raise CalibrationRefused(Said("err.calibration.blind"))
    q = (select(Case.case_no, Assessment.inspector, Assessment.score)
         .join(SampleItem, SampleItem.id == Assessment.sample_item_id).join(Case, Case.id == Assessment.case_id)
         .where(SampleItem.plan_id == row.plan_id))
    return pd.DataFrame([tuple(r) for r in session.execute(q)], columns=["case_no", "inspector", "score"])


def _may_lead(row: CalibrationSession, actor: str, role: str | None) -> None:
    require(role, "assess")
    if actor != row.lead and role != "admin":
        raise CalibrationRefused(Said("err.calibration.not_lead", lead=row.lead))


def close_session(session: Session, session_id: int, actor: str, role: str | None, now: datetime) -> None:
    row = _session(session, session_id)
    _may_lead(row, actor, role)
    if row.closed_at is not None:
        raise CalibrationRefused(Said("err.calibration.closed"))
    row.closed_at, row.closed_by = now, actor
    record(session, actor, "close_calibration", "calibration_session", str(row.id), None, {"closed_at": now})


def set_consensus(session: Session, session_id: int, case_no: str, item_key: str, verdict: str, actor: str,
                  role: str | None, now: datetime) -> None:
    """The lead's agreed answer for one case and item, once the session has closed."""
    row = _session(session, session_id)
    _may_lead(row, actor, role)
    if not is_closed(row, now):
        raise CalibrationRefused(Said("err.calibration.still_open"))
    if verdict not in VERDICTS:
        raise CalibrationRefused(Said("err.calibration.verdict", verdict=repr(verdict)))
    case_id = session.scalar(select(Case.id).join(SampleItem, SampleItem.case_id == Case.id)
                             .where(Case.case_no == case_no, SampleItem.plan_id == row.plan_id).limit(1))
    if case_id is None:
        raise CalibrationRefused(Said("err.calibration.case", case_no=case_no))
    existing = session.scalar(select(CalibrationConsensus).where(CalibrationConsensus.session_id == row.id,
                                                                 CalibrationConsensus.case_id == case_id,
                                                                 CalibrationConsensus.item_key == item_key))
    before = None if existing is None else {"verdict": existing.verdict}
    if existing is None:
        existing = CalibrationConsensus(session_id=row.id, case_id=case_id, item_key=item_key)
        session.add(existing)
    existing.verdict, existing.set_by, existing.set_at = verdict, actor, now
    record(session, actor, "set_consensus", "calibration_session", f"{row.id} {case_no} {item_key}", before,
           {"verdict": verdict})


def consensus(session: Session, session_id: int) -> dict[tuple[str, str], str]:
    q = (select(Case.case_no, CalibrationConsensus.item_key, CalibrationConsensus.verdict)
         .join(Case, Case.id == CalibrationConsensus.case_id).where(CalibrationConsensus.session_id == session_id))
    return {(c, k): v for c, k, v in session.execute(q)}


def all_consensus(session: Session) -> pd.DataFrame:
    """Every consensus answer with the inspectors' answers to the same case and item (for grading the
    graders): one row per inspector answer."""
    q = (select(Assessment.inspector, Assessment.assessed_at, AssessmentItem.item_key, AssessmentItem.verdict,
                CalibrationConsensus.verdict.label("consensus"))
         .join(AssessmentItem, AssessmentItem.assessment_id == Assessment.id)
         .join(SampleItem, SampleItem.id == Assessment.sample_item_id)
         .join(CalibrationSession, CalibrationSession.plan_id == SampleItem.plan_id)
         .join(CalibrationConsensus, (CalibrationConsensus.session_id == CalibrationSession.id)
               & (CalibrationConsensus.case_id == Assessment.case_id)
               & (CalibrationConsensus.item_key == AssessmentItem.item_key)))
    return pd.DataFrame([tuple(r) for r in session.execute(q)],
                        columns=["inspector", "assessed_at", "item_key", "verdict", "consensus"])
