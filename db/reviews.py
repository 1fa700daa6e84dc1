"""Review of rejected cases (7.1.2). Every rejection waits for a supervisor (SCOPE-REJECTED); the review
confirms the ground — one of the three the standard permits — or overturns the rejection: the case should
have been accepted, which stays on record as a finding against the handler.

A review is one transaction: the review row, its audit row and the re-evaluation of the case."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.audit import record
from db.models import Case, Handler, RejectionReview, Team
from db.obligations import reevaluate
from domain import clock
from domain.i18n import Said
from domain.roles import require
from rules.facts import VALID_GROUNDS

OUTCOMES = ("confirmed", "overturned")


class ReviewRefused(ValueError):
    """The review was not recorded; the message says why."""


def review_queue(session: Session, now: datetime, teams: Sequence[str] = (), limit: int = 500) -> list[dict[str, Any]]:
    """Rejected cases received by `now` without a review, oldest first."""
    q = (select(Case.id, Case.case_no, Case.received_at, Case.rejection_reason, Case.rejection_informed_at,
                Case.category, Case.subcategory, Case.description, Case.customer_name, Case.version,
                Handler.name.label("handler"), Team.name.label("team"))
         .join(Handler, Handler.id == Case.handler_id).outerjoin(Team, Team.id == Case.team_id)
         .outerjoin(RejectionReview, RejectionReview.case_id == Case.id)
         .where(Case.acceptance == "rejected", Case.received_at <= now, RejectionReview.id.is_(None))
         .order_by(Case.received_at, Case.id).limit(limit))
    if teams:
        q = q.where(Team.name.in_(list(teams)))
    return [r._asdict() for r in session.execute(q)]


def waiting_count(session: Session, now: datetime, teams: Sequence[str] = ()) -> int:
    q = (select(func.count()).select_from(Case).outerjoin(RejectionReview, RejectionReview.case_id == Case.id)
         .where(Case.acceptance == "rejected", Case.received_at <= now, RejectionReview.id.is_(None)))
    if teams:
        q = q.join(Team, Team.id == Case.team_id).where(Team.name.in_(list(teams)))
    return int(session.scalar(q) or 0)


def review_rejection(session: Session, case_no: str, expected_version: int, outcome: str, ground: str | None,
                     note: str, actor: str, role: str | None, now: datetime | None = None) -> None:
    require(role, "review_rejection")
    now = now or clock.now_precise()
    note = (note or "").strip()
    case = session.execute(select(Case.id, Case.acceptance, Case.version, Case.handler_id, Case.team_id,
                                  Case.rejection_reason).where(Case.case_no == case_no)).first()
    if case is None:
        raise ReviewRefused(Said("err.reviews.1", case_no=case_no))
    if case.acceptance != "rejected":
        raise ReviewRefused(Said("err.reviews.2", case_no=case_no))
    if outcome not in OUTCOMES:
        raise ReviewRefused(Said("err.reviews.3", value=', '.join(OUTCOMES)))
    if outcome == "confirmed" and ground not in VALID_GROUNDS:
        raise ReviewRefused(Said("err.reviews.4"))
    if outcome == "overturned" and not note:
        raise ReviewRefused(Said("err.reviews.5"))
    if session.scalar(select(RejectionReview.id).where(RejectionReview.case_id == case.id)) is not None:
        raise ReviewRefused(Said("err.reviews.6", case_no=case_no))
    bumped = session.execute(update(Case).where(Case.id == case.id, Case.version == expected_version)
                             .values(version=Case.version + 1, updated_at=now)
                             .execution_options(synchronize_session=False))
    if bumped.rowcount != 1:
        raise ReviewRefused(Said("err.reviews.7", case_no=case_no))
    session.add(RejectionReview(case_id=case.id, outcome=outcome, ground=ground if outcome == "confirmed" else None,
                                note=note, reviewer=actor, reviewed_at=now, handler_id=case.handler_id,
                                team_id=case.team_id))
    session.flush()
    record(session, actor, "review_rejection", "case", case_no, {"rejection_reason": case.rejection_reason},
           {"outcome": outcome, "ground": ground, "note": note})
    reevaluate(session, [case.id], now)


def case_review(session: Session, case_id: int) -> dict[str, Any] | None:
    r = session.scalar(select(RejectionReview).where(RejectionReview.case_id == case_id))
    if r is None:
        return None
    return {"outcome": r.outcome, "ground": r.ground, "note": r.note, "reviewer": r.reviewer,
            "reviewed_at": r.reviewed_at}


def overturned(session: Session, since: datetime, until: datetime, teams: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Overturned rejections reviewed in [since, until): findings against the handler who rejected."""
    q = (select(Case.case_no, RejectionReview.reviewed_at, RejectionReview.reviewer, RejectionReview.note,
                Handler.name.label("handler"), Team.name.label("team"))
         .join(Case, Case.id == RejectionReview.case_id)
         .outerjoin(Handler, Handler.id == RejectionReview.handler_id)
         .outerjoin(Team, Team.id == RejectionReview.team_id)
         .where(RejectionReview.outcome == "overturned", RejectionReview.reviewed_at >= since,
                RejectionReview.reviewed_at < until)
         .order_by(RejectionReview.reviewed_at.desc()))
    if teams:
        q = q.where(Team.name.in_(list(teams)))
    return [r._asdict() for r in session.execute(q)]
