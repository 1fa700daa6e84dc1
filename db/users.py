"""Accounts: creation, password checks with a lock-out after repeated failures, listing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from db.audit import record
from db import throttle
from db.models import Case, Handler, Obligation, User, UTCDateTime
from domain import clock
from domain.i18n import Said
from domain.roles import ROLES, require

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str
    session_epoch: int = 0
    lang: str = "zh"
    handler_id: int | None = None  # the handler role: whose cases are "mine"


class LoginRefused(Exception):
    """Wrong name or password, a disabled account, or one locked after too many failures."""


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12)).decode()


def create_user(session: Session, username: str, display_name: str, role: str, password: str,
                actor: str, min_length: int = MIN_PASSWORD, handler: str | None = None) -> Account:
    """`handler` (for the handler role) is the name under which the work-order system exports this
    person's cases; the account then sees exactly those cases."""
    username = username.strip()
    if not username:
        raise ValueError(Said("err.users.1"))
    if role not in ROLES:
        raise ValueError(Said("err.users.2", role=repr(role), value=', '.join(ROLES)))
    if len(password) < min_length:
        raise ValueError(Said("err.users.3", length=min_length))
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValueError(Said("err.users.4", username=repr(username)))
    handler_id = None
    if role == "handler":
        if not (handler or "").strip():
            raise ValueError(Said("err.users.13"))
        handler_id = session.scalar(select(Handler.id).where(Handler.name == handler.strip()))
        if handler_id is None:
            raise ValueError(Said("err.users.14", value=repr(handler.strip())))
    session.add(User(username=username, display_name=display_name or username, role=role,
                     password_hash=hash_password(password), active=True, failed_logins=0, handler_id=handler_id))
    record(session, actor, "create_user", "user", username, None,
           {"role": role, "display_name": display_name, "handler": handler if handler_id else None})
    return Account(username, display_name or username, role, 0, "zh", handler_id)


# Every refusal reads the same, whether the name exists, the password is wrong or the account is locked or
# disabled: the message and the time it takes must not tell an attacker which names are real.
REFUSED = "用户名或密码不正确，或账号因多次登录失败已暂时锁定（15 分钟后可再试）。"
THROTTLED = "此地址登录失败次数过多，请 15 分钟后再试。"
ADDRESS_FAILURES = 20  # failures from one client address within ADDRESS_WINDOW before it is held back
ADDRESS_WINDOW = timedelta(minutes=15)
_DUMMY_HASH = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds=12))


def _instants(*names: str):
    """Bind parameters stored exactly as the ORM stores instants (naive UTC), on both databases."""
    return [bindparam(n, type_=UTCDateTime) for n in names]


PENDING_STALE = timedelta(minutes=1)  # a place taken by an attempt whose process died is free again after this


@dataclass(frozen=True)
class _Reserved:
    """An attempt that took its place (counted as a failure until its password is known to be right)."""
    user_id: int | None  # None: no such active account (the address's place is still taken)
    password_hash: bytes


def _address_key(address: str | None) -> str | None:
    return f"ip:{address}" if address else None


def _reserve(session: Session, username: str, now: datetime, address: str | None) -> _Reserved | str:
    """Count first, verify second (#28 M1): the attempt takes a place for its address and for its account
    in one atomic statement each, before any password is checked, so parallel guesses cannot all read
    "not locked yet". Returns the reservation, or the refusal when no place was left."""
    key = _address_key(address)
    if key and not throttle.reserve(session, key, now, ADDRESS_FAILURES, ADDRESS_WINDOW, LOCKOUT):
        return THROTTLED
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        return _Reserved(None, _DUMMY_HASH)  # the address's place stays taken: a failure
    if user.locked_until is not None and user.locked_until <= now and user.failed_logins:
        # a lock that has run out starts the count afresh (only if nobody reset it meanwhile)
        session.execute(update(User).where(User.id == user.id, User.locked_until == user.locked_until)
                        .values(failed_logins=0, locked_until=None).execution_options(synchronize_session=False))
    live = "CASE WHEN pending_since IS NULL OR pending_since < :stale THEN 0 ELSE pending_logins END"
    took = session.execute(text(
        f"UPDATE users SET pending_logins = {live} + 1, pending_since = :now "
        "WHERE id = :id AND (locked_until IS NULL OR locked_until <= :now) "
        f"AND failed_logins + {live} < :max RETURNING id").bindparams(*_instants("now", "stale")),
        {"id": user.id, "now": now, "stale": now - PENDING_STALE, "max": MAX_FAILURES}).first()
    if took is None:
        return REFUSED  # locked, or as many attempts in flight as failures are left
    return _Reserved(user.id, user.password_hash.encode())


