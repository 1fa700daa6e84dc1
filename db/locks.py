"""Keeping two writers of the same kind apart (the scheduler's import every few minutes, a bulk
re-evaluation started from the app) so that their transactions never interleave."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from domain import clock
from domain.i18n import Said, Term


IDLE_BACKSTOP_MS = 15 * 60 * 1000
SQLITE_BUSY_MS = 15000  # the connection's usual wait (db.session sets the same on connect)


JOB_ZH = {"import": "导入或重新评估"}  # the jobs that take the exclusive lock, in words


class Busy(RuntimeError):
    """Another writer holds the lock for longer than we were willing to wait."""


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def exclusive(session: Session, name: str, wait_seconds: float = 120) -> None:
    """Take a named lock that lasts until the session's transaction commits or rolls back.

    PostgreSQL: a transaction-scoped advisory lock, seen by every machine that uses the database.
    SQLite: a write to the settings table at the very start of the transaction, which takes SQLite's
    write lock at once (instead of at the first real write, after all the reading and checking); a second
    writer waits for the busy timeout and is then told the database is busy.
    """
    dialect = session.get_bind().dialect.name
    try:
        if dialect == "postgresql":
            session.execute(text(f"SET LOCAL lock_timeout = '{int(wait_seconds * 1000)}ms'"))
            # Backstop: should a client ever leave its transaction open without working on it, the server
            # ends that session (and so releases the lock) instead of holding it forever.
            session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = '{IDLE_BACKSTOP_MS}ms'"))
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _key(name)})
            session.execute(text("SET LOCAL lock_timeout = 0"))
        else:
            # wait as long as promised for the other writer (the connection's usual busy wait is shorter)
            session.execute(text(f"PRAGMA busy_timeout = {int(wait_seconds * 1000)}"))
            try:
                session.execute(
                    text("INSERT INTO settings (key, value, updated_at) VALUES (:k, :v, :t) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"),
                    {"k": f"lock.{name}", "v": "held", "t": clock.stamp().replace(tzinfo=None)},
                )
            finally:
                session.execute(text(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}"))
    except OperationalError as exc:
        if not _is_lock_wait(exc):
            raise  # the database is down or broken: session_scope reports it as unavailable, not as busy
        raise Busy(Said("err.locks.busy", name=Term(name, JOB_ZH.get(name, name)))) from exc


def _is_lock_wait(exc: OperationalError) -> bool:
    text_ = str(getattr(exc, "orig", exc)).lower()
    return "lock" in text_ or "busy" in text_
