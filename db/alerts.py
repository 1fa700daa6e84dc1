"""Alerts in the database: policy versions, the deadlines due for an alert (range queries on the stored
due times), the outbox with its unique key, claiming rows for delivery so two workers never send the same
row, cancellation of alerts whose deadline was met meanwhile, the log and the worker's heartbeat."""
from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

from sqlalchemy import bindparam, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.audit import record
from db.models import Alert, AlertPolicy, Case, Handler, Notice, Obligation, Setting, Team, UTCDateTime
from domain.alerts import DEFAULT, NOTICE, Policy, Trigger, dumps, validate
from domain.roles import require
from rules.thresholds import Thresholds

HEARTBEAT = "alerts.heartbeat"
STALE_CLAIM = timedelta(minutes=10)


# ---------------------------------------------------------------- policy versions

def current_policy(session: Session) -> Policy:
    row = session.scalar(select(AlertPolicy).order_by(AlertPolicy.version.desc()).limit(1))
    if row is None:
        return DEFAULT
    policy = validate(row.body)
    return Policy(policy.triggers, policy.quiet_start, policy.quiet_end, policy.teams, policy.categories,
                  policy.channels, row.version, policy.quiet)


def save_policy(session: Session, raw: Any, actor: str, role: str | None, now: datetime) -> Policy:
    require(role, "edit_alerts")
    policy = validate(raw)
    before = current_policy(session)
    version = (session.scalar(select(func.max(AlertPolicy.version))) or 0) + 1
    session.add(AlertPolicy(version=version, body=dumps(policy), created_by=actor, created_at=now))
    record(session, actor, "save_alert_policy", "alert_policy", f"v{version}", json.loads(dumps(before)),
           json.loads(dumps(policy)))
    return Policy(policy.triggers, policy.quiet_start, policy.quiet_end, policy.teams, policy.categories,
                  policy.channels, version, policy.quiet)


# ---------------------------------------------------------------- what is due for an alert

@dataclass(frozen=True)
class Firing:
    kind: str  # deadline | notice
    key: str  # what identifies the deadline or notice in the dedupe key
    case_id: int
    case_no: str
    rule_id: str
    trigger: Trigger
    occurrence: int
    due_at: datetime
    fire_at: datetime
    team: str | None
    handler: str


def allowed_time(rule_id: str, th: Thresholds) -> timedelta:
    hours = {"SLA-FIRST-CONTACT": th.first_contact_hours, "SLA-FINAL-RESULT": th.final_result_hours,
             "SLA-PROGRESS": th.progress_interval_hours, "SLA-PROMISED-REPLY": th.final_result_hours,
             "SCOPE-NOTICE": th.rejection_notice_hours, "ARC-ARCHIVE": th.archive_days * 24}.get(rule_id, 24)
    return timedelta(hours=hours)


def _span(t: Trigger, allowed: timedelta) -> tuple[timedelta, timedelta]:
    first = t.offset(allowed)
    return first, first + timedelta(hours=t.repeat_hours * t.max_repeats)


def due_firings(session: Session, policy: Policy, th: Thresholds, since: datetime, now: datetime) -> list[Firing]:
    """Every trigger firing in (since, now] of a deadline still owed now (or a notice still unanswered).
    One range query per trigger on the stored due times; a 'before' firing whose deadline has already
    passed is dropped (it would only be noise)."""
    out: list[Firing] = []
    for t in policy.triggers:
        allowed = allowed_time(t.rule_id, th)
        lo, hi = _span(t, allowed)
        if t.rule_id == NOTICE:
            rows = session.execute(
                select(Notice.id, Notice.case_id, Notice.reply_by, Case.case_no, Team.name, Handler.name)
                .join(Case, Case.id == Notice.case_id).join(Handler, Handler.id == Notice.handler_id)
                .outerjoin(Team, Team.id == Notice.team_id)
                .where(Notice.answered_at.is_(None), Notice.reply_by > since - hi, Notice.reply_by <= now - lo)).all()
            candidates = [("notice", f"n{nid}", cid, due, no, team, handler) for nid, cid, due, no, team, handler in rows]
        else:
            q = (select(Obligation.case_id, Obligation.due_at, Case.case_no, Team.name, Handler.name)
                 .join(Case, Case.id == Obligation.case_id).join(Handler, Handler.id == Obligation.handler_id)
                 .outerjoin(Team, Team.id == Obligation.team_id)
                 .where(Obligation.state == "open", Obligation.rule_id == t.rule_id,
                        Obligation.due_at > since - hi, Obligation.due_at <= now - lo,
                        or_(Obligation.case_closed_at.is_(None), Obligation.case_closed_at > now)))
            if policy.teams:
                q = q.where(Team.name.in_(list(policy.teams)))
            if policy.categories:
                q = q.where(Obligation.category.in_(list(policy.categories)))
            if policy.channels:
                q = q.where(Obligation.channel.in_(list(policy.channels)))
            candidates = [("deadline", f"c{cid}", cid, due, no, team, handler)
                          for cid, due, no, team, handler in session.execute(q)]
        for kind, key, case_id, due, case_no, team, handler in candidates:
            if t.when == "before" and due <= now:
                continue
            for occurrence, at in t.firings(due, allowed):
                if since < at <= now:
                    out.append(Firing(kind, key, case_id, case_no, t.rule_id, t, occurrence, due, at, team, handler))
    return out


