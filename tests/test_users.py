"""Account management (#18 item 9): reset a password (changed at the next sign-in), change a role,
deactivate and reactivate with a reason — audited, admin only, ending the account's sessions."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.audit import search
from db.models import User
from db.session import session_scope
from db.users import (LoginRefused, MustChangePassword, authenticate, change_own_password, change_role,
                      create_user, reset_password, set_active)
from domain.roles import Forbidden
from tests.apptest import APP


@pytest.fixture
def accounts(db_url):
    with session_scope(db_url) as s:
        create_user(s, "boss", "王主管", "admin", "admin-password", actor="t")
        create_user(s, "li", "李娜", "team_lead", "first-password", actor="t")
    return db_url


def epoch(url, name="li"):
    with session_scope(url) as s:
        return s.scalar(select(User.session_epoch).where(User.username == name))


def test_a_reset_password_must_be_changed_at_the_next_sign_in(accounts):
    before = epoch(accounts)
    with session_scope(accounts) as s:
        reset_password(s, "li", "temporary-1", "boss", "admin")
    assert epoch(accounts) == before + 1  # open sessions end
    with pytest.raises(LoginRefused):
        authenticate("li", "first-password")
    with pytest.raises(MustChangePassword):
        authenticate("li", "temporary-1")
    with pytest.raises(ValueError, match="differ"):
        with session_scope(accounts) as s:
            change_own_password(s, "li", "temporary-1", "new-password-1", "new-password-2")
    with session_scope(accounts) as s:
        change_own_password(s, "li", "temporary-1", "new-password-1", "new-password-1")
    assert authenticate("li", "new-password-1").role == "team_lead"
    with session_scope(accounts) as s:
        entries = search(s, key="li")
        assert {e["action"] for e in entries} >= {"reset_password", "change_password"}
        assert not any("temporary-1" in str(e) or "new-password-1" in str(e) for e in entries)


def test_roles_change_with_an_audit_row_and_not_ones_own(accounts):
    with session_scope(accounts) as s:
        change_role(s, "li", "manager", "boss", "admin")
    with session_scope(accounts) as s:
        assert s.scalar(select(User.role).where(User.username == "li")) == "manager"
        assert search(s, action="change_role")[0]["before"] == '{"role": "team_lead"}'
    with pytest.raises(ValueError, match="your own role"):
        with session_scope(accounts) as s:
            change_role(s, "boss", "trainer", "boss", "admin")
    with pytest.raises(ValueError, match="no handler named"):
        with session_scope(accounts) as s:
            change_role(s, "li", "handler", "boss", "admin", "无此人")


def test_deactivating_keeps_the_reason_and_reactivating_works(accounts):
    with session_scope(accounts) as s:
        set_active(s, "li", False, "boss", "离职", "admin")
    with pytest.raises(LoginRefused):
        authenticate("li", "first-password")
    with session_scope(accounts) as s:
        set_active(s, "li", True, "boss", "返岗", "admin")
        assert [e["after"] for e in search(s, action="set_active")][0] == '{"active": true, "reason": "返岗"}'
    assert authenticate("li", "first-password").username == "li"
    with pytest.raises(ValueError, match="your own account"):
        with session_scope(accounts) as s:
            set_active(s, "boss", False, "boss", "test", "admin")


@pytest.mark.parametrize("role", ["team_lead", "manager", "inspector", None])
def test_only_admins_manage_accounts(accounts, role):
    for write in (lambda s: reset_password(s, "li", "temporary-1", "x", role),
                  lambda s: change_role(s, "li", "trainer", "x", role),
                  lambda s: set_active(s, "li", False, "x", "r", role)):
        with pytest.raises(Forbidden):
            with session_scope(accounts) as s:
                write(s)


def test_the_login_page_asks_for_a_new_password_after_a_reset(accounts):
    with session_scope(accounts) as s:
        reset_password(s, "li", "temporary-1", "boss", "admin")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.text_input(key="login_username").input("li")
    at.text_input(key="login_password").input("temporary-1")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert any("重置" in i.value for i in at.info)
    at.text_input(key="chg_current").input("temporary-1")
    at.text_input(key="chg_new").input("brand-new-pass")
    at.text_input(key="chg_confirm").input("brand-new-pass")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "实时督办看板"
    assert authenticate("li", "brand-new-pass").username == "li"
