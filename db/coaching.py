"""Coaching a handler on the items her assessments show she needs (6.2, 6.3): created by an inspector or a
team lead from an assessment or from her results, acknowledged by the handler, action items she marks
done, a follow-up that compares her verdicts on the coached items before and after, and, when closed, a
training record with her as attendee (so coaching counts in the training history).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Sequence

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.audit import record
from db.library import record_training
from db.models import Assessment, AssessmentItem, Case, CoachingAction, CoachingSession, Handler, TypicalMark
from domain.i18n import Said
from domain.quality import coaching_follow_up
from domain.roles import require

MAX_ACTIONS = 20


class CoachingRefused(ValueError):
    """A coaching action that cannot be done (the message says why)."""


def create_coaching(session: Session, handler: str, items: Sequence[str], note: str, case_nos: Sequence[str],
                    actions: Sequence[tuple[str, datetime]], follow_up_at: datetime, actor: str, role: str | None,
                    now: datetime, source_assessment_id: int | None = None) -> int:
    require(role, "coach")
    handler_id = session.scalar(select(Handler.id).where(Handler.name == (handler or "").strip()))
    if handler_id is None:
        raise CoachingRefused(Said("err.coaching.handler", handler=handler or ""))
    keys = [k for k in dict.fromkeys(items) if k]
    if not keys:
        raise CoachingRefused(Said("err.coaching.items"))
    if not (note or "").strip():
        raise CoachingRefused(Said("err.coaching.note"))
    if follow_up_at <= now:
        raise CoachingRefused(Said("err.coaching.follow_up"))
    todo = [(text.strip(), due) for text, due in actions if text and text.strip()]
    if not todo:
        raise CoachingRefused(Said("err.coaching.actions"))
    if len(todo) > MAX_ACTIONS:
        raise CoachingRefused(Said("err.coaching.too_many", limit=MAX_ACTIONS))
    for text, due in todo:
        if due is None or due <= now:
            raise CoachingRefused(Said("err.coaching.due", action=text))
    cases = list(dict.fromkeys(c.strip() for c in case_nos if c and c.strip()))
    typical = set(session.scalars(select(Case.case_no).join(TypicalMark, TypicalMark.case_id == Case.id)
                                  .where(Case.case_no.in_(cases), TypicalMark.active.is_(True)))) if cases else set()
    missing = [c for c in cases if c not in typical]
    if missing:
        raise CoachingRefused(Said("err.coaching.case", case_no=missing[0]))
    row = CoachingSession(handler_id=handler_id, items=json.dumps(keys), note=note.strip(),
                          case_nos=json.dumps(cases, ensure_ascii=False), source_assessment_id=source_assessment_id,
                          follow_up_at=follow_up_at, created_by=actor, created_at=now)
    session.add(row)
    session.flush()
    for text, due in todo:
        session.add(CoachingAction(coaching_id=row.id, text=text, due_at=due))
    record(session, actor, "create_coaching", "coaching", str(row.id), None,
           {"handler": handler, "items": keys, "cases": cases, "follow_up_at": follow_up_at,
            "actions": [t for t, _d in todo]})
    return row.id


def _row(session: Session, coaching_id: int) -> CoachingSession:
    row = session.get(CoachingSession, coaching_id)
    if row is None:
        raise CoachingRefused(Said("err.coaching.none", coaching_id=coaching_id))
    return row


def _own(row: CoachingSession, handler_id: int | None) -> None:
    if handler_id is None or row.handler_id != handler_id:
        raise CoachingRefused(Said("err.coaching.not_yours"))


def acknowledge_coaching(session: Session, coaching_id: int, handler_id: int | None, actor: str, role: str | None,
                         now: datetime) -> None:
    require(role, "answer_coaching")
    row = _row(session, coaching_id)
    _own(row, handler_id)
    if row.acknowledged_at is not None:
        raise CoachingRefused(Said("err.coaching.acked"))
    row.acknowledged_at = now
    record(session, actor, "acknowledge_coaching", "coaching", str(row.id), None, {"at": now})


def complete_action(session: Session, action_id: int, handler_id: int | None, actor: str, role: str | None,
                    now: datetime) -> None:
    require(role, "answer_coaching")
    action = session.get(CoachingAction, action_id)
    if action is None:
        raise CoachingRefused(Said("err.coaching.none", coaching_id=action_id))
    row = _row(session, action.coaching_id)
    _own(row, handler_id)
    if row.closed_at is not None:
        raise CoachingRefused(Said("err.coaching.closed"))
    if action.done_at is not None:
        raise CoachingRefused(Said("err.coaching.done"))
    action.done_at = now
    record(session, actor, "complete_coaching_action", "coaching", f"{row.id} {action.id}", None,
           {"message": action.text, "at": now})


def close_coaching(session: Session, coaching_id: int, outcome: str, trainer: str, actor: str, role: str | None,
                   now: datetime) -> int:
    """Close after the follow-up: the outcome is kept and a training record is written (attendee: the
    handler; cases: the typical cases studied). Returns the training record's id."""
    require(role, "coach")
    row = _row(session, coaching_id)
    if row.closed_at is not None:
        raise CoachingRefused(Said("err.coaching.closed"))
    if not (outcome or "").strip():
        raise CoachingRefused(Said("err.coaching.outcome"))
    handler = session.scalar(select(Handler.name).where(Handler.id == row.handler_id))
    training_id = record_training(session, now, trainer, f"辅导：{row.note[:60]}", [handler],
                                  json.loads(row.case_nos), actor)
    row.closed_at, row.outcome, row.training_id = now, outcome.strip(), training_id
    record(session, actor, "close_coaching", "coaching", str(row.id), None, {"outcome": row.outcome})
    return training_id


