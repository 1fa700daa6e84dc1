"""Hardening: account session epoch, per-address sign-in throttle, audit hash chain and TRUNCATE/REPLACE
guards

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

import db.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SQLITE_NO_UPDATE = ("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", db.models.UTCDateTime(), nullable=False),
        sa.Column("locked_until", db.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))

    # Chain the rows written so far (the update trigger is lifted for this one backfill only).
    from db.audit import GENESIS, chain_hash

    if pg:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    t = db.models.AuditEntry.__table__
    prev = GENESIS
    rows = bind.execute(sa.select(t.c.id, t.c.at, t.c.actor, t.c.action, t.c.entity, t.c.entity_key,
                                  t.c.before, t.c.after).order_by(t.c.id)).all()
    for rid, at, actor, action, entity, key, before, after in rows:
        h = chain_hash(prev, at, actor, action, entity, key, before, after)
        bind.execute(t.update().where(t.c.id == rid).values(prev_hash=prev, row_hash=h))
        prev = h
    if pg:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")
    else:
        op.execute(SQLITE_NO_UPDATE)
        # INSERT OR REPLACE deletes the old row without firing the delete trigger: refuse reusing an id.
        op.execute("CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log "
                   "WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id) "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_replace")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
    if pg:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")
    else:
        op.execute(SQLITE_NO_UPDATE)
    op.drop_table("login_throttle")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_epoch")
