"""Run Alembic migrations programmatically (`manage.py init-db`, app first start, tests)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.migration import MigrationContext
from sqlalchemy import text
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from db.session import DatabaseUnavailable, describe_db_error, get_engine
from domain.config import database_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None) -> None:
    """Create or upgrade the schema to the newest revision; running it again changes nothing."""
    url = database_url(url)
    engine = get_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            before = MigrationContext.configure(conn).get_current_revision()
            command.upgrade(cfg, "head")
            if before is not None and before != MigrationContext.configure(conn).get_current_revision():
                conn.execute(text("ANALYZE"))  # new indexes on an existing database: let the planner see them
    except OperationalError as exc:
        raise DatabaseUnavailable(describe_db_error(exc, engine)) from exc


def is_initialised(url: str | None = None) -> bool:
    engine = get_engine(url)
    try:
        return inspect(engine).has_table("cases")
    except OperationalError as exc:
        raise DatabaseUnavailable(describe_db_error(exc, engine)) from exc
