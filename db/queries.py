"""Read queries for the pages. Every query takes `now` (the sidebar's "as of" time) explicitly."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from db import throttle
from db.models import Case, Handler, Obligation, Team
from domain.i18n import Said
from domain.privacy import PhoneQueryInvalid, phone_query
from db.obligations import flag_condition, live_status


@dataclass
class SearchFilters:
    case_no: str = ""
    phone: str = ""
    handler: str = ""
    teams: Sequence[str] = ()
    categories: Sequence[str] = ()
    status: str = "any"  # any | open | closed | rejected
    flag: str = "any"  # any | breached | at_risk | review | none
    received_from: datetime | None = None
    received_to: datetime | None = None


def _flag_exists(now: datetime, status: str):
    o = aliased(Obligation)
    if status == "breached":
        cond = or_(o.state == "breached", and_(o.state == "open", o.due_at < now))
    elif status == "at_risk":
        cond = and_(o.state == "open", o.warn_at <= now, o.due_at >= now)
    elif status == "review":
        cond = o.state == "review"
    else:
        cond = or_(o.state.in_(("breached", "review")), and_(o.state == "open", o.warn_at <= now))
    return exists().where(o.case_id == Case.id, cond)


class SearchRefused(ValueError):
    """A search that is not allowed as asked; the message says how to ask instead."""


PHONE_SEARCHES = 20  # phone-number searches per user within PHONE_WINDOW before they are held back
PHONE_WINDOW = timedelta(minutes=10)
TAIL_PERIOD = timedelta(days=31)


def _clean(text: str) -> str:
    return (text or "").replace("\x00", "").strip()  # PostgreSQL refuses NUL in text parameters


def search_cases(session: Session, f: SearchFilters, now: datetime, limit: int = 500,
                 user: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    """Cases matching the filters. A phone number matches only as a whole number, or by its last four
    digits together with a narrowing filter; phone searches are counted per user and held back after
    PHONE_SEARCHES in PHONE_WINDOW, so a masked number cannot be read back digit by digit."""
    conds = [Case.received_at <= now]
    case_no, handler = _clean(f.case_no), _clean(f.handler)
    if case_no:
        conds.append(Case.case_no.contains(case_no, autoescape=True))
    try:
        phone = phone_query(f.phone)
    except PhoneQueryInvalid as exc:
        raise SearchRefused(str(exc)) from None
    if phone is not None:
        key = f"phone:{user or 'anonymous'}"
        if throttle.held(session, key, now):
            raise SearchRefused(Said("err.queries.1"))
        throttle.count(session, key, now, PHONE_SEARCHES, PHONE_WINDOW, PHONE_WINDOW)
        kind, digits = phone
        if kind == "full":
            conds.append(Case.customer_phone.in_({digits, _clean(f.phone)}))
        else:
            narrow = bool(case_no or handler) or (
                f.received_from is not None and f.received_to is not None
                and f.received_to - f.received_from <= TAIL_PERIOD + timedelta(days=1))
            if not narrow:
                raise SearchRefused(Said("err.queries.2"))
            conds.append(Case.customer_phone.endswith(digits, autoescape=True))
    if handler:
        conds.append(Handler.name.contains(handler, autoescape=True))
    if f.teams:
        conds.append(Team.name.in_(list(f.teams)))
    if f.categories:
        conds.append(Case.category.in_(list(f.categories)))
    if f.status == "open":
        conds += [Case.acceptance == "accepted", or_(Case.closed_at.is_(None), Case.closed_at > now)]
    elif f.status == "closed":
        conds += [Case.closed_at.is_not(None), Case.closed_at <= now]
    elif f.status == "rejected":
        conds.append(Case.acceptance == "rejected")
    if f.flag in ("breached", "at_risk", "review"):
        conds.append(_flag_exists(now, f.flag))
    elif f.flag == "none":
        conds.append(~_flag_exists(now, "any"))
    if f.received_from is not None:
        conds.append(Case.received_at >= f.received_from)
    if f.received_to is not None:
        conds.append(Case.received_at < f.received_to)
    base = (select(Case.id).join(Handler, Handler.id == Case.handler_id)
            .outerjoin(Team, Team.id == Case.team_id).where(*conds))
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    q = (select(Case.case_no, Case.received_at, Case.category, Case.subcategory, Case.channel,
                Case.customer_name, Case.customer_phone, Handler.name.label("handler"), Team.name.label("team"),
                Case.acceptance, Case.closed_at)
         .join(Handler, Handler.id == Case.handler_id).outerjoin(Team, Team.id == Case.team_id)
         .where(*conds).order_by(Case.received_at.desc()).limit(limit))
    return int(total or 0), [r._asdict() for r in session.execute(q)]


def team_names(session: Session) -> list[str]:
    return list(session.scalars(select(Team.name).order_by(Team.name)))


def case_record(session: Session, case_no: str) -> dict[str, Any] | None:
    case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        return None
    record = {c.name: getattr(case, c.key) for c in Case.__table__.columns}
    record["handler"] = case.handler.name
    record["team"] = case.team.name if case.team else None
    record["contacts"] = [
        {"contact_at": c.contact_at, "kind": c.kind, "channel": c.channel, "note": c.note} for c in case.contacts
    ]
    return record


def case_obligations(session: Session, case_id: int, now: datetime) -> list[dict[str, Any]]:
    q = select(Obligation).where(Obligation.case_id == case_id).order_by(Obligation.rule_id)
    out = []
    for o in session.scalars(q):
        out.append({"rule_id": o.rule_id, "clause": o.clause, "state": o.state, "due_at": o.due_at,
                    "warn_at": o.warn_at, "fulfilled_at": o.fulfilled_at, "outcome": o.detail,
                    "evidence": json.loads(o.evidence) if o.evidence else {},
                    "status": live_status(o.state, o.due_at, o.warn_at, now), "evaluated_at": o.evaluated_at})
    return out


def flagged_count(session: Session, now: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(Obligation).where(flag_condition(now))) or 0)


def case_ids_received_between(session: Session, start: datetime, end: datetime) -> list[int]:
    q = select(Case.id).where(Case.received_at >= start, Case.received_at < end).order_by(Case.id)
    return list(session.scalars(q))


def handler_name(session: Session, handler_id: int | None) -> str | None:
    return None if handler_id is None else session.scalar(select(Handler.name).where(Handler.id == handler_id))
