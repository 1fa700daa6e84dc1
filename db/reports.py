"""Queries of the daily and weekly supervision reports (the compositions live in services/reports.py).
Deadline figures come from the board's own queries (db.board), so a report and the board agree."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from db import board
from db.models import Case, Handler, Obligation, Team


def breaches_by_team_and_handler(session: Session, now: datetime, f: board.BoardFilters, start: datetime,
                                 end: datetime) -> list[dict[str, Any]]:
    """Deadlines due in [start, min(end, now)) and breached as of now, per team and handler."""
    stop = min(end, now)
    q = (select(Team.name, Handler.name, Obligation.rule_id, func.count())
         .select_from(Obligation).join(Handler, Handler.id == Obligation.handler_id)
         .outerjoin(Team, Team.id == Obligation.team_id)
         .where(*board._conds(session, f), Obligation.due_at >= start, Obligation.due_at < stop,
                or_(Obligation.state == "breached", and_(Obligation.state == "open", Obligation.due_at < now)))
         .group_by(Team.name, Handler.name, Obligation.rule_id))
    return [{"team": t or "", "handler": h, "rule_id": r, "n": int(n)} for t, h, r, n in session.execute(q)]


def longest_open(session: Session, now: datetime, teams: Sequence[str] = (), limit: int = 10) -> list[dict[str, Any]]:
    """Accepted cases still open at `now`, received longest ago first."""
    q = (select(Case.case_no, Case.received_at, Case.category, Case.subcategory, Handler.name.label("handler"),
                Team.name.label("team"))
         .join(Handler, Handler.id == Case.handler_id).outerjoin(Team, Team.id == Case.team_id)
         .where(Case.acceptance == "accepted", Case.received_at <= now,
                or_(Case.closed_at.is_(None), Case.closed_at > now))
         .order_by(Case.received_at, Case.id).limit(limit))
    if teams:
        q = q.where(Team.name.in_(list(teams)))
    return [r._asdict() for r in session.execute(q)]


def dissatisfied(session: Session, start: datetime, end: datetime, teams: Sequence[str] = (),
                 limit: int = 50) -> list[dict[str, Any]]:
    """Customers who said they were dissatisfied in the period's surveys, with the cause found and what was
    offered (no personal data: case number, category, handler)."""
    q = (select(Case.case_no, Case.survey_at, Case.category, Case.subcategory, Case.dissatisfaction_cause,
                Case.alternatives, Case.demand_excessive, Case.customer_name, Handler.name.label("handler"),
                Team.name.label("team"))
         .join(Handler, Handler.id == Case.handler_id).outerjoin(Team, Team.id == Case.team_id)
         .where(Case.satisfaction == "dissatisfied", Case.survey_at >= start, Case.survey_at < end)
         .order_by(Case.survey_at).limit(limit))
    if teams:
        q = q.where(Team.name.in_(list(teams)))
    return [r._asdict() for r in session.execute(q)]


def team_exists(session: Session, name: str) -> bool:
    return session.scalar(select(Team.id).where(Team.name == name)) is not None