def _settle(session: Session, reserved: _Reserved, ok: bool, username: str, now: datetime,
            address: str | None) -> Account | str:
    """The checked attempt's outcome: a failure keeps its places (and may lock the account), a success
    gives them back."""
    if reserved.user_id is None:
        return REFUSED
    free = "CASE WHEN pending_logins > 0 THEN pending_logins - 1 ELSE 0 END"
    if not ok:
        row = session.execute(text(
            f"UPDATE users SET pending_logins = {free}, failed_logins = failed_logins + 1, "
            " locked_until = CASE WHEN failed_logins + 1 >= :max THEN :until ELSE locked_until END "
            "WHERE id = :id RETURNING failed_logins, username").bindparams(*_instants("until")),
            {"id": reserved.user_id, "max": MAX_FAILURES, "until": now + LOCKOUT}).one()
        if row[0] == MAX_FAILURES:
            record(session, row[1], "lockout", "user", row[1], None, {"locked_until": now + LOCKOUT})
        return REFUSED
    session.execute(text(f"UPDATE users SET pending_logins = {free}, failed_logins = 0, locked_until = NULL "
                         "WHERE id = :id"), {"id": reserved.user_id})
    key = _address_key(address)
    if key:
        throttle.release(session, key, now, ADDRESS_FAILURES, LOCKOUT)
    user = session.get(User, reserved.user_id)
    if user.must_change_password:
        return MUST_CHANGE
    return Account(user.username, user.display_name, user.role, user.session_epoch, user.lang, user.handler_id)


class MustChangePassword(LoginRefused):
    """The password was right, but an admin reset it: the user must choose a new one first."""


MUST_CHANGE = "__must_change__"


def authenticate(username: str, password: str, now: datetime | None = None, url: str | None = None,
                 address: str | None = None) -> Account:
    """The account, or LoginRefused with a reason that does not tell whether the name exists.

    `address` is the client's IP address (from the browser connection), throttled on its own. The failure
    counters are committed before refusing: a refusal must not roll back its own bookkeeping."""
    from db.session import session_scope

    now = now or clock.now_precise()
    # three steps, the password check between two short transactions: no lock is held while bcrypt works,
    # and the place an attempt took is committed before its password is looked at
    with session_scope(url) as session:
        reserved = _reserve(session, username, now, address)
    if isinstance(reserved, str):
        bcrypt.checkpw(password.encode(), _DUMMY_HASH)  # a refusal costs what a check costs
        raise LoginRefused(reserved)
    ok = bcrypt.checkpw(password.encode(), reserved.password_hash)
    with session_scope(url) as session:
        outcome = _settle(session, reserved, ok, username, now, address)
    if outcome == MUST_CHANGE:
        raise MustChangePassword("请先设置新密码：管理员已重置您的密码。")
    if isinstance(outcome, str):
        raise LoginRefused(outcome)
    return outcome


def account_state(session: Session, username: str) -> tuple[str, int] | None:
    """(role, session_epoch) of an active account, or None when it is gone or disabled: the per-run check
    that ends a session whose account changed after sign-in (one primary-key lookup)."""
    row = session.execute(select(User.role, User.session_epoch, User.active).where(User.username == username)).first()
    if row is None or not row.active:
        return None
    return row.role, row.session_epoch


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
        return Account(user.username, user.display_name, user.role, user.session_epoch, user.lang, user.handler_id)


def list_users(session: Session) -> list[dict]:
    names = dict(session.execute(select(Handler.id, Handler.name)).all())
    return [{"username": u.username, "display_name": u.display_name, "role": u.role, "active": u.active,
             "handler_id": u.handler_id, "handler": names.get(u.handler_id, ""),
             "must_change_password": u.must_change_password}
            for u in session.scalars(select(User).order_by(User.username))]


def display_names(session: Session) -> dict[str, str]:
    """username -> the name people know a colleague by (pages show it instead of the account name)."""
    return dict(session.execute(select(User.username, User.display_name)).all())


