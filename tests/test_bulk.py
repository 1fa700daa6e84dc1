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