# ---------------------------------------------------------------- the outbox

def enqueue(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert outbox rows; a row whose dedupe key exists is skipped (decided once, whatever happens)."""
    if not rows:
        return 0
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    before = session.scalar(select(func.count()).select_from(Alert)) or 0
    for start in range(0, len(rows), 500):
        session.execute(make(Alert.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"]),
                        list(rows[start:start + 500]))
    return (session.scalar(select(func.count()).select_from(Alert)) or 0) - before


def claim(session: Session, worker: str, now: datetime, limit: int = 500) -> list[Alert]:
    """Take pending rows whose time has come for this worker, atomically (PostgreSQL: row locks skipped by
    the other worker; SQLite: the write lock), so two workers never hold the same row."""
    pg = session.get_bind().dialect.name == "postgresql"
    lock = " FOR UPDATE SKIP LOCKED" if pg else ""
    ids = [r[0] for r in session.execute(text(
        "UPDATE alerts SET status = 'sending', claimed_by = :w, claimed_at = :now "
        "WHERE id IN (SELECT id FROM alerts WHERE status = 'pending' AND next_attempt_at <= :now "
        f"ORDER BY id LIMIT :n{lock}) RETURNING id").bindparams(bindparam("now", type_=UTCDateTime)),
        {"w": worker, "now": now, "n": limit})]
    if not ids:
        return []
    return list(session.scalars(select(Alert).where(Alert.id.in_(ids)).order_by(Alert.id)))


def release_stale(session: Session, now: datetime) -> int:
    """Rows a stopped worker had claimed: marked unconfirmed, not sent again (a message is never sent
    twice; the log shows what may not have arrived)."""
    done = session.execute(update(Alert).where(Alert.status == "sending", Alert.claimed_at < now - STALE_CLAIM)
                           .values(status="unconfirmed", last_error="the worker stopped while sending")
                           .execution_options(synchronize_session=False))
    return done.rowcount or 0


def still_owed(session: Session, alerts: Iterable[Alert], now: datetime) -> set[int]:
    """Ids of deadline/notice alerts whose deadline is still owed (the rest are cancelled, not sent)."""
    out: set[int] = set()
    alerts = list(alerts)
    deadline = [a for a in alerts if a.kind == "deadline"]
    if deadline:
        pairs = {(a.case_id, a.rule_id) for a in deadline}
        owed = set(session.execute(
            select(Obligation.case_id, Obligation.rule_id).where(
                Obligation.case_id.in_({c for c, _r in pairs}), Obligation.state == "open",
                or_(Obligation.case_closed_at.is_(None), Obligation.case_closed_at > now))).all())
        out |= {a.id for a in deadline if (a.case_id, a.rule_id) in owed}
    notices = [a for a in alerts if a.kind == "notice"]
    if notices:
        ids = {int(a.dedupe_key.split(":")[1][1:]) for a in notices}
        open_ = set(session.scalars(select(Notice.id).where(Notice.id.in_(ids), Notice.answered_at.is_(None))))
        out |= {a.id for a in notices if int(a.dedupe_key.split(":")[1][1:]) in open_}
    out |= {a.id for a in alerts if a.kind in ("digest", "test")}
    return out


def mark(session: Session, alert_id: int, status: str, now: datetime, error: str | None = None,
         retry_at: datetime | None = None) -> None:
    values: dict[str, Any] = {"status": status, "last_error": error}
    if status == "sent":
        values["sent_at"] = now
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    if status in ("pending", "failed", "sent"):
        values["attempts"] = Alert.attempts + 1
    session.execute(update(Alert).where(Alert.id == alert_id).values(**values)
                    .execution_options(synchronize_session=False))


def sent_recently(session: Session, channel: str, now: datetime, within: timedelta = timedelta(minutes=1)) -> int:
    """Messages sent through a channel in the last minute (robots allow about 20 a minute)."""
    return int(session.scalar(select(func.count(func.distinct(Alert.sent_at))).where(
        Alert.channel == channel, Alert.status == "sent", Alert.sent_at > now - within)) or 0)


# ---------------------------------------------------------------- heartbeat, log, status

def beat(session: Session, worker: str, now: datetime, swept: dict[str, int]) -> None:
    """One upsert (two workers beating at once must not collide on the key, as a read-then-insert would)."""
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    value = json.dumps({"worker": worker, "at": now.isoformat(), **swept})
    stmt = make(Setting.__table__).values(key=HEARTBEAT, value=value, updated_at=now)
    session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value, "updated_at": now}))


def heartbeat(session: Session) -> dict[str, Any] | None:
    row = session.get(Setting, HEARTBEAT)
    if row is None:
        return None
    data = json.loads(row.value)
    data["at"] = datetime.fromisoformat(data["at"])
    return data


def status_line(session: Session, now: datetime) -> dict[str, Any]:
    hour = now - timedelta(hours=1)
    sent = session.scalar(select(func.count()).select_from(Alert).where(Alert.status == "sent", Alert.sent_at > hour))
    failed = session.scalar(select(func.count()).select_from(Alert).where(
        Alert.status.in_(("failed", "unconfirmed")), Alert.created_at > now - timedelta(days=1)))
    waiting = session.scalar(select(func.count()).select_from(Alert).where(Alert.status == "pending"))
    return {"heartbeat": heartbeat(session), "sent_hour": int(sent or 0), "failed_day": int(failed or 0),
            "pending": int(waiting or 0)}


def log(session: Session, since: datetime, status: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    q = select(Alert).where(Alert.created_at >= since).order_by(Alert.id.desc()).limit(limit)
    if status:
        q = q.where(Alert.status == status)
    return [{"id": a.id, "created_at": a.created_at, "kind": a.kind, "case_no": a.case_no, "rule_id": a.rule_id,
             "level": a.level, "target": a.target, "channel": a.channel, "status": a.status, "attempts": a.attempts,
             "sent_at": a.sent_at, "last_error": a.last_error, "body": a.body} for a in session.scalars(q)]


def worker_name() -> str:
    import os

    return f"{socket.gethostname()}:{os.getpid()}"


def team_breakdown(session: Session) -> list[str]:
    return list(session.scalars(select(Team.name).order_by(Team.name)))



def preview(session: Session, policy: Policy, th: Thresholds, start: datetime, end: datetime) -> tuple[int, int]:
    """(messages, cases) the policy would have fired in [start, end), from the stored deadlines: a trigger
    counts when its firing falls in the window and the deadline was not yet met by then (one message
    per target; channels and batching not counted)."""
    messages, cases = 0, set()
    for t in policy.triggers:
        if t.rule_id == NOTICE:
            continue
        allowed = allowed_time(t.rule_id, th)
        lo, hi = _span(t, allowed)
        rows = session.execute(select(Obligation.case_id, Obligation.due_at, Obligation.fulfilled_at).where(
            Obligation.rule_id == t.rule_id, Obligation.due_at.is_not(None),
            Obligation.due_at >= start - hi, Obligation.due_at < end - lo))
        for case_id, due, done in rows:
            for _k, fire in t.firings(due, allowed):
                if start <= fire < end and (done is None or done > fire) and not (t.when == "before" and fire >= due):
                    messages += len(t.targets)
                    cases.add(case_id)
    return messages, len(cases)