def display_name(session: Session, username: str) -> str:
    """The name colleagues know an account by (the account name itself when there is no such account)."""
    return session.scalar(select(User.display_name).where(User.username == username)) or username


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise ValueError(Said("err.users.5", username=repr(username)))
    return user


def set_active(session: Session, username: str, active: bool, actor: str, reason: str = "",
               role: str | None = "admin") -> None:
    """Deactivate or reactivate an account, with the reason on record; ends its open sessions."""
    require(role, "manage_users")
    if username == actor and not active:
        raise ValueError(Said("err.users.6"))
    user = _user(session, username)
    record(session, actor, "set_active", "user", username, {"active": user.active},
           {"active": active, "reason": (reason or "").strip()})
    user.active = active
    user.session_epoch = (user.session_epoch or 0) + 1  # ends the account's open sessions


def reset_password(session: Session, username: str, temporary: str, actor: str, role: str | None) -> None:
    """An admin sets a temporary password; the user must choose a new one at the next sign-in. The
    password itself is never written to the audit log."""
    require(role, "manage_users")
    if len(temporary) < MIN_PASSWORD:
        raise ValueError(Said("err.users.7", length=MIN_PASSWORD))
    user = _user(session, username)
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.failed_logins, user.locked_until = 0, None
    user.session_epoch = (user.session_epoch or 0) + 1
    record(session, actor, "reset_password", "user", username, None, {"must_change_password": True})


def change_role(session: Session, username: str, new_role: str, actor: str, role: str | None,
                handler: str | None = None) -> None:
    require(role, "manage_users")
    if new_role not in ROLES:
        raise ValueError(Said("err.users.8", role=repr(new_role), value=', '.join(ROLES)))
    if username == actor:
        raise ValueError(Said("err.users.9"))
    user = _user(session, username)
    handler_id = None
    if new_role == "handler":
        handler_id = session.scalar(select(Handler.id).where(Handler.name == (handler or "").strip()))
        if handler_id is None:
            raise ValueError(Said("err.users.15", value=repr((handler or '').strip())))
    record(session, actor, "change_role", "user", username, {"role": user.role}, {"role": new_role})
    user.role, user.handler_id = new_role, handler_id
    user.session_epoch = (user.session_epoch or 0) + 1


def change_own_password(session: Session, username: str, current: str, new: str, confirm: str) -> Account:
    """The user's own change (after a reset, or any time): the current password proves who asks."""
    user = _user(session, username)
    if not user.active or not bcrypt.checkpw(current.encode(), user.password_hash.encode()):
        raise LoginRefused(REFUSED)
    if new != confirm:
        raise ValueError(Said("err.users.10"))
    if len(new) < MIN_PASSWORD:
        raise ValueError(Said("err.users.11", length=MIN_PASSWORD))
    if new == current:
        raise ValueError(Said("err.users.12"))
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_epoch = (user.session_epoch or 0) + 1
    record(session, username, "change_password", "user", username, None, {"must_change_password": False})
    return Account(user.username, user.display_name, user.role, user.session_epoch, user.lang, user.handler_id)


DEMO_ACCOUNTS = (("lead", "演示班组长", "team_lead"), ("inspector", "演示质检员", "inspector"),
                 ("trainer", "演示培训师", "trainer"), ("manager", "演示管理人员", "manager"),
                 ("admin", "演示管理员", "admin"), ("handler", "演示处理人", "handler"))
DEMO_PASSWORD = "demo-2026"


def create_demo_accounts(session: Session) -> None:
    """Only for the demo database of the README's first command; the login page then says so."""
    # the demo handler is the one with the most deadlines still owed, so that 我的待办 has something to show
    busiest = session.scalar(select(Handler.name).join(Obligation, Obligation.handler_id == Handler.id)
                             .where(Obligation.state == "open", Obligation.rule_id != "ARC-ARCHIVE")
                             .group_by(Handler.name).order_by(func.count().desc(), Handler.name).limit(1)) or \
        session.scalar(select(Handler.name).join(Case, Case.handler_id == Handler.id)
                       .group_by(Handler.name).order_by(func.count().desc(), Handler.name).limit(1))
    for username, name, role in DEMO_ACCOUNTS:
        if role == "handler" and busiest is None:
            continue  # no cases yet: no handler to be
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username, busiest if role == "handler" else name, role, DEMO_PASSWORD,
                        actor="demo-setup", handler=busiest if role == "handler" else None)
