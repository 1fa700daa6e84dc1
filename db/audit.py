"""The audit trail: one row per write, with who, when, what, and the values before and after.

Rows form a hash chain: each carries the SHA-256 of the previous row's hash and its own content, so a
deleted, altered or re-inserted row breaks the chain at that point, even when done with SQL access that
gets past the triggers. `verify_chain` walks it (`manage.py audit-verify`). On PostgreSQL appends are
serialised by a transaction-scoped advisory lock (released at commit, so every write calls `record` near
its end); SQLite serialises writers anyway.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from db.models import AuditEntry
from domain import clock

GENESIS = "0" * 64
_CHAIN_LOCK = 0x617564697463  # "auditc": the advisory lock key of the chain on PostgreSQL


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def _utc_text(at: datetime) -> str:
    at = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")


def chain_hash(prev: str, at: datetime, actor: str, action: str, entity: str, key: str | None,
               before: str | None, after: str | None) -> str:
    """The hash of one row given the previous row's hash (fields joined unambiguously as a JSON array)."""
    body = json.dumps([prev, _utc_text(at), actor, action, entity, key, before, after], ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _head(session: Session) -> str:
    last = session.scalar(select(AuditEntry.row_hash).order_by(AuditEntry.id.desc()).limit(1))
    return last or GENESIS


KEY_LENGTH = 200  # audit_log.entity_key


def fitted_key(key: str | None) -> str | None:
    """An entity key that fits its column on every database (PostgreSQL refused a 240-character file name
    that SQLite took): a longer one keeps its start and gains a digest of the whole, so it stays distinct."""
    if key is None or len(key) <= KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{key[:KEY_LENGTH - 18]}…#{digest}"


def record(session: Session, actor: str, action: str, entity: str, key: str | None = None,
           before: Any = None, after: Any = None) -> None:
    """Append an entry inside the caller's transaction: it is kept exactly when the change itself is."""
    key = fitted_key(key)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    at = clock.stamp()
    b, a = _json(before), _json(after)
    prev = _head(session)
    session.execute(insert(AuditEntry).values(at=at, actor=actor, action=action, entity=entity, entity_key=key,
                                              before=b, after=a, prev_hash=prev,
                                              row_hash=chain_hash(prev, at, actor, action, entity, key, b, a)))


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head: str
    broken_at: int | None = None  # id of the first row whose link or content does not match
    reason: str = ""


def verify_rows(rows: Iterable[tuple]) -> ChainReport:
    """Walk (id, at, actor, action, entity, key, before, after, prev_hash, row_hash) rows in id order."""
    prev, n = GENESIS, 0
    for rid, at, actor, action, entity, key, before, after, prev_hash, row_hash in rows:
        n += 1
        if prev_hash != prev:
            return ChainReport(n, prev, rid, "the link to the previous row is broken (a row before it was "
                                             "removed, inserted or changed)")
        if row_hash != chain_hash(prev, at, actor, action, entity, key, before, after):
            return ChainReport(n, prev, rid, "the row's content does not match its hash (it was changed)")
        prev = row_hash
    return ChainReport(n, prev)


def verify_chain(session: Session) -> ChainReport:
    q = select(AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.entity,
               AuditEntry.entity_key, AuditEntry.before, AuditEntry.after, AuditEntry.prev_hash,
               AuditEntry.row_hash).order_by(AuditEntry.id)
    return verify_rows(session.execute(q.execution_options(yield_per=5000)))


def search(session: Session, actor: str = "", action: str = "", key: str = "",
           since: datetime | None = None, until: datetime | None = None, limit: int = 500) -> list[dict[str, Any]]:
    q = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if actor:
        q = q.where(AuditEntry.actor.contains(actor, autoescape=True))
    if action:
        q = q.where(AuditEntry.action == action)
    if key:
        q = q.where(AuditEntry.entity_key.contains(key, autoescape=True))
    if since is not None:
        q = q.where(AuditEntry.at >= since)
    if until is not None:
        q = q.where(AuditEntry.at < until)
    return [{"at": e.at, "actor": e.actor, "action": e.action, "entity": e.entity, "key": e.entity_key,
             "before": e.before, "after": e.after} for e in session.scalars(q)]
