"""Opening the app in Streamlit's AppTest as a signed-in user of a given role."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def signed_in(role: str = "team_lead", username: str | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    now = datetime.now(timezone.utc)
    at.session_state["auth_user"] = {"username": username or f"test-{role}", "display_name": "测试",
                                     "role": role, "since": now, "last_seen": now}
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
    now = datetime.now(timezone.utc)
    at.session_state["auth_user"] = {"username": "x", "display_name": "x", "role": role, "since": now, "last_seen": now}
    at.run()
    assert not at.exception, at.exception
    return any(e.value == "您的角色无权访问此页面或执行此操作。" for e in at.error)
