"""Counting events per key in a time window, atomically, and holding the key back once it has had too many.

Used for failed sign-ins per client address and for phone-number searches per user. Each event is one
upsert whose arithmetic runs in the database, so parallel requests cannot lose counts (a read followed by
a write would). Rows live in `login_throttle` (named for its first use).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from db.models import LoginThrottle, UTCDateTime


def held(session: Session, key: str, now: datetime) -> bool:
    until = session.scalar(select(LoginThrottle.locked_until).where(LoginThrottle.key == key))
    return until is not None and until > now


def count(session: Session, key: str, now: datetime, limit: int, window: timedelta, hold: timedelta) -> None:
    """Count one event; the event that reaches `limit` within `window` holds the key until now + `hold`.
    A new window starts when the old one has passed."""
    session.execute(text(
        "INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES (:k, 1, :now, NULL) "
        "ON CONFLICT (key) DO UPDATE SET "
        " failures = CASE WHEN login_throttle.window_start < :since THEN 1 ELSE login_throttle.failures + 1 END,"
        " window_start = CASE WHEN login_throttle.window_start < :since THEN :now ELSE login_throttle.window_start END,"
        " locked_until = CASE WHEN login_throttle.window_start >= :since AND login_throttle.failures + 1 >= :max"
        "                THEN :until ELSE login_throttle.locked_until END")
        .bindparams(*(bindparam(n, type_=UTCDateTime) for n in ("now", "since", "until"))),
        {"k": key, "now": now, "since": now - window, "max": limit, "until": now + hold})


def reserve(session: Session, key: str, now: datetime, limit: int, window: timedelta, hold: timedelta) -> bool:
    """Count one attempt *before* it is tried, and say whether it may be tried: not while the key is held
    by an earlier count, nor past `limit` in the window. Parallel attempts each see the count the others
    left (one upsert), so no more than `limit` get through in one wave. A successful attempt gives its
    place back with `release`."""
    session.execute(text(
        "INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES (:k, 1, :now, NULL) "
        "ON CONFLICT (key) DO UPDATE SET "
        " failures = CASE WHEN login_throttle.window_start < :since THEN 1 ELSE login_throttle.failures + 1 END,"
        " window_start = CASE WHEN login_throttle.window_start < :since THEN :now ELSE login_throttle.window_start END,"
        " locked_until = CASE WHEN login_throttle.locked_until IS NOT NULL AND login_throttle.locked_until > :now"
        "                THEN login_throttle.locked_until"
        "                WHEN login_throttle.window_start >= :since AND login_throttle.failures + 1 >= :max"
        "                THEN :until ELSE login_throttle.locked_until END")
        .bindparams(*(bindparam(n, type_=UTCDateTime) for n in ("now", "since", "until"))),
        {"k": key, "now": now, "since": now - window, "max": limit, "until": now + hold})
    failures, until = session.execute(select(LoginThrottle.failures, LoginThrottle.locked_until)
                                      .where(LoginThrottle.key == key)).one()
    if failures > limit:
        return False
    # a hold that this very count set (it reached the limit) still lets this attempt through
    return until is None or until <= now or (failures == limit and until == now + hold)


def release(session: Session, key: str, now: datetime, limit: int, hold: timedelta) -> None:
    """Give back a place `reserve` took, for an attempt that succeeded; a hold it set goes with it."""
    session.execute(text(
        "UPDATE login_throttle SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END, "
        " locked_until = CASE WHEN failures = :max AND locked_until = :until THEN NULL ELSE locked_until END "
        "WHERE key = :k").bindparams(bindparam("until", type_=UTCDateTime)),
        {"k": key, "max": limit, "until": now + hold})
