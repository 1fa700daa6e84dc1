"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and upgrading
an older database keeps and completes its data."""
from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select, text

from db.migrate import alembic_config, upgrade
from db.models import Base, Obligation
from db.importer import import_files
from db.session import dispose_engine, session_scope
from tests.helpers import case_row, write_csv


def test_migrated_schema_matches_the_models(db_url):
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_upgrading_from_the_first_revision_backfills_board_columns(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    monkeypatch.setenv("COMPLAINTS_DB_URL", url)
    upgrade(url)
    import_files(write_csv(tmp_path / "cases.csv", [case_row("OLD-1")]), now=datetime(2026, 3, 3, tzinfo=timezone.utc))
    dispose_engine(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
        assert conn.execute(text("SELECT count(*) FROM obligations")).scalar() > 0
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    engine.dispose()
    with session_scope(url) as s:
        rows = s.execute(select(Obligation.category, Obligation.channel, Obligation.handler_id)).all()
    assert rows and all(r == ("network", "phone", 1) for r in rows)
