"""The hardening pass (#12): each test here failed before its fix. Database tests run on SQLite and
PostgreSQL."""
from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from db.audit import record, verify_chain
from db.models import User
from db.session import get_engine, session_scope
from db.users import LoginRefused, authenticate, create_user, set_active

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)


def make_user(url: str, username: str = "li", password: str = "s3cret-pass", role: str = "inspector") -> None:
    with session_scope(url) as s:
        create_user(s, username, "李", role, password, actor="t")


def try_login(username: str, password: str, **kw) -> str:
    try:
        authenticate(username, password, **kw)
        return "ok"
    except LoginRefused as exc:
        return str(exc)


# ------------------------------------------------------------ 2. lock-out under concurrency, throttling


def test_forty_parallel_wrong_passwords_lock_the_account(db_url):
    make_user(db_url)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: try_login("li", "wrong", now=NOW), range(40)))
    assert all(a != "ok" for a in answers)
    with session_scope(db_url) as s:
        user = s.scalar(select(User).where(User.username == "li"))
        # every failure before the lock took effect was counted (none lost to a race), and exactly one
        # attempt locked the account
        assert user.failed_logins >= 5
        assert user.locked_until is not None and user.locked_until > NOW
        assert s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'lockout'")).scalar() == 1
    # the right password is refused while the lock holds
    assert try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=1)) != "ok"
    assert try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=16)) == "ok"


def test_a_lock_that_ran_out_starts_the_count_afresh(db_url):
    make_user(db_url)
    for _ in range(5):
        try_login("li", "wrong", now=NOW)
    later = NOW + timedelta(minutes=20)
    assert try_login("li", "wrong", now=later) != "ok"
    assert try_login("li", "s3cret-pass", now=later) == "ok"  # one failure after expiry does not re-lock


def test_one_client_address_is_held_back_after_many_failures_across_names(db_url):
    make_user(db_url)
    for i in range(20):
        try_login(f"guess{i}", "x", now=NOW, address="10.9.8.7")
    held = try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=1), address="10.9.8.7")
    assert "此地址" in held
    # another address is not affected, and the address is free again after the window
    assert try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=1), address="10.9.8.8") == "ok"
    assert try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=17), address="10.9.8.7") == "ok"


# ------------------------------------------------------------ 14. no user enumeration


def test_unknown_and_known_names_are_refused_alike_in_words_and_time(db_url):
    make_user(db_url)
    for _ in range(5):
        try_login("li", "wrong", now=NOW)  # li is now locked

    def timed(name: str) -> tuple[str, float]:
        t0 = time.perf_counter()
        answer = try_login(name, "wrong", now=NOW + timedelta(minutes=1))
        return answer, time.perf_counter() - t0

    unknown = [timed("nobody") for _ in range(3)]
    locked = [timed("li") for _ in range(3)]
    assert {a for a, _ in unknown} == {a for a, _ in locked}  # one message for all
    t_unknown = statistics.median(d for _, d in unknown)
    t_known = statistics.median(d for _, d in locked)
    assert t_unknown > 0.05 and t_known > 0.05  # both pay for a bcrypt check
    assert 0.5 < t_unknown / t_known < 2.0


# ------------------------------------------------------------ 6. a disabled account ends its session


def test_disabling_an_account_ends_its_open_session_on_the_next_run(db_url):
    from tests.apptest import signed_in

    at = signed_in("team_lead", username="lead-x")
    at.run()
    assert not at.exception and at.title[0].value == "实时督办看板"
    with session_scope(db_url) as s:
        set_active(s, "lead-x", False, actor="admin")
    at.run()
    assert not at.exception
    assert "实时督办看板" not in [t.value for t in at.title]  # the board is not shown any more
    assert "auth_user" not in at.session_state
    assert at.session_state["auth_expired"] == "changed"


def test_a_changed_role_ends_the_session_too(db_url):
    from tests.apptest import signed_in

    at = signed_in("team_lead", username="lead-y")
    at.run()
    with session_scope(db_url) as s:
        s.execute(text("UPDATE users SET role = 'trainer' WHERE username = 'lead-y'"))
    at.run()
    assert "实时督办看板" not in [t.value for t in at.title]
    assert "auth_user" not in at.session_state


# ------------------------------------------------------------ 13. the audit log cannot be rewritten


def test_the_audit_chain_links_every_row_and_verifies(db_url):
    with session_scope(db_url) as s:
        for i in range(5):
            record(s, "admin", "test", "thing", f"k{i}", None, {"n": i})
    with session_scope(db_url) as s:
        report = verify_chain(s)
    assert report.rows == 5 and report.broken_at is None and len(report.head) == 64


def test_truncate_and_replace_of_the_audit_log_are_refused(db_url):
    with session_scope(db_url) as s:
        record(s, "admin", "test", "thing", "k1", None, {"n": 1})
    engine = get_engine(db_url)
    if engine.dialect.name == "postgresql":
        statement = "TRUNCATE audit_log"
    else:
        statement = ("INSERT OR REPLACE INTO audit_log (id, at, actor, action, entity) "
                     "SELECT id, at, 'mallory', 'nothing', 'thing' FROM audit_log")
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(statement))
    with session_scope(db_url) as s:
        assert s.execute(text("SELECT actor FROM audit_log")).scalars().all() == ["admin"]


def test_a_row_changed_behind_the_triggers_breaks_the_chain_at_that_row(db_url):
    with session_scope(db_url) as s:
        for i in range(4):
            record(s, "admin", "test", "thing", f"k{i}", None, {"n": i})
    engine = get_engine(db_url)
    with engine.begin() as conn:  # someone with owner rights switches the guard off and edits row 2
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"))
            conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"))
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"))
    with session_scope(db_url) as s:
        report = verify_chain(s)
    assert report.broken_at == 2 and "changed" in report.reason
