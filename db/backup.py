"""Online backup and restore of the embedded SQLite database (PostgreSQL: pg_dump / pg_restore)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from db.session import dispose_engine
from domain.config import database_url


class BackupProblem(ValueError):
    pass


def _sqlite_path(url: str | None) -> Path:
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise BackupProblem("backup/restore handle the embedded SQLite database; for PostgreSQL use pg_dump")
    return Path(parsed.database)


def backup(url: str | None, target: str | Path) -> Path:
    """A consistent copy even while the app writes (sqlite3's backup API copies page by page under a lock)."""
    source = _sqlite_path(url)
    if not source.is_file():
        raise BackupProblem(f"{source}: no such database file (check --db or COMPLAINTS_DB_URL)")
    _check_product_db(source)  # opened read-only: a mistyped path must not create an empty database
    target = Path(target)
    if target.exists() and target.is_dir():
        raise BackupProblem(f"{target}: is a folder; name the backup file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
    except (OSError, sqlite3.Error) as exc:
        raise BackupProblem(f"{target}: the backup cannot be written ({exc})") from exc
    return target


def _check_product_db(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupProblem(f"{path}: not a SQLite database ({exc})") from exc
    if not {"cases", "contacts", "obligations", "alembic_version"} <= tables:
        raise BackupProblem(f"{path}: not a database of this product (tables missing)")


def restore(url: str | None, source: str | Path) -> None:
    """Check the backup (integrity and schema) before replacing anything; the swap is a single backup call."""
    source = Path(source)
    if not source.exists():
        raise BackupProblem(f"{source}: no such file")
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as conn:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupProblem(f"{source}: not a SQLite database ({exc})") from exc
    if ok != "ok":
        raise BackupProblem(f"{source}: integrity check failed ({ok})")
    if not {"cases", "contacts", "obligations", "alembic_version"} <= tables:
        raise BackupProblem(f"{source}: not a database of this product (tables missing)")
    target = _sqlite_path(url)
    dispose_engine(database_url(url))
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