def _as_dict(row: CoachingSession, handler: str, actions: list[CoachingAction]) -> dict[str, Any]:
    return {"id": row.id, "handler": handler, "handler_id": row.handler_id, "items": json.loads(row.items),
            "note": row.note, "case_nos": json.loads(row.case_nos), "follow_up_at": row.follow_up_at,
            "created_by": row.created_by, "created_at": row.created_at, "acknowledged_at": row.acknowledged_at,
            "closed_at": row.closed_at, "outcome": row.outcome, "training_id": row.training_id,
            "source_assessment_id": row.source_assessment_id,
            "actions": [{"id": a.id, "text": a.text, "due_at": a.due_at, "done_at": a.done_at} for a in actions]}


def coachings(session: Session, handler_id: int | None = None) -> list[dict[str, Any]]:
    q = (select(CoachingSession, Handler.name).join(Handler, Handler.id == CoachingSession.handler_id)
         .order_by(CoachingSession.created_at.desc()))
    if handler_id is not None:
        q = q.where(CoachingSession.handler_id == handler_id)
    out = []
    for row, name in session.execute(q).all():
        actions = list(session.scalars(select(CoachingAction).where(CoachingAction.coaching_id == row.id)
                                       .order_by(CoachingAction.due_at, CoachingAction.id)))
        out.append(_as_dict(row, name, actions))
    return out


def follow_up(session: Session, coaching_id: int, now: datetime) -> pd.DataFrame:
    """The handler's regular-assessment verdicts on the coached items, before the coaching and since."""
    row = _row(session, coaching_id)
    keys = json.loads(row.items)
    q = (select(AssessmentItem.item_key, AssessmentItem.verdict, Assessment.assessed_at)
         .join(Assessment, Assessment.id == AssessmentItem.assessment_id)
         .where(Assessment.handler_id == row.handler_id, Assessment.purpose == "regular",
                AssessmentItem.item_key.in_(keys)))
    frame = pd.DataFrame([tuple(r) for r in session.execute(q)], columns=["item_key", "verdict", "assessed_at"])
    frame["assessed_at"] = pd.to_datetime(frame["assessed_at"], utc=True)
    return coaching_follow_up(frame, keys, pd.Timestamp(row.created_at), pd.Timestamp(row.closed_at or now))


def weak_items(session: Session, handler: str, min_fail: float = 20.0) -> list[str]:
    """Items a handler most often fails in her regular assessments (share failed at or above `min_fail` %),
    worst first: the coaching form's suggestion."""
    q = (select(AssessmentItem.item_key, AssessmentItem.verdict)
         .join(Assessment, Assessment.id == AssessmentItem.assessment_id)
         .join(Handler, Handler.id == Assessment.handler_id)
         .where(Handler.name == handler, Assessment.purpose == "regular",
                AssessmentItem.verdict.in_(["pass", "fail"])))
    frame = pd.DataFrame([tuple(r) for r in session.execute(q)], columns=["item_key", "verdict"])
    if frame.empty:
        return []
    rates = frame.assign(f=(frame["verdict"] == "fail") * 100.0).groupby("item_key")["f"].mean()
    return rates[rates >= min_fail].sort_values(ascending=False).index.tolist()
