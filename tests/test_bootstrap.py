"""First start (the README's first command): schema, demo cases, demo accounts, and demo inspection and
training records so that every role's pages have something to show; a second start adds nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from db.inspection import assessment_rows, assignments, plans
from db.library import LibraryFilters, search_library, trainings
from db.models import Case, User
from db.session import session_scope
from services.bootstrap import demo_accounts_enabled, ensure_database


def test_first_start_fills_a_demo_database_once(db_url):
    assert ensure_database(db_url, demo_cases=400) is True
    with session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 400
        assert set(s.scalars(select(User.username))) >= {"lead", "inspector", "trainer", "manager", "admin"}
        (plan,) = plans(s)
        mine = assignments(s, assignee="inspector")
        assert plan["items"] == len(mine) > 12 and plan["assessed"] == 12
        assert len(assessment_rows(s)) == 12
        assert search_library(s, LibraryFilters())  # the demo's typical cases are in the library
        assert trainings(s)[0]["trainer"] == "演示培训师"
    assert demo_accounts_enabled(db_url)
    assert ensure_database(db_url, demo_cases=400) is False
    with session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 400 and len(plans(s)) == 1
