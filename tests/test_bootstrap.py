"""First start (the README's first command): schema, demo cases, demo accounts, and demo inspection and
training records so that every role's pages have something to show; a second start adds nothing.
Demo data and accounts appear only on an explicit demo start of a brand-new database (#12, item 1)."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, func, select, text
from streamlit.testing.v1 import AppTest

from db.inspection import assessment_rows, assignments, plans
from db.library import LibraryFilters, search_library, trainings
from db.migrate import upgrade
from db.models import Case, User
from db.session import dispose_engine, session_scope
from services.bootstrap import demo_accounts_enabled, demo_wanted, ensure_database
from services.commands import create_user
from tests.apptest import APP
from tests.conftest import BACKENDS, PG_ADMIN


@pytest.fixture(params=BACKENDS)
def new_url(request, tmp_path, monkeypatch):
    """A brand-new database with no schema at all, on each backend."""
    monkeypatch.delenv("COMPLAINTS_DEMO", raising=False)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
        yield url
        dispose_engine(url)
        return
    name = f"complaints_new_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    yield url
    dispose_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def counts(url: str) -> tuple[int, int]:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(Case)), s.scalar(select(func.count()).select_from(User))


def test_first_demo_start_fills_a_new_database_once(new_url):
    assert ensure_database(new_url, demo_cases=400, demo=True) is True
    with session_scope(new_url) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 400
        assert set(s.scalars(select(User.username))) >= {"lead", "inspector", "trainer", "manager", "admin"}
        (plan,) = plans(s)
        mine = assignments(s, assignee="inspector")
        assert plan["items"] == len(mine) > 12 and plan["assessed"] == 12
        assert len(assessment_rows(s)) == 12
        assert search_library(s, LibraryFilters())  # the demo's typical cases are in the library
        assert trainings(s)[0]["trainer"] == "演示培训师"
    assert demo_accounts_enabled(new_url)
    assert ensure_database(new_url, demo_cases=400, demo=True) is False
    with session_scope(new_url) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 400 and len(plans(s)) == 1


def test_the_production_path_never_gets_demo_data_or_accounts(new_url, monkeypatch):
    # README's production path: init-db, create the first admin, start the app on that (non-default) URL
    upgrade(new_url)
    create_user(new_url, "boss", "王主管", "admin", "a-long-password", actor="test")
    monkeypatch.setenv("COMPLAINTS_DB_URL", new_url)
    assert demo_wanted(new_url) is False
    assert ensure_database(new_url) is False
    assert counts(new_url) == (0, 1)  # still no case, and only the admin
    assert not demo_accounts_enabled(new_url)


def test_an_initialised_database_gets_no_demo_even_with_the_flag(new_url, monkeypatch):
    upgrade(new_url)  # `manage.py init-db` ran before the first start
    monkeypatch.setenv("COMPLAINTS_DEMO", "1")
    assert demo_wanted(new_url) is True
    assert ensure_database(new_url, demo_cases=50) is False
    assert counts(new_url) == (0, 0)


def test_only_the_embedded_default_or_the_flag_asks_for_a_demo(monkeypatch):
    monkeypatch.delenv("COMPLAINTS_DB_URL", raising=False)
    monkeypatch.delenv("COMPLAINTS_DEMO", raising=False)
    assert demo_wanted() is True  # the README's first command
    assert demo_wanted("postgresql+psycopg://x@127.0.0.1/prod") is False
    monkeypatch.setenv("COMPLAINTS_DEMO", "0")
    assert demo_wanted() is False
    monkeypatch.setenv("COMPLAINTS_DEMO", "1")
    assert demo_wanted("postgresql+psycopg://x@127.0.0.1/prod") is True


def test_a_demo_database_says_so_on_every_page_and_a_real_one_does_not(new_url, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_DB_URL", new_url)
    ensure_database(new_url, demo_cases=60, demo=True)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any("演示数据" in w.value for w in at.warning)
    assert not at.exception


def test_a_real_database_shows_no_demo_banner_nor_demo_accounts(db_url):
    with session_scope(db_url) as s:
        s.add(User(username="boss", display_name="王主管", role="admin", password_hash="x", active=True,
                   failed_logins=0))
    at = AppTest.from_file(APP, default_timeout=60).run()
    text_shown = " ".join(w.value for w in at.warning)
    assert "演示" not in text_shown and "demo-2026" not in text_shown
    assert not at.exception
