"""Queries of the team leads' live board. Every number is an indexed range query on stored obligations
(`state`, `due_at`, `warn_at`) with the case's team, handler, category and channel copied onto each row,
so that no query loops over cases in Python or joins the cases table to count."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from sqlalchemy import and_, func, literal_column, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from rules.catalogue import BY_ID
from db.models import Case, Contact, DeadlineEpisode, DeadlineHour, Handler, Obligation, Team

SLA_RULES = ("SLA-FIRST-CONTACT", "SLA-FINAL-RESULT", "SLA-PROGRESS", "SLA-PROMISED-REPLY")
DEADLINE_RULES = SLA_RULES + ("SCOPE-NOTICE", "ARC-ARCHIVE")
# The board's default: the deadlines owed to the customer. The archive deadline (10.1.1) is worked on the
# archive page; the board shows its backlog as one tile and lists it only when chosen in the rule filter.
BOARD_RULES = SLA_RULES + ("SCOPE-NOTICE",)
ARCHIVE = "ARC-ARCHIVE"


def sql_const(value: str):
    """A constant written into the SQL instead of a bound parameter: SQLite can use a partial index only when
    the query repeats the index's WHERE terms literally (a `?` proves nothing to its planner)."""
    if not value.replace("-", "").replace("_", "").isalnum():
        raise ValueError(value)
    return literal_column(f"'{value}'")


OPEN, BREACHED, MET = sql_const("open"), sql_const("breached"), sql_const("met")


@dataclass(frozen=True)
class BoardFilters:
    teams: Sequence[str] = ()
    handlers: Sequence[str] = ()
    categories: Sequence[str] = ()
    channels: Sequence[str] = ()
    rules: Sequence[str] = field(default=BOARD_RULES)


def _ids(session: Session, model, names: Sequence[str]) -> list[int]:
    return list(session.scalars(select(model.id).where(model.name.in_(list(names))))) if names else []


def _conds(session: Session, f: BoardFilters) -> list:
    # Only deadline rules have a due time or the `open` state, so with every customer deadline selected the
    # rule list is left out (it would tempt the planner into the (rule_id, state) index); without the
    # archive rule, the literal `rule_id <> 'ARC-ARCHIVE'` lets the partial indexes without it serve.
    rules = set(f.rules or BOARD_RULES)
    conds = [] if ARCHIVE in rules else [Obligation.rule_id != sql_const(ARCHIVE)]
    if not rules >= set(BOARD_RULES):
        conds.append(Obligation.rule_id.in_(sorted(rules)))
    return conds + _where(session, f, Obligation)


def _breached(now: datetime):
    """Breached as of now: fulfilled late or missed for good (stored `breached`), or open past its due."""
    return or_(Obligation.state == BREACHED, and_(Obligation.state == OPEN, Obligation.due_at < now))


def _count_breached(session: Session, conds: list, start: datetime, stop: datetime, *group) -> list:
    """Breached obligations due in [start, stop), as two range scans of the (state, due_at) index (an OR
    across states would read the whole table)."""
    out = []
    for state in (BREACHED, OPEN):
        q = (select(*group, func.count()).where(*conds, Obligation.state == state, Obligation.due_at >= start,
                                                 Obligation.due_at < stop))
        if group:
            q = q.group_by(*group)
        out.extend(session.execute(q).all())
    return out


def _actionable(now: datetime):
    """Someone can still act: an open deadline past its warning time. Deadlines missed on cases that were
    already closed are stored as breached (db.obligations._rows), so `open` means actionable, apart from
    a case closed after its last evaluation with a later `closed_at` (filtered here)."""
    return and_(Obligation.state == OPEN, Obligation.warn_at <= now,
                or_(Obligation.case_closed_at.is_(None), Obligation.case_closed_at > now,
                    Obligation.rule_id == sql_const(ARCHIVE)))


def tiles(session: Session, now: datetime, f: BoardFilters, day_start: datetime) -> dict[str, int]:
    conds = _conds(session, f)
    week_start = day_start - timedelta(days=6)
    actionable = session.execute(
        select(func.sum(sql_case((Obligation.due_at >= now, 1), else_=0)),
               func.sum(sql_case((Obligation.due_at < now, 1), else_=0)))
        .where(*conds, _actionable(now))).one()
    today = sum(n for (n,) in _count_breached(session, conds, day_start, now))
    week = sum(n for (n,) in _count_breached(session, conds, week_start, now))
    open_cases = 0
    for still_open in _still_open(now):
        q = select(func.count()).select_from(Case).where(
            still_open, Case.acceptance == "accepted", Case.received_at <= now, *_case_conds(session, f))
        open_cases += session.scalar(q) or 0
    backlog = session.scalar(select(func.count()).select_from(Obligation).where(
        Obligation.rule_id == sql_const(ARCHIVE), Obligation.state == OPEN, Obligation.case_closed_at <= now,
        *_where(session, f, Obligation)))
    return {"open_cases": int(open_cases), "at_risk": int(actionable[0] or 0),
            "overdue_open": int(actionable[1] or 0), "breached_today": int(today), "breached_7d": int(week),
            "to_archive": int(backlog or 0)}


