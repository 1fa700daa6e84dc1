"""督办 notices: a team lead presses a case's handler about one deadline; the handler acknowledges and
answers. Each write is one transaction with its audit row and a server-side role check; a handler may
only act on notices addressed to her."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.audit import record
from db.models import Case, Handler, Notice, Team
from db.board import DEADLINE_RULES
from domain import clock
from domain.i18n import Said
from domain.roles import require


class NoticeRefused(ValueError):
    """The notice or the answer was not saved; the message says why."""


def send_notice(session: Session, case_no: str, rule_id: str, message: str, reply_by: datetime, actor: str,
                role: str | None, now: datetime | None = None) -> int:
    require(role, "send_notice")
    now = now or clock.now_precise()
    message = (message or "").strip()
    case = session.execute(select(Case.id, Case.handler_id, Case.team_id).where(Case.case_no == case_no)).first()
    if case is None:
        raise NoticeRefused(Said("err.notices.1", case_no=case_no))
    if rule_id not in DEADLINE_RULES:
        raise NoticeRefused(Said("err.notices.2", rule=rule_id))
    if not message:
        raise NoticeRefused(Said("err.notices.3"))
    if not now < reply_by <= now + timedelta(days=30):
        raise NoticeRefused(Said("err.notices.4"))
    notice = Notice(case_id=case.id, rule_id=rule_id, handler_id=case.handler_id, team_id=case.team_id,
                    message=message, reply_by=reply_by, sent_by=actor, sent_at=now)
    session.add(notice)
    session.flush()
    record(session, actor, "send_notice", "case", case_no, None,
           {"notice": notice.id, "rule_id": rule_id, "message": message, "reply_by": reply_by})
    return notice.id


def _mine(session: Session, notice_id: int, handler_id: int | None) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None or handler_id is None or notice.handler_id != handler_id:
        raise NoticeRefused(Said("err.notices.5"))
    return notice


def acknowledge(session: Session, notice_id: int, actor: str, role: str | None, handler_id: int | None,
                now: datetime | None = None) -> None:
    require(role, "answer_notice")
    now = now or clock.now_precise()
    notice = _mine(session, notice_id, handler_id)
    if notice.acknowledged_at is None:
        session.execute(update(Notice).where(Notice.id == notice_id, Notice.acknowledged_at.is_(None))
                        .values(acknowledged_at=now).execution_options(synchronize_session=False))
        record(session, actor, "acknowledge_notice", "notice", str(notice_id), None, {"at": now})


def answer(session: Session, notice_id: int, text: str, contacted_at: datetime | None, actor: str,
           role: str | None, handler_id: int | None, now: datetime | None = None) -> None:
    require(role, "answer_notice")
    now = now or clock.now_precise()
    text = (text or "").strip()
    notice = _mine(session, notice_id, handler_id)
    if notice.answered_at is not None:
        raise NoticeRefused(Said("err.notices.6"))
    if not text:
        raise NoticeRefused(Said("err.notices.7"))
    if contacted_at is not None and contacted_at > now + timedelta(minutes=5):
        raise NoticeRefused(Said("err.notices.8"))
    done = session.execute(update(Notice).where(Notice.id == notice_id, Notice.answered_at.is_(None))
                           .values(answered_at=now, answer=text, contacted_at=contacted_at,
                                   acknowledged_at=func.coalesce(Notice.acknowledged_at, now))
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise NoticeRefused(Said("err.notices.9"))
    record(session, actor, "answer_notice", "notice", str(notice_id), None,
           {"answer": text, "contacted_at": contacted_at})


def _rows(session: Session, q) -> list[dict[str, Any]]:
    q = q.add_columns(Case.case_no, Handler.name.label("handler")).join(Case, Case.id == Notice.case_id).join(
        Handler, Handler.id == Notice.handler_id)
    out = []
    for row in session.execute(q):
        n = row[0]
        out.append({"id": n.id, "case_no": row.case_no, "handler": row.handler, "rule_id": n.rule_id,
                    "message": n.message, "reply_by": n.reply_by, "sent_by": n.sent_by, "sent_at": n.sent_at,
                    "acknowledged_at": n.acknowledged_at, "answered_at": n.answered_at, "answer": n.answer,
                    "contacted_at": n.contacted_at})
    return out


def notices_for_handler(session: Session, handler_id: int, include_answered: bool = True) -> list[dict[str, Any]]:
    """Unanswered first (earliest reply-by first), then answered ones, newest first."""
    q = select(Notice).where(Notice.handler_id == handler_id)
    if not include_answered:
        q = q.where(Notice.answered_at.is_(None))
    rows = _rows(session, q)
    return sorted(rows, key=lambda n: (n["answered_at"] is not None, n["reply_by"] if n["answered_at"] is None
                                       else -n["answered_at"].timestamp()))


def notices_for_case(session: Session, case_id: int) -> list[dict[str, Any]]:
    return _rows(session, select(Notice).where(Notice.case_id == case_id).order_by(Notice.sent_at))


def overdue_by_handler(session: Session, now: datetime, teams: Sequence[str] = ()) -> dict[str, int]:
    """Unanswered notices past their reply-by time, per handler (the board's tile and column)."""
    q = (select(Handler.name, func.count()).select_from(Notice).join(Handler, Handler.id == Notice.handler_id)
         .where(Notice.answered_at.is_(None), Notice.reply_by < now).group_by(Handler.name))
    if teams:
        q = q.join(Team, Team.id == Notice.team_id).where(Team.name.in_(list(teams)))
    return dict(session.execute(q).all())


def case_handler_id(session: Session, case_no: str) -> int | None:
    return session.scalar(select(Case.handler_id).where(Case.case_no == case_no))
