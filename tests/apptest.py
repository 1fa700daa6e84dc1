"""Opening the app in Streamlit's AppTest as a signed-in user of a given role."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.models import User
from db.session import session_scope
from domain import clock

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def ensure_account(username: str, role: str) -> int:
    """The account behind a test session must exist and be active: every page run re-checks it.
    Returns its session epoch."""
    with session_scope() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, display_name="测试", role=role, password_hash="!", active=True,
                        failed_logins=0, session_epoch=0)
            s.add(user)
        user.role, user.active = role, True
        s.flush()
        return user.session_epoch


def handler_of(username: str) -> int | None:
    with session_scope() as s:
        return s.scalar(select(User.handler_id).where(User.username == username))


def session_user(role: str, username: str) -> dict:
    now = clock.now()
    epoch = ensure_account(username, role)
    return {"username": username, "display_name": "测试", "role": role, "epoch": epoch, "since": now,
            "last_seen": now, "handler_id": handler_of(username)}


def signed_in(role: str = "team_lead", username: str | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["auth_user"] = session_user(role, username or f"test-{role}")
    for key, value in state.items():
        at.session_state[key] = value
    return at


def open_page(page: str | None = None, role: str = "team_lead") -> AppTest:
    at = signed_in(role)
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
    return at


def refused_directly(page: str, role: str) -> bool:
    """Run one page file on its own (as if its URL were opened directly) as `role`; True when the page's
    guard refused it. Fails the test on any exception."""
    at = AppTest.from_file(str(Path(APP).parent / page), default_timeout=60)
    at.session_state["auth_user"] = session_user(role, f"direct-{role}")
    at.run()
    assert not at.exception, at.exception
    return any(e.value == "您的角色无权访问此页面或执行此操作。" for e in at.error)
