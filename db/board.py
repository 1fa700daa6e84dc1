"""Queries of the team leads' live board. Every number is an indexed range query on stored obligations
(`state`, `due_at`, `warn_at`) with the case's team, handler, category and channel copied onto each row,
so that no query loops over cases in Python or joins the cases table to count."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import and_, func, literal_column, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from db.models import Case, Contact, Handler, Obligation, Team

SLA_RULES = ("SLA-FIRST-CONTACT", "SLA-FINAL-RESULT", "SLA-PROGRESS", "SLA-PROMISED-REPLY")
DEADLINE_RULES = SLA_RULES + ("SCOPE-NOTICE", "ARC-ARCHIVE")


@dataclass(frozen=True)
class BoardFilters:
    teams: Sequence[str] = ()
    handlers: Sequence[str] = ()
    categories: Sequence[str] = ()
    channels: Sequence[str] = ()
    rules: Sequence[str] = field(default=DEADLINE_RULES)


def _ids(session: Session, model, names: Sequence[str]) -> list[int]:
    return list(session.scalars(select(model.id).where(model.name.in_(list(names))))) if names else []


def _conds(session: Session, f: BoardFilters) -> list:
    conds = [Obligation.rule_id.in_(list(f.rules or DEADLINE_RULES))]
    if f.teams:
        conds.append(Obligation.team_id.in_(_ids(session, Team, f.teams)))
    if f.handlers:
        conds.append(Obligation.handler_id.in_(_ids(session, Handler, f.handlers)))
    if f.categories:
        conds.append(Obligation.category.in_(list(f.categories)))
    if f.channels:
        conds.append(Obligation.channel.in_(list(f.channels)))
    return conds


def _breached(now: datetime):
    """Breached as of now: fulfilled late (stored `breached`) or still open past its due time."""
    return or_(Obligation.state == "breached", and_(Obligation.state == "open", Obligation.due_at < now))


def _actionable(now: datetime):
    """Someone can still act: an open deadline on a case not closed yet (archiving is done after closing)."""
    return and_(Obligation.state == "open", Obligation.warn_at <= now,
                or_(Obligation.case_closed_at.is_(None), Obligation.case_closed_at > now,
                    Obligation.rule_id == "ARC-ARCHIVE"))


def tiles(session: Session, now: datetime, f: BoardFilters, day_start: datetime) -> dict[str, int]:
    conds = _conds(session, f)
    week_start = day_start - timedelta(days=6)
    actionable = session.execute(
        select(func.sum(sql_case((Obligation.due_at >= now, 1), else_=0)),
               func.sum(sql_case((Obligation.due_at < now, 1), else_=0)))
        .where(*conds, _actionable(now))).one()
    breached = session.execute(
        select(func.sum(sql_case((Obligation.due_at >= day_start, 1), else_=0)), func.count())
        .where(*conds, Obligation.due_at >= week_start, Obligation.due_at < now, _breached(now))).one()
    open_cases = session.scalar(
        select(func.count()).select_from(Case).where(
            Case.acceptance == "accepted", Case.received_at <= now,
            or_(Case.closed_at.is_(None), Case.closed_at > now), *_case_conds(session, f)))
    return {"open_cases": int(open_cases or 0), "at_risk": int(actionable[0] or 0),
            "overdue_open": int(actionable[1] or 0), "breached_today": int(breached[0] or 0),
            "breached_7d": int(breached[1] or 0)}


def _case_conds(session: Session, f: BoardFilters) -> list:
    conds = []
    if f.teams:
        conds.append(Case.team_id.in_(_ids(session, Team, f.teams)))
    if f.handlers:
        conds.append(Case.handler_id.in_(_ids(session, Handler, f.handlers)))
    if f.categories:
        conds.append(Case.category.in_(list(f.categories)))
    if f.channels:
        conds.append(Case.channel.in_(list(f.channels)))
    return conds


def compliance(session: Session, now: datetime, f: BoardFilters, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per deadline rule, among obligations due in [start, min(end, now)): met on time vs. breached."""
    stop = min(end, now)
    q = (select(Obligation.rule_id,
                func.sum(sql_case((Obligation.state == "met", 1), else_=0)),
                func.sum(sql_case((_breached(now), 1), else_=0)))
         .where(*_conds(session, f), Obligation.due_at >= start, Obligation.due_at < stop,
                Obligation.state.in_(("met", "breached", "open")))
         .group_by(Obligation.rule_id))
    out = []
    for rule_id, met, breached in session.execute(q):
        met, breached = int(met or 0), int(breached or 0)
        total = met + breached
        out.append({"rule_id": rule_id, "met": met, "breached": breached,
                    "rate": (met / total) if total else None})
    return out


