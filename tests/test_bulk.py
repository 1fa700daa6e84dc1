"""The bulk writers' own formatting of instants must be exactly what SQLAlchemy stores on SQLite: the board's
range conditions compare those texts."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from db.bulk import _instant, epoch_text

UTC = timezone.utc


def test_instants_are_formatted_exactly_as_sqlalchemy_stores_them():
    r = random.Random(7)
    base = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    shanghai = timezone(timedelta(hours=8))
    for _ in range(20000):
        value = base + timedelta(seconds=r.randint(-2 * 10**9, 2 * 10**9), microseconds=r.choice([0, 0, 1, 999999]))
        expected = value.strftime("%Y-%m-%d %H:%M:%S.%f")
        assert _instant(value) == expected
        assert _instant(value.astimezone(shanghai)) == expected  # other zones are converted to UTC first
        if not value.microsecond:
            assert epoch_text(int(value.timestamp())) == expected
    assert _instant(None) is None and epoch_text(None) is None
    assert epoch_text(0) == "1970-01-01 00:00:00.000000"
    assert epoch_text(253370764800) == "9999-01-01 00:00:00.000000"  # "not yet" in the episodes table


def test_a_seed_leaves_postgresql_tables_vacuumed_for_index_only_scans(db_url):
    """Right after a bulk change the board's index-only scans would still read every table row (empty
    visibility map); the bulk jobs vacuum the tables they rewrote. SQLite has nothing of the kind."""
    from sqlalchemy import text

    from db.seed import seed
    from db.session import session_scope

    with session_scope(db_url) as s:
        postgres = s.get_bind().dialect.name == "postgresql"
        started = s.execute(text("SELECT clock_timestamp()")).scalar() if postgres else None
    seed(60, 2, datetime(2026, 3, 3, tzinfo=UTC), db_url)
    with session_scope(db_url) as s:
        if not postgres:
            assert s.execute(text("SELECT count(*) FROM sqlite_stat1")).scalar() > 0  # ANALYZE ran
            return
        vacuumed = dict(s.execute(text("SELECT relname, last_vacuum >= :t FROM pg_stat_user_tables WHERE relname "
                                       "IN ('obligations', 'cases', 'deadline_hours')"), {"t": started}).all())
    assert vacuumed == {"obligations": True, "cases": True, "deadline_hours": True}
