"""The hourly deadline counts (deadline_hours) stay equal to the obligations they summarise, whatever
changes the obligations, and the board's period statistics read from them give exactly what counting the
obligations gives (SQLite and PostgreSQL)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from db import board
from db.edits import add_contact
from db.importer import import_files
from db.library import archive_cases, archive_queue
from db.models import Case, DeadlineHour, Obligation
from db.obligations import reevaluate_all
from db.seed import seed
from db.session import session_scope
from db.settings import apply_thresholds
from rules.thresholds import DEFAULT
from tests.helpers import case_row, contact_row, write_csv

NOW = datetime(2026, 11, 20, 6, 30, tzinfo=timezone.utc)


def counts_from_obligations(s) -> Counter:
    rows = s.execute(select(Obligation.due_at, Obligation.rule_id, Obligation.state, Obligation.team_id,
                            Obligation.category, Obligation.channel).where(Obligation.due_at.is_not(None)))
    return Counter((int(d.timestamp() // 3600), r, st, t or 0, c or "", ch or "") for d, r, st, t, c, ch in rows)


def counts_from_rollup(s) -> Counter:
    rows = s.execute(select(DeadlineHour.hour, DeadlineHour.rule_id, DeadlineHour.state, DeadlineHour.team_id,
                            DeadlineHour.category, DeadlineHour.channel, DeadlineHour.n))
    return Counter({tuple(r[:6]): r[6] for r in rows if r[6]})


def assert_in_step(url):
    with session_scope(url) as s:
        assert counts_from_rollup(s) == counts_from_obligations(s)
        assert s.scalar(select(DeadlineHour.n).where(DeadlineHour.n < 0).limit(1)) is None


def test_hourly_counts_follow_every_change(db_url, tmp_path):
    seed(300, 9, NOW, db_url)
    assert_in_step(db_url)
    # an import that changes cases and adds contacts
    cases = write_csv(tmp_path / "c.csv", [case_row("R-1", received_at="2026-11-19 09:00", promised_reply_at="")])
    assert import_files(cases, now=NOW).ok
    assert_in_step(db_url)
    contacts = write_csv(tmp_path / "k.csv", [contact_row("R-1", "2026-11-19 10:00", "first")])
    assert import_files(None, contacts, now=NOW).ok
    assert_in_step(db_url)
    # a contact recorded in the app, an archive, a threshold change (bulk re-evaluation)
    with session_scope(db_url) as s:
        version = s.scalar(select(Case.version).where(Case.case_no == "R-1"))
        add_contact(s, "R-1", version, NOW - timedelta(hours=1), "final", "phone", None, "lead", NOW)
    assert_in_step(db_url)
    with session_scope(db_url) as s:
        ready = [r for r in archive_queue(s, NOW)[1] if r["complete"]][:3]
        archive_cases(s, {r["case_no"]: r["version"] for r in ready}, "lead", NOW)
    assert_in_step(db_url)
    apply_thresholds(DEFAULT.__class__(**{**DEFAULT.as_dict(), "first_contact_hours": 12}), NOW, db_url, actor="admin")
    assert_in_step(db_url)
    with session_scope(db_url) as s:
        reevaluate_all(s, NOW + timedelta(days=2))
    assert_in_step(db_url)


@pytest.mark.parametrize("filters", [board.BoardFilters(), board.BoardFilters(rules=board.DEADLINE_RULES),
                                     board.BoardFilters(categories=("network",), channels=("phone", "online")),
                                     board.BoardFilters(rules=("SLA-FIRST-CONTACT",))])
def test_period_statistics_from_hourly_counts_equal_counting_obligations(db_url, monkeypatch, filters):
    seed(400, 4, NOW, db_url)
    with session_scope(db_url) as s:
        team = s.scalar(select(Obligation.team_id).where(Obligation.team_id.is_not(None)).limit(1))
        from db.models import Team

        names = (s.scalar(select(Team.name).where(Team.id == team)),)
    cases = [filters, board.BoardFilters(teams=names, rules=filters.rules, categories=filters.categories)]
    # periods starting and ending off the hour, and "now" inside the period
    periods = [(NOW - timedelta(days=7, minutes=17), NOW + timedelta(days=1)), (NOW - timedelta(days=30), NOW),
               (NOW - timedelta(hours=5, minutes=5), NOW - timedelta(hours=1, minutes=59))]
    with session_scope(db_url) as s:
        fast = [(board.compliance(s, NOW, f, a, b), board.breaches_in_period(s, NOW, f, a, b, 8))
                for f in cases for a, b in periods]
    monkeypatch.setattr(board, "_hour_span", lambda start, stop: None)  # count the obligations themselves
    with session_scope(db_url) as s:
        slow = [(board.compliance(s, NOW, f, a, b), board.breaches_in_period(s, NOW, f, a, b, 8))
                for f in cases for a, b in periods]
    assert fast == slow
    assert any(c for c, _ in fast) and any(b for _, b in fast)


def test_upgrading_an_existing_database_fills_the_hourly_counts(db_url):
    from alembic import command
    from sqlalchemy import create_engine, text

    from db.migrate import alembic_config
    from db.session import dispose_engine

    seed(200, 6, NOW, db_url)
    dispose_engine(db_url)
    engine = create_engine(db_url)
    for target in ("0009", "head"):
        with engine.begin() as conn:
            cfg = alembic_config(db_url)
            cfg.attributes["connection"] = conn
            (command.downgrade if target == "0009" else command.upgrade)(cfg, target)
            if target == "0009":
                assert conn.execute(text("SELECT count(*) FROM obligations")).scalar() > 0
    engine.dispose()
    assert_in_step(db_url)
