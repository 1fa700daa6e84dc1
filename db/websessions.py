"""Sign-ins kept across reloads, new tabs and shared links.

The browser keeps a cookie `<token>.<signature>`: a random token and its HMAC-SHA256 under the server's
secret. The table keeps only SHA-256(token), the account's session epoch at sign-in, and the last time
the session was used. A session ends when it has been idle longer than the limit, at its absolute expiry,
at logout, or when the account's epoch moves (password, role or active state changed).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db.models import User, WebSession

COOKIE = "tsdb_session"
LIFETIME = timedelta(days=7)  # absolute: a week-old sign-in asks for the password again
TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most once a minute per session


def _sign(token: str, secret: bytes) -> str:
    return hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()[:32]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, username: str, epoch: int, now: datetime, secret: bytes) -> str:
    """Store a new sign-in and return the cookie value for the browser."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_hash(token), username=username, epoch=epoch, created_at=now,
                           last_seen=now, expires_at=now + LIFETIME))
    return f"{token}.{_sign(token, secret)}"


def _token(cookie: str | None, secret: bytes) -> str | None:
    if not cookie or "." not in cookie:
        return None
    token, signature = cookie.rsplit(".", 1)
    return token if hmac.compare_digest(signature, _sign(token, secret)) else None


def resume(session: Session, cookie: str | None, now: datetime, idle: timedelta, secret: bytes) -> User | None:
    """The account behind a cookie, if its sign-in is still good; a stale row is removed."""
    token = _token(cookie, secret)
    if token is None:
        return None
    row = session.get(WebSession, _hash(token))
    if row is None:
        return None
    user = session.scalar(select(User).where(User.username == row.username))
    if (user is None or not user.active or user.session_epoch != row.epoch or now - row.last_seen > idle
            or now >= row.expires_at):
        session.delete(row)
        return None
    row.last_seen = now
    return user


def still_open(session: Session, cookie_hash: str, now: datetime, idle: timedelta) -> bool:
    """Is this sign-in still open (not logged out elsewhere, not idle too long)? Touches it at most once a
    minute, so a page run usually costs one indexed read."""
    row = session.get(WebSession, cookie_hash)
    if row is None or now - row.last_seen > idle or now >= row.expires_at:
        return False
    if now - row.last_seen > min(TOUCH_EVERY, idle / 4):
        session.execute(update(WebSession).where(WebSession.token_hash == cookie_hash).values(last_seen=now)
                        .execution_options(synchronize_session=False))
    return True


def token_hash(cookie: str, secret: bytes) -> str | None:
    token = _token(cookie, secret)
    return None if token is None else _hash(token)


def close(session: Session, cookie_hash: str | None) -> None:
    if cookie_hash:
        session.execute(delete(WebSession).where(WebSession.token_hash == cookie_hash))


def set_lang(session: Session, username: str, lang: str) -> None:
    if lang in ("zh", "en"):
        session.execute(update(User).where(User.username == username).values(lang=lang)
                        .execution_options(synchronize_session=False))
