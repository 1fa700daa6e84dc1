"""Fixtures: a fresh database per test on every backend (SQLite file and PostgreSQL), pointed to by
COMPLAINTS_DB_URL the way the product reads it.

PostgreSQL is required, not optional: set COMPLAINTS_TEST_BACKENDS=sqlite only to run a quick local subset.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from db.migrate import upgrade
from db.models import Base
from db.session import dispose_engine, get_engine

PG_ADMIN = os.environ.get("COMPLAINTS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = [b.strip() for b in os.environ.get("COMPLAINTS_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]


@pytest.fixture(scope="session")
def pg_url():
    name = f"complaints_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    dispose_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with get_engine(url).begin() as conn:
        # the audit log refuses TRUNCATE by trigger; a superuser may switch triggers off for this reset only
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, monkeypatch):
    """An empty, migrated database on each backend; COMPLAINTS_DB_URL points at it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'complaints.sqlite3'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("pg_url")
        _truncate(url)
    monkeypatch.setenv("COMPLAINTS_DB_URL", url)
    yield url
    if request.param == "sqlite":
        dispose_engine(url)


@pytest.fixture
def sqlite_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'complaints.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("COMPLAINTS_DB_URL", url)
    yield url
    dispose_engine(url)
