"""Accounts: creation, password checks with a lock-out after repeated failures, listing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import bcrypt
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.audit import record
from db.models import User
from domain.roles import ROLES

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str


class LoginRefused(Exception):
    """Wrong name or password, a disabled account, or one locked after too many failures."""


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12)).decode()


def create_user(session: Session, username: str, display_name: str, role: str, password: str,
                actor: str, min_length: int = MIN_PASSWORD) -> Account:
    username = username.strip()
    if not username:
        raise ValueError("username is empty")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if len(password) < min_length:
        raise ValueError(f"password must have at least {min_length} characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValueError(f"user {username!r} already exists")
    session.add(User(username=username, display_name=display_name or username, role=role,
                     password_hash=hash_password(password), active=True, failed_logins=0))
    record(session, actor, "create_user", "user", username, None, {"role": role, "display_name": display_name})
    return Account(username, display_name or username, role)


def _attempt(session: Session, username: str, password: str, now: datetime) -> Account | str:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        return "用户名或密码不正确"
    if user.locked_until is not None and user.locked_until > now:
        minutes = int((user.locked_until - now).total_seconds() // 60) + 1
        return f"连续登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试"
    if not bcrypt.checkpw(password.encode(), user.password_hash.encode()):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            record(session, username, "lockout", "user", username, None, {"locked_until": user.locked_until})
        return "用户名或密码不正确"
    user.failed_logins = 0
    user.locked_until = None
    return Account(user.username, user.display_name, user.role)


def authenticate(username: str, password: str, now: datetime | None = None, url: str | None = None) -> Account:
    """The account, or LoginRefused with a reason that does not tell whether the name exists.

    The failure counter is committed before refusing: a refusal must not roll back its own bookkeeping."""
    from db.session import session_scope

    with session_scope(url) as session:
        outcome = _attempt(session, username, password, now or datetime.now(timezone.utc))
    if isinstance(outcome, str):
        raise LoginRefused(outcome)
    return outcome


def account_for_identity(email: str | None, url: str | None = None) -> Account:
    """Single sign-on (st.login with an OIDC provider): the identity's e-mail must be the user name of an
    active account here, which decides the role. The provider proves who it is; this product decides
    what they may do."""
    from db.session import session_scope

    if not email:
        raise LoginRefused("单点登录未提供邮箱，无法确定账号")
    with session_scope(url) as session:
        user = session.scalar(select(User).where(User.username == email.strip().lower()))
        if user is None or not user.active:
            raise LoginRefused(f"{email} 没有可用的账号，请联系系统管理员开通")
        return Account(user.username, user.display_name, user.role)


def list_users(session: Session) -> list[dict]:
    return [{"username": u.username, "display_name": u.display_name, "role": u.role, "active": u.active}
            for u in session.scalars(select(User).order_by(User.username))]


def set_active(session: Session, username: str, active: bool, actor: str) -> None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise ValueError(f"no user {username!r}")
    record(session, actor, "set_active", "user", username, {"active": user.active}, {"active": active})
    user.active = active


DEMO_ACCOUNTS = (("lead", "演示班组长", "team_lead"), ("inspector", "演示质检员", "inspector"),
                 ("trainer", "演示培训师", "trainer"), ("manager", "演示管理人员", "manager"),
                 ("admin", "演示管理员", "admin"))
DEMO_PASSWORD = "demo-2026"


def create_demo_accounts(session: Session) -> None:
    """Only for the demo database of the README's first command; the login page then says so."""
    for username, name, role in DEMO_ACCOUNTS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username, name, role, DEMO_PASSWORD, actor="demo-setup")
