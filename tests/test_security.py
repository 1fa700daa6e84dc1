"""Accounts, the audit trail, backups: on SQLite and PostgreSQL where a database is involved."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

import manage
from db.audit import search
from db.importer import import_files
from db.models import AuditEntry, Case
from db.session import session_scope
from db.settings import apply_thresholds
from db.users import LoginRefused, authenticate, create_user
from rules.thresholds import Thresholds
from domain.roles import may, may_open
from domain.privacy import escape_markdown, mask_name, mask_phone, neutralise_cell
from tests.helpers import case_row, write_csv

NOW = datetime(2026, 3, 3, 4, 0, tzinfo=timezone.utc)


def test_passwords_are_hashed_and_checked(db_url):
    with session_scope(db_url) as s:
        create_user(s, "wang", "王主管", "team_lead", "correct horse", actor="t")
    with session_scope(db_url) as s:
        stored = s.execute(text("SELECT password_hash FROM users WHERE username = 'wang'")).scalar()
        assert stored.startswith("$2b$") and "correct horse" not in stored
    assert authenticate("wang", "correct horse").role == "team_lead"
    with pytest.raises(LoginRefused, match="用户名或密码不正确"):
        authenticate("nobody", "x")


def test_five_failures_lock_the_account_for_a_while(db_url):
    with session_scope(db_url) as s:
        create_user(s, "li", "李", "inspector", "s3cret-pass", actor="t")
    for _ in range(5):
        with pytest.raises(LoginRefused, match="用户名或密码不正确"):
            authenticate("li", "wrong", now=NOW)
    with pytest.raises(LoginRefused, match="用户名或密码不正确"):  # the right password, refused while locked
        authenticate("li", "s3cret-pass", now=NOW + timedelta(minutes=1))
    assert authenticate("li", "s3cret-pass", now=NOW + timedelta(minutes=16)).username == "li"
    with session_scope(db_url) as s:
        assert [e["action"] for e in search(s, key="li")][:1] == ["lockout"]


@pytest.mark.parametrize("args, message", [
    (("", "x", "admin", "longenough"), "username is empty"),
    (("a", "x", "boss", "longenough"), "unknown role"),
    (("a", "x", "admin", "short"), "at least 8"),
])
def test_bad_accounts_are_refused(db_url, args, message):
    with session_scope(db_url) as s, pytest.raises(ValueError, match=message):
        create_user(s, *args, actor="t")


def test_roles_decide_pages_and_actions():
    assert may_open("team_lead", "board") and not may_open("trainer", "board")
    assert may("admin", "save_thresholds") and not may("team_lead", "save_thresholds")
    assert may("team_lead", "unmask") and not may("inspector", "unmask")
    assert not may("manager", "import")


def test_imports_and_threshold_changes_are_audited_with_before_and_after(db_url, tmp_path):
    import_files(write_csv(tmp_path / "cases.csv", [case_row("A1")]), now=NOW, actor="zhang")
    apply_thresholds(Thresholds(first_contact_hours=12), NOW, db_url, actor="admin1")
    with session_scope(db_url) as s:
        entries = search(s)
    by_action = {e["action"]: e for e in entries}
    assert by_action["import"]["actor"] == "zhang" and '"cases_added": 1' in by_action["import"]["after"]
    change = by_action["set_thresholds"]
    assert change["actor"] == "admin1"
    assert '"first_contact_hours": 24' in change["before"] and '"first_contact_hours": 12' in change["after"]


def test_the_audit_log_cannot_be_rewritten(db_url):
    with session_scope(db_url) as s:
        s.add(AuditEntry(actor="a", action="import", entity="cases"))
    for statement in ("UPDATE audit_log SET actor = 'b'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with session_scope(db_url) as s:
                s.execute(text(statement))
    with session_scope(db_url) as s:
        assert s.scalar(select(AuditEntry.actor)) == "a"


def test_create_user_reads_the_password_from_stdin(db_url, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert manage.main(["create-user", "zhao", "--role", "admin", "--name", "赵"]) == 0
    assert authenticate("zhao", "a-long-password").role == "admin"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert manage.main(["create-user", "qian", "--role", "admin"]) == 1
    assert "at least 8" in capsys.readouterr().err


def test_backup_and_restore_of_the_embedded_database(sqlite_url, tmp_path, capsys):
    import_files(write_csv(tmp_path / "cases.csv", [case_row("B1")]), now=NOW)
    target = tmp_path / "backup.sqlite3"
    assert manage.main(["backup", str(target)]) == 0
    import_files(write_csv(tmp_path / "more.csv", [case_row("B2")]), now=NOW)
    assert manage.main(["restore", str(target)]) == 0
    with session_scope(sqlite_url) as s:
        assert sorted(s.scalars(select(Case.case_no))) == ["B1"]
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    assert manage.main(["restore", str(junk)]) == 1
    assert "not a SQLite database" in capsys.readouterr().err
    with session_scope(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1


def test_masking_and_neutralising():
    assert mask_phone("13812345678") == "138****5678" and mask_phone("0523-8612345") == "052****2345" and mask_phone("12345") == "***45"
    assert mask_name("欧阳小明") == "欧***" and mask_name("王") == "王*"
    assert [neutralise_cell(v) for v in ("=1+1", "+86", "-2", "@SUM(A1)", "正常", 5)] == [
        "'=1+1", "'+86", "'-2", "'@SUM(A1)", "正常", 5]
    assert escape_markdown("![x](http://evil/a.png)") == "\\!\\[x\\]\\(http\\://evil/a\\.png\\)"


def test_single_sign_on_maps_an_e_mail_to_an_active_account(db_url):
    from db.users import account_for_identity, set_active

    with session_scope(db_url) as s:
        create_user(s, "zhou@operator.cn", "周", "manager", "irrelevant-for-sso", actor="t")
    assert account_for_identity("Zhou@Operator.cn ").role == "manager"
    with pytest.raises(LoginRefused, match="没有可用的账号"):
        account_for_identity("stranger@example.com")
    with pytest.raises(LoginRefused, match="未提供邮箱"):
        account_for_identity(None)
    with session_scope(db_url) as s:
        set_active(s, "zhou@operator.cn", False, actor="admin")
    with pytest.raises(LoginRefused):
        account_for_identity("zhou@operator.cn")


def test_without_auth_secrets_no_single_sign_on_button_is_offered(sqlite_url):
    from streamlit.testing.v1 import AppTest

    from tests.apptest import APP

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.key == "login_sso"]
    assert at.text_input(key="login_username") is not None
    sso = AppTest.from_file(APP, default_timeout=60)
    sso.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s",
                           "client_id": "c", "client_secret": "x",
                           "server_metadata_url": "https://idp.invalid/.well-known/openid-configuration"}
    sso.run()
    assert not sso.exception, sso.exception
    assert [b.label for b in sso.button if b.key == "login_sso"] == ["使用单位统一身份登录"]


def test_case_fields_show_local_times_labels_and_yes_no():
    from datetime import datetime, timezone

    from services.views import case_fields

    record = {"case_no": "X", "received_at": datetime(2026, 3, 1, 1, 0, tzinfo=timezone.utc), "channel": "phone",
              "items_confirmed": False, "typical": None, "customer_name": "王*"}
    rows = {r["列"]: r["值"] for r in case_fields(record, "zh")}
    assert rows["受理时间"] == "2026-03-01 09:00" and rows["受理渠道"] == "电话"
    assert rows["事项已确认"] == "否" and rows["典型案例"] == "" and rows["客户姓名"] == "王*"
    en = {r["Column"]: r["Value"] for r in case_fields(record, "en")}
    assert en["items_confirmed"] == "no" and en["channel"] == "phone"
