"""Engines and sessions. Engines are built on demand (never at import) and cached per URL."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from domain.config import database_url

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or opened; the message says which and why, without a traceback."""


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the live board read while an import writes; busy_timeout makes a writer wait instead of
    # failing at once when the scheduler's import and an edit in the app meet.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA synchronous=NORMAL")
    # 64 MiB of page cache instead of SQLite's 2 MiB: an import's index updates stop spilling to the WAL
    # file page by page (the bare write of 100k cases' rows: 12-16 s -> 11-13 s here); used only as needed.
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def get_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(url, pool_pre_ping=True, connect_args=_pg_args(url))
                if engine.dialect.name == "postgresql":
                    event.listen(engine, "before_cursor_execute", _strip_nul, retval=True)
            _engines[url] = engine
        return engine


def _clean(value):
    return value.replace("\x00", "") if isinstance(value, str) and "\x00" in value else value


def _strip_nul(conn, cursor, statement, parameters, context, executemany):
    """PostgreSQL refuses a NUL character inside text, and the error would carry the SQL and its values.
    A NUL typed or pasted into a form means nothing: drop it from the parameters of statements sent from
    the pages. Bulk statements (imports: many rows) are left alone; the importer refuses NULs itself."""
    if executemany and not isinstance(parameters, dict):  # (a dict here: one "insertmanyvalues" batch)
        if len(parameters) > 1000:
            return statement, parameters
        return statement, [_clean_params(p) for p in parameters]
    return statement, _clean_params(parameters)


def _clean_params(params):
    if isinstance(params, dict):
        return {k: _clean(v) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return type(params)(_clean(v) for v in params)
    return params


def _pg_args(url: str) -> dict:
    return {"connect_timeout": 5} if url.startswith("postgresql") else {}


def dispose_engine(url: str) -> None:
    with _lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def reset_engines() -> None:
    """Dispose every cached engine (tests switch databases between cases)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error."""
    engine = get_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        try:
            with session.begin():
                yield session
        except OperationalError as exc:
            raise DatabaseUnavailable(describe_db_error(exc, engine)) from exc


def describe_db_error(exc: Exception, engine: Engine) -> str:
    target = engine.url.render_as_string(hide_password=True)
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
    return f"database {target} is unavailable: {text}"


def check_connection(url: str | None = None) -> None:
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        raise DatabaseUnavailable(describe_db_error(exc, engine)) from exc


BULK_TABLES = ("cases", "contacts", "obligations", "deadline_episodes", "deadline_hours")


def settle_after_bulk(url: str | None = None) -> None:
    """After a bulk change has committed (a large import, a seed, a re-evaluation of every case): on
    PostgreSQL, VACUUM (ANALYZE) the tables it rewrote. Until a table is vacuumed its visibility map is
    empty, so every index-only scan the board relies on still visits the table row by row: at 1M cases the
    board's tiles took 640 ms right after a bulk load and 27 ms after this (benchmarks/bench_scale.py).
    Autovacuum would get there eventually; the board is used straight away. VACUUM cannot run inside a
    transaction, hence a connection of its own. Nothing to do on SQLite (its ANALYZE ran in the change)."""
    engine = get_engine(url)
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(BULK_TABLES)}")


def refresh_statistics(session: Session) -> None:
    """Update the planner's statistics after a bulk change (a large import, a seed, a bulk re-evaluation).
    SQLite keeps none until ANALYZE runs, and without them it passes over the board's partial indexes."""
    session.execute(text("ANALYZE"))
