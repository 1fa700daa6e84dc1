"""Fixtures: a fresh database per test on every backend (SQLite file and PostgreSQL), pointed to by
COMPLAINTS_DB_URL the way the product reads it.

PostgreSQL is required, not optional: set COMPLAINTS_TEST_BACKENDS=sqlite only to run a quick local subset.

Time: the product reads one clock (domain/clock.py). `--clock-shift=+366d` (or -30d, +2h, seconds) runs the
suite with that clock moved, in every worker and every server a test starts, so a test that passes only on
today's date fails there; the `travel` fixture sets the clock to a given instant for one test.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from db.migrate import upgrade
from db.models import Base
from db.session import dispose_engine, get_engine
from domain import clock

PG_ADMIN = os.environ.get("COMPLAINTS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = [b.strip() for b in os.environ.get("COMPLAINTS_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]


def pytest_addoption(parser):
    parser.addoption("--clock-shift", default="", metavar="OFFSET",
                     help="move the product's clock (and the tests' own now) by OFFSET, e.g. +366d or -30d")
    parser.addoption("--clock-record", default="", metavar="FILE",
                     help="append to FILE the id of every test that reads the product's clock (in the test's "
                          "process, a process it starts, or its module at import)")
    parser.addoption("--clock-only", default="", metavar="FILE",
                     help="run only the tests whose ids FILE lists (the date-sensitive ones a --clock-record run found)")


def pytest_configure(config):
    shift = config.getoption("--clock-shift")
    if shift:
        # set in every xdist worker too (each runs pytest_configure); servers started by tests inherit it
        os.environ[clock.ENV] = clock.format_offset(clock.parse_offset(shift))
    record = config.getoption("--clock-record")
    if record and not hasattr(config, "workerinput") and os.path.exists(record):
        os.unlink(record)  # the controller starts the list afresh; workers append
    if record:
        config.pluginmanager.register(ClockRecorder(os.path.abspath(record)), "clock-recorder")


def pytest_collection_modifyitems(config, items):
    only = config.getoption("--clock-only")
    if not only:
        return
    with open(only, encoding="utf-8") as fh:
        wanted = {line.strip() for line in fh if line.strip()}
    keep = [i for i in items if i.nodeid in wanted]
    config.hook.pytest_deselected(items=[i for i in items if i.nodeid not in wanted])
    items[:] = keep


class ClockRecorder:
    """Finds the date-sensitive tests: those during which the product's clock was read (domain/clock.py
    touches the file that COMPLAINTS_CLOCK_TRACE names, in this process and in every process a test starts),
    and all the tests of a module that read the clock while it was imported (a `NOW = clock.now()` fixture)."""

    def __init__(self, out: str):
        import tempfile

        self.out = out
        self.dir = tempfile.mkdtemp(prefix="clock-trace-")
        self.dated_modules: set[str] = set()
        self.n = 0

    def _mark(self) -> str:
        self.n += 1
        path = os.path.join(self.dir, f"{os.getpid()}-{self.n}")
        os.environ[clock.TRACE] = path
        return path

    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(self, collector):
        # a module is imported while its report is made
        module = isinstance(collector, pytest.Module)
        marker = self._mark() if module else None
        yield
        if module:
            os.environ.pop(clock.TRACE, None)
            if os.path.exists(marker):
                self.dated_modules.add(str(collector.path))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        marker = self._mark()
        yield
        os.environ.pop(clock.TRACE, None)
        if os.path.exists(marker) or str(item.path) in self.dated_modules:
            with open(self.out, "a", encoding="utf-8") as fh:  # one short line: appends from workers interleave whole
                fh.write(item.nodeid + "\n")


def pytest_report_header(config):
    shift = os.environ.get(clock.ENV, "")
    return f"product clock: {'moved by ' + shift if shift else 'the machine clock'} (now {clock.now().isoformat()})"


@pytest.fixture
def travel(monkeypatch):
    """`travel(instant)`: the product's clock reads `instant` now and runs on from there, for this test and
    the servers it starts (the environment carries it)."""
    def go(instant):
        monkeypatch.setenv(clock.ENV, clock.offset_for(instant))
        return clock.now()
    return go


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