def act_now(session: Session, now: datetime, f: BoardFilters, limit: int = 300) -> list[dict[str, Any]]:
    """Open deadlines on cases someone can still act on: first those still in time, least time left first;
    then those already overdue, most recently missed first (a deadline missed months ago should not push
    today's out of sight)."""
    base = (select(Obligation.case_id, Obligation.rule_id, Obligation.clause, Obligation.due_at,
                   Obligation.category, Obligation.channel, Case.case_no, Handler.name.label("handler"),
                   Team.name.label("team"))
            .join(Case, Case.id == Obligation.case_id)
            .join(Handler, Handler.id == Case.handler_id)
            .outerjoin(Team, Team.id == Case.team_id)
            .where(*_conds(session, f), _actionable(now)))
    in_time = session.execute(base.where(Obligation.due_at >= now).order_by(Obligation.due_at).limit(limit)).all()
    overdue = session.execute(base.where(Obligation.due_at < now).order_by(Obligation.due_at.desc())
                              .limit(max(0, limit - len(in_time)))).all()
    return [r._asdict() for r in in_time] + [r._asdict() for r in overdue]


def by_handler(session: Session, now: datetime, f: BoardFilters) -> list[dict[str, Any]]:
    at_risk = sql_case((Obligation.due_at >= now, 1), else_=0)
    overdue = sql_case((Obligation.due_at < now, 1), else_=0)
    q = (select(Obligation.team_id, Obligation.handler_id, func.sum(at_risk), func.sum(overdue))
         .where(*_conds(session, f), _actionable(now))
         .group_by(Obligation.team_id, Obligation.handler_id))
    rows = session.execute(q).all()
    names = dict(session.execute(select(Handler.id, Handler.name)).all())
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    return [{"team": teams.get(t, ""), "handler": names.get(h, ""), "at_risk": int(a or 0), "overdue": int(o or 0)}
            for t, h, a, o in rows]


def breaches_in_period(session: Session, now: datetime, f: BoardFilters, start: datetime, end: datetime,
                       offset_hours: float) -> list[dict[str, Any]]:
    """Breaches with due time in the period, grouped by local day, weekday, hour, rule, category and
    channel (small groups; the page pivots them). Day/hour use the zone's offset, done in SQL."""
    dialect = session.get_bind().dialect.name
    minutes = int(offset_hours * 60)
    if dialect == "postgresql":
        local = Obligation.due_at + literal_column(f"interval '{minutes} minutes'")
        day = func.to_char(local, "YYYY-MM-DD")
        weekday = func.extract("isodow", local) - 1
        hour = func.extract("hour", local)
    else:
        local = func.datetime(Obligation.due_at, f"{minutes:+d} minutes")
        day = func.strftime("%Y-%m-%d", local)
        weekday = (func.cast(func.strftime("%w", local), type_=Obligation.team_id.type) + 6) % 7
        hour = func.strftime("%H", local)
    stop = min(end, now)
    q = (select(day.label("day"), weekday.label("weekday"), hour.label("hour"), Obligation.rule_id,
                Obligation.category, Obligation.channel, func.count().label("n"))
         .where(*_conds(session, f), Obligation.due_at >= start, Obligation.due_at < stop, _breached(now))
         .group_by(day, weekday, hour, Obligation.rule_id, Obligation.category, Obligation.channel))
    return [{"day": d, "weekday": int(w), "hour": int(h), "rule_id": r, "category": c, "channel": ch, "n": int(n)}
            for d, w, h, r, c, ch, n in session.execute(q)]


def appeal_risk(session: Session, now: datetime, f: BoardFilters, cutoff: datetime, limit: int = 200) -> list[dict[str, Any]]:
    """Open accepted cases received at or before `cutoff` that have no final result yet: the customer may
    soon take them to the regulator's appeal line (domain notes: no reply within 15 days)."""
    final = (select(Contact.id).where(Contact.case_id == Case.id, Contact.kind == "final", Contact.contact_at <= now)
             .exists())
    q = (select(Case.case_no, Case.received_at, Case.category, Handler.name.label("handler"),
                Team.name.label("team"))
         .join(Handler, Handler.id == Case.handler_id).outerjoin(Team, Team.id == Case.team_id)
         .where(Case.acceptance == "accepted", Case.received_at <= cutoff,
                or_(Case.closed_at.is_(None), Case.closed_at > now), ~final, *_case_conds(session, f))
         .order_by(Case.received_at).limit(limit))
    return [r._asdict() for r in session.execute(q)]


def handler_names(session: Session) -> list[str]:
    return list(session.scalars(select(Handler.name).order_by(Handler.name)))