FAR_FUTURE = datetime(9999, 1, 1, tzinfo=timezone.utc)


def _still_open(now: datetime) -> tuple:
    """Cases not closed as of now, as two conditions each served by the closed_at index (an OR of the two
    reads every case). The upper bound on the second makes it a closed range, which SQLite's planner
    prefers over the received_at range that every such query also has."""
    return (Case.closed_at.is_(None), and_(Case.closed_at > now, Case.closed_at < FAR_FUTURE))


def _case_conds(session: Session, f: BoardFilters) -> list:
    return _where(session, f, Case)


def _where(session: Session, f: BoardFilters, model) -> list:
    """Team, handler, category and channel filters on cases or on obligations (which carry copies)."""
    conds = []
    if f.teams:
        conds.append(model.team_id.in_(_ids(session, Team, f.teams)))
    if f.handlers:
        conds.append(model.handler_id.in_(_ids(session, Handler, f.handlers)))
    if f.categories:
        conds.append(model.category.in_(list(f.categories)))
    if f.channels:
        conds.append(model.channel.in_(list(f.channels)))
    return conds


def _hour_span(start: datetime, stop: datetime) -> tuple[int, int] | None:
    """The whole UTC hours inside [start, stop), as epoch hours [h0, h1); None when there are none."""
    h0 = -(-int(start.timestamp()) // 3600)
    h1 = int(stop.timestamp()) // 3600
    return (h0, h1) if h1 > h0 else None


def _at_hour(h: int) -> datetime:
    return datetime.fromtimestamp(h * 3600, timezone.utc)


def _hour_conds(session: Session, f: BoardFilters, h0: int, h1: int) -> list:
    """Conditions on the hourly counts (which have no handler: _pieces never uses them with one)."""
    return [DeadlineHour.hour >= h0, DeadlineHour.hour < h1,
            DeadlineHour.rule_id.in_(sorted(set(f.rules or BOARD_RULES)))] + _where(session, f, DeadlineHour)


def _pieces(session: Session, f: BoardFilters, start: datetime, stop: datetime):
    """Split a period for counting: whole past hours from the hourly counts (unless a handler filter needs
    the obligations themselves), the partial hours at either end from the obligations."""
    span = None if f.handlers else _hour_span(start, stop)
    if span is None:
        return None, [(start, stop)] if stop > start else []
    h0, h1 = span
    return span, [(a, b) for a, b in ((start, _at_hour(h0)), (_at_hour(h1), stop)) if b > a]


def compliance(session: Session, now: datetime, f: BoardFilters, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per deadline rule, among obligations due in [start, min(end, now)): met on time vs. breached.
    Obligations still open whose due time has passed count as breached."""
    stop = min(end, now)
    conds = _conds(session, f)
    met: dict[str, int] = {}
    breached: dict[str, int] = {}
    span, raw = _pieces(session, f, start, stop)
    if span is not None:  # whole hours before now: every open obligation in them is overdue
        q = (select(DeadlineHour.rule_id, DeadlineHour.state, func.sum(DeadlineHour.n))
             .where(*_hour_conds(session, f, *span)).group_by(DeadlineHour.rule_id, DeadlineHour.state))
        for rule_id, state, n in session.execute(q):
            target = met if state == "met" else breached if state in ("breached", "open") else None
            if target is not None:
                target[rule_id] = target.get(rule_id, 0) + int(n or 0)
    for a, b in raw:
        met_q = (select(Obligation.rule_id, func.count())
                 .where(*conds, Obligation.state == MET, Obligation.due_at >= a, Obligation.due_at < b)
                 .group_by(Obligation.rule_id))
        for rule_id, n in session.execute(met_q):
            met[rule_id] = met.get(rule_id, 0) + n
        for rule_id, n in _count_breached(session, conds, a, b, Obligation.rule_id):
            breached[rule_id] = breached.get(rule_id, 0) + n
    out = []
    for rule_id in sorted(set(met) | set(breached)):
        m, b = int(met.get(rule_id, 0)), int(breached.get(rule_id, 0))
        if m + b:
            out.append({"rule_id": rule_id, "met": m, "breached": b, "rate": m / (m + b)})
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
    channel (small groups; the page pivots them). Whole past hours come from the hourly counts; the
    partial hours at the ends (and any handler filter) from the obligations, with day/hour done in SQL."""
    stop = min(end, now)
    totals: dict[tuple, int] = {}
    span, raw = _pieces(session, f, start, stop)
    if span is not None:
        q = (select(DeadlineHour.hour, DeadlineHour.rule_id, DeadlineHour.category, DeadlineHour.channel,
                    func.sum(DeadlineHour.n))
             .where(*_hour_conds(session, f, *span), DeadlineHour.state.in_(("breached", "open")))
             .group_by(DeadlineHour.hour, DeadlineHour.rule_id, DeadlineHour.category, DeadlineHour.channel))
        shift = timedelta(hours=offset_hours)
        labels: dict[int, tuple[str, int, int]] = {}  # a few hundred hours, thousands of rows
        for hour, rule_id, category, channel, n in session.execute(q):
            label = labels.get(hour)
            if label is None:
                local = _at_hour(hour) + shift
                label = labels[hour] = (local.strftime("%Y-%m-%d"), local.weekday(), local.hour)
            key = label + (rule_id, category or None, channel or None)
            totals[key] = totals.get(key, 0) + int(n or 0)
    for a, b in raw:
        for key, n in _raw_breaches(session, f, a, b, offset_hours):
            totals[key] = totals.get(key, 0) + n
    return [{"day": d, "weekday": w, "hour": h, "rule_id": r, "category": c, "channel": ch, "n": n}
            for (d, w, h, r, c, ch), n in sorted(totals.items(), key=lambda kv: tuple(str(x) for x in kv[0]))]


def _raw_breaches(session: Session, f: BoardFilters, start: datetime, stop: datetime, offset_hours: float):
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
    rows = _count_breached(session, _conds(session, f), start, stop, day, weekday, hour, Obligation.rule_id,
                           Obligation.category, Obligation.channel)
    return [((d, int(w), int(h), r, c, ch), int(n)) for d, w, h, r, c, ch, n in rows]


def appeal_risk(session: Session, now: datetime, f: BoardFilters, cutoff: datetime, limit: int = 200) -> list[dict[str, Any]]:
    """Open accepted cases received at or before `cutoff` that have no final result yet: the customer may
    soon take them to the regulator's appeal line (domain notes: no reply within 15 days)."""
    final = (select(Contact.id).where(Contact.case_id == Case.id, Contact.kind == "final", Contact.contact_at <= now)
             .exists())
    out: list[dict[str, Any]] = []
    for still_open in _still_open(now):
        q = (select(Case.case_no, Case.received_at, Case.category, Handler.name.label("handler"),
                    Team.name.label("team"))
             .join(Handler, Handler.id == Case.handler_id).outerjoin(Team, Team.id == Case.team_id)
             .where(still_open, Case.acceptance == "accepted", Case.received_at <= cutoff, ~final,
                    *_case_conds(session, f))
             .order_by(Case.received_at).limit(limit))
        out.extend(r._asdict() for r in session.execute(q))
    return sorted(out, key=lambda r: r["received_at"])[:limit]


def handler_names(session: Session) -> list[str]:
    return list(session.scalars(select(Handler.name).order_by(Handler.name)))


# ---------------------------------------------------------------- replay of a past instant
# The stored obligations say how each deadline stands now; a deadline fulfilled since T would vanish from
# a board "as of T" that read them. Replay reads the deadline episodes instead (rules/episodes.py): what
# applied at every instant, so "at risk at T" and "overdue and still owed at T" are range queries that
# equal a fresh evaluation as of T (tests/test_replay.py).

def _episode_conds(session: Session, f: BoardFilters) -> list:
    rules = set(f.rules or BOARD_RULES)
    conds = [DeadlineEpisode.rule_id.in_(sorted(rules))]
    return conds + _where(session, f, DeadlineEpisode)


def _replay_parts(now: datetime, warn_span: timedelta):
    """(at risk at T, overdue and owed at T) as two sets of conditions, each a range on one index."""
    e = DeadlineEpisode
    at_risk = [e.pending_until > e.warn_at, e.due_at >= now, e.due_at <= now + warn_span, e.warn_at <= now,
               e.pending_until > now, e.active_from <= now]
    overdue = [e.open_until > e.due_at, e.open_until > now, e.due_at < now, e.active_from <= now]
    return at_risk, overdue


def replay_tiles(session: Session, now: datetime, f: BoardFilters, day_start: datetime,
                 warn_span: timedelta) -> dict[str, int]:
    """The board's tiles as of a past instant. At risk, overdue, open cases and the archive backlog are
    exact as of T; breaches today and in 7 days count the stored outcomes of deadlines due in those days."""
    conds_now = _conds(session, f)
    week_start = day_start - timedelta(days=6)
    open_cases = 0
    for still_open in _still_open(now):
        open_cases += session.scalar(select(func.count()).select_from(Case).where(
            still_open, Case.acceptance == "accepted", Case.received_at <= now, *_case_conds(session, f))) or 0
    live = {"open_cases": int(open_cases),
            "breached_today": sum(n for (n,) in _count_breached(session, conds_now, day_start, now)),
            "breached_7d": sum(n for (n,) in _count_breached(session, conds_now, week_start, now))}
    conds = _episode_conds(session, f)
    at_risk, overdue = _replay_parts(now, warn_span)
    count = lambda extra: int(session.scalar(select(func.count()).select_from(DeadlineEpisode)  # noqa: E731
                                             .where(*conds, *extra)) or 0)
    e = DeadlineEpisode
    backlog = int(session.scalar(select(func.count()).select_from(e).where(
        e.rule_id == sql_const(ARCHIVE), e.pending_until > now, e.active_from <= now, *_where(session, f, e))) or 0)
    return {**live, "at_risk": count(at_risk), "overdue_open": count(overdue), "to_archive": backlog}


def replay_act_now(session: Session, now: datetime, f: BoardFilters, warn_span: timedelta,
                   limit: int = 300) -> list[dict[str, Any]]:
    e = DeadlineEpisode
    base = (select(e.case_id, e.rule_id, e.due_at, e.category, e.channel, Case.case_no,
                   Handler.name.label("handler"), Team.name.label("team"))
            .join(Case, Case.id == e.case_id).join(Handler, Handler.id == Case.handler_id)
            .outerjoin(Team, Team.id == Case.team_id).where(*_episode_conds(session, f)))
    at_risk, overdue = _replay_parts(now, warn_span)
    in_time = session.execute(base.where(*at_risk).order_by(e.due_at).limit(limit)).all()
    late = session.execute(base.where(*overdue).order_by(e.due_at.desc()).limit(max(0, limit - len(in_time)))).all()
    return [{**r._asdict(), "clause": BY_ID[r.rule_id].clause} for r in in_time + late]


def replay_by_handler(session: Session, now: datetime, f: BoardFilters, warn_span: timedelta) -> list[dict[str, Any]]:
    e = DeadlineEpisode
    conds = _episode_conds(session, f)
    at_risk, overdue = _replay_parts(now, warn_span)
    counts: dict[tuple, list[int]] = {}
    for i, part in enumerate((at_risk, overdue)):
        q = select(e.team_id, e.handler_id, func.count()).where(*conds, *part).group_by(e.team_id, e.handler_id)
        for t, h, n in session.execute(q):
            counts.setdefault((t, h), [0, 0])[i] += int(n)
    names = dict(session.execute(select(Handler.id, Handler.name)).all())
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    return [{"team": teams.get(t, ""), "handler": names.get(h, ""), "at_risk": a, "overdue": o}
            for (t, h), (a, o) in counts.items()]


def open_deadlines(session: Session, now: datetime, handler_id: int, limit: int = 300) -> list[dict[str, Any]]:
    """Every deadline a handler still owes (not only those near or past due): in time first, least time
    left first, then overdue ones, most recently missed first — a handler's own to-do list."""
    base = (select(Obligation.case_id, Obligation.rule_id, Obligation.clause, Obligation.due_at,
                   Obligation.category, Obligation.channel, Case.case_no, Handler.name.label("handler"),
                   Team.name.label("team"))
            .join(Case, Case.id == Obligation.case_id).join(Handler, Handler.id == Case.handler_id)
            .outerjoin(Team, Team.id == Case.team_id)
            .where(Obligation.handler_id == handler_id, Obligation.state == OPEN,
                   Obligation.rule_id != sql_const(ARCHIVE),
                   or_(Obligation.case_closed_at.is_(None), Obligation.case_closed_at > now)))
    in_time = session.execute(base.where(Obligation.due_at >= now).order_by(Obligation.due_at).limit(limit)).all()
    overdue = session.execute(base.where(Obligation.due_at < now).order_by(Obligation.due_at.desc())
                              .limit(max(0, limit - len(in_time)))).all()
    return [r._asdict() for r in in_time] + [r._asdict() for r in overdue]
