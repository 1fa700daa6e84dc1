"""The product's one clock. Every module asks it for the current instant or today's date; nothing else reads
the wall clock (tests/test_layers.py keeps it so).

The clock is the machine's time moved by an optional offset taken from the environment variable
COMPLAINTS_CLOCK_OFFSET, read on every call so that a test (and any server process it starts, which inherits
the environment) can move the product through time: `+366d`, `-30d`, `+2h`, `-90m`, `3600` (seconds) or
`3600s`. Unset or empty means no offset. An offset that cannot be read stops the product with a message
naming the variable, rather than running at the wrong time.

The sidebar's replay ("as of") instant is not this clock: it chooses which past is *shown*, while access
decisions and the time stamped on every write always come from here.
"""
from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from domain.config import local_zone

ENV = "COMPLAINTS_CLOCK_OFFSET"
# Tests only: a file the clock touches on its first read in a process while the variable names it, so the
# suite learns which tests read the product's time (and runs those again at shifted dates, tests/conftest.py).
TRACE = "COMPLAINTS_CLOCK_TRACE"
_OFFSET = re.compile(r"^\s*([+-]?)\s*(\d+(?:\.\d+)?)\s*([dhms]?)\s*$")
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1, "": 1}
# Past a century in either direction the offset is a typing error, not a test (and datetime overflows).
_LIMIT = timedelta(days=36500)
_cache: tuple[str, timedelta] = ("", timedelta(0))
_traced = ""


class ClockOffsetInvalid(ValueError):
    pass


def parse_offset(text: str) -> timedelta:
    """`+366d` → 366 days ahead; `-30d`, `+2h`, `-90m`, `45s`, `3600` (seconds)."""
    m = _OFFSET.match(text or "")
    if not m:
        raise ClockOffsetInvalid(f"{ENV}={text!r} is not an offset such as +366d, -30d, +2h or 3600")
    seconds = float(m.group(2)) * _UNIT[m.group(3)]
    value = timedelta(seconds=-seconds if m.group(1) == "-" else seconds)
    if abs(value) > _LIMIT:
        raise ClockOffsetInvalid(f"{ENV}={text!r} moves the clock more than a century")
    return value


def format_offset(value: timedelta) -> str:
    """The environment form of an offset, in whole seconds (`+31622400`)."""
    seconds = int(value.total_seconds())
    return f"{'+' if seconds >= 0 else '-'}{abs(seconds)}"


def _trace() -> None:
    global _traced
    path = os.environ.get(TRACE, "")
    if path and path != _traced:
        _traced = path
        try:
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError:
            pass


def offset() -> timedelta:
    """The offset in force now (cached per value of the variable; parsing it is not free on a hot path)."""
    global _cache
    _trace()
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return timedelta(0)
    if raw != _cache[0]:
        _cache = (raw, parse_offset(raw))
    return _cache[1]


def now() -> datetime:
    """The current instant, aware, in UTC, to the second."""
    return (datetime.now(timezone.utc) + offset()).replace(microsecond=0)


def now_precise() -> datetime:
    """The current instant with its microseconds (ordering writes within one second, measuring)."""
    return datetime.now(timezone.utc) + offset()


def stamp() -> datetime:
    """The instant a row is written, for bookkeeping columns (created, changed, audited): the same clock as
    `now_precise()`, but not reported to COMPLAINTS_CLOCK_TRACE, so a test is not counted as date-sensitive
    just for writing rows (a stamp read back is compared with this clock, whatever date it shows)."""
    raw = os.environ.get(ENV, "").strip()
    return datetime.now(timezone.utc) + (parse_offset(raw) if raw else timedelta(0))


def today(zone: ZoneInfo | None = None) -> date:
    """Today's date in the configured zone (Asia/Shanghai by default), where a day's figures begin."""
    return now().astimezone(zone or local_zone()).date()


def local_now(zone: ZoneInfo | None = None) -> datetime:
    return now().astimezone(zone or local_zone())


def offset_for(instant: datetime) -> str:
    """The value of COMPLAINTS_CLOCK_OFFSET that makes the clock read `instant` now (tests travel with it)."""
    if instant.tzinfo is None:
        raise ValueError("an instant to travel to needs its zone")
    return format_offset(instant - datetime.now(timezone.utc))
