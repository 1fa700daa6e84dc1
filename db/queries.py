"""Read queries for the pages. Every query takes `now` (the sidebar's "as of" time) explicitly."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from db.models import Case, Handler, Obligation, Team
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


def search_cases(session: Session, f: SearchFilters, now: datetime, limit: int = 500) -> tuple[int, list[dict[str, Any]]]:
    conds = [Case.received_at <= now]
    if f.case_no.strip():
        conds.append(Case.case_no.contains(f.case_no.strip(), autoescape=True))
    if f.phone.strip():
        conds.append(Case.customer_phone.contains(f.phone.strip(), autoescape=True))
    if f.handler.strip():
        conds.append(Handler.name.contains(f.handler.strip(), autoescape=True))
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
