"""Time parsing and formatting. Instants travel through the product as aware UTC datetimes."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from domain import clock
from domain.config import local_zone

UTC = timezone.utc
_SPACE_T = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(.*)$")


class TimeParseError(ValueError):
    pass


def parse_instant(text: str, zone: ZoneInfo | None = None) -> datetime:
    """Parse an ISO 8601 time as exported by work-order systems and return it in UTC.

    Accepts `2026-03-01T09:30:00`, `2026-03-01 09:30`, fractions, `Z` and `+08:00` offsets, and a bare date
    (midnight). Without an offset the time is read in `zone` (the configured local zone by default).
    """
    raw = text.strip()
    if not raw:
        raise TimeParseError("empty time")
    candidate = raw.replace("Z", "+00:00") if raw.endswith("Z") else raw
    m = _SPACE_T.match(candidate)
    if m:
        hhmm = m.group(2)
        if len(hhmm.split(":")[0]) == 1:
            hhmm = "0" + hhmm
        candidate = f"{m.group(1)}T{hhmm}{m.group(3).strip()}"
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError as exc:
        raise TimeParseError(f"not an ISO 8601 time: {raw!r}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone or local_zone())
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 00:00 in UTC+8 lies before the first instant a datetime can hold
        raise TimeParseError(f"outside the years a time can have: {raw!r}") from None


def within_product_years(value: datetime, today: date) -> bool:
    """Does an instant lie in the window the product accepts (EARLIEST_DATE to two years after today)? An
    instant past it, such as 9999-12-31, overflows once a deadline's hours are added to it."""
    day = value.astimezone(local_zone()).date() if value.tzinfo else value.date()
    return EARLIEST_DATE <= day <= latest_date(today)


def to_utc(value: datetime, zone: ZoneInfo | None = None) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone or local_zone())
    return value.astimezone(UTC)


def utcnow() -> datetime:
    """The clock's current instant (kept for callers that already import it from here)."""
    return clock.now()


def to_local(value: datetime | None, zone: ZoneInfo | None = None) -> datetime | None:
    if value is None:
        return None
    return to_utc(value).astimezone(zone or local_zone())


def fmt_local(value: datetime | None, zone: ZoneInfo | None = None, seconds: bool = False) -> str:
    """Show an instant in the configured zone, e.g. `2026-03-01 09:30`."""
    if value is None:
        return ""
    return to_local(value, zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def iso_with_offset(value: datetime | None, zone: ZoneInfo | None = None) -> str | None:
    if value is None:
        return None
    return to_local(value, zone).isoformat(timespec="seconds")


def fmt_duration(seconds: float, lang: str = "zh") -> str:
    """Hours and minutes, e.g. `5小时07分` / `5h 07m`; days shown once it exceeds a day."""
    total = int(abs(seconds)) // 60
    days, rem = divmod(total, 24 * 60)
    hours, minutes = divmod(rem, 60)
    if lang == "zh":
        text = f"{hours}小时{minutes:02d}分"
        return f"{days}天{text}" if days else text
    text = f"{hours}h {minutes:02d}m"
    return f"{days}d {text}" if days else text


# The window of instants the product accepts from a user (date pickers, the sidebar's as-of time) and from
# an import: complaints of this century, and promised replies at most two years ahead.
EARLIEST_DATE = date(2000, 1, 1)


def latest_date(today: date) -> date:
    return today.replace(year=today.year + 2) if not (today.month == 2 and today.day == 29) else date(today.year + 2, 2, 28)


def clamp_date(day: date, today: date) -> date:
    return min(max(day, EARLIEST_DATE), latest_date(today))


def utc_offset(moment: datetime) -> str:
    """The local zone as people read it on a screen: `UTC+08:00` (a zone name such as Asia/Shanghai is
    configuration, not something to show)."""
    offset = moment.astimezone(local_zone()).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
