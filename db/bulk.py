"""Bulk inserts for imports, seeding and re-evaluation.

On PostgreSQL this is SQLAlchemy Core's executemany. On SQLite the rows go straight to the driver's
executemany with values already in the form SQLAlchemy stores (instants as naive-UTC text with
microseconds, booleans as 0/1): with 400k obligation rows per 100k cases, the per-value type processing
was a third of a seed's time. The stored values are identical either way (tests run on both paths).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, Sequence

from sqlalchemy import Boolean, Table, insert
from sqlalchemy.orm import Session

CHUNK = 20000
PIPE_CHUNK = 5000  # rows per executemany on SQLite (prepared while the previous batch is written)
UTC = timezone.utc


_DAYS: dict[int, str] = {}
_CLOCK = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


def epoch_text(seconds: int | None) -> str | None:
    """Whole epoch seconds as the text SQLAlchemy stores for an instant on SQLite ("YYYY-MM-DD
    HH:MM:SS.ffffff", naive UTC), from a table of days and of the 86,400 times of day: formatting millions of
    instants with strftime was a tenth of an import."""
    if seconds is None:
        return None
    day, second = divmod(seconds, 86400)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")
    return text + _CLOCK[second] + ".000000"


def _utc(value: datetime) -> datetime:
    """An aware instant in UTC (a naive one is refused: its zone is unknown)."""
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a zone first")
        value = value.astimezone(UTC)
    return value


def _instant(value: datetime | None) -> str | None:
    """An aware instant as SQLAlchemy stores it on SQLite (see `epoch_text`)."""
    if value is None:
        return None
    value = _utc(value)
    micro = value.microsecond
    text = epoch_text(int(value.timestamp()) if not micro else int(value.replace(microsecond=0).timestamp()))
    return text if not micro else f"{text[:20]}{micro:06d}"


_EPOCH = datetime(1970, 1, 1)


def _naive_epoch(seconds: int | None) -> datetime | None:
    return None if seconds is None else _EPOCH + timedelta(seconds=seconds)


def _naive_utc(value: datetime | None) -> datetime | None:
    """What UTCDateTime stores on PostgreSQL: the UTC wall time without a zone."""
    return None if value is None else _utc(value).replace(tzinfo=None)


def _copy(session: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple],
          epoch_columns: frozenset[str]) -> None:
    """PostgreSQL: rows through COPY (psycopg's binary-free text protocol), several times faster than
    executemany for the hundreds of thousands of rows of an import; instants as UTCDateTime stores them."""
    from db.models import UTCDateTime

    convert = [_naive_epoch if c in epoch_columns else _naive_utc if isinstance(table.c[c].type, UTCDateTime)
               else None for c in columns]
    raw = session.connection().connection.dbapi_connection
    names = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for i in range(0, len(rows), CHUNK):
            cols = [list(map(conv, col)) if conv else col for conv, col in zip(convert, zip(*rows[i:i + CHUNK]))]
            for row in zip(*cols):
                copy.write_row(row)


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _converters(table: Table, columns: Sequence[str]) -> list[Any]:
    """Per column: how to turn a Python value into what SQLAlchemy would have stored (None: as it is)."""
    from db.models import UTCDateTime

    out: list[Any] = []
    for name in columns:
        kind = table.c[name].type
        out.append(_instant if isinstance(kind, UTCDateTime) else _flag if isinstance(kind, Boolean) else None)
    return out


def insert_tuples(session: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple],
                  epoch_columns: frozenset[str] = frozenset()) -> None:
    """Insert rows given as tuples in `columns` order; the instants of `epoch_columns` are whole epoch
    seconds (int or None), those of other instant columns aware datetimes. Converted column by column."""
    if not rows:
        return
    if session.get_bind().dialect.name != "sqlite":
        _copy(session, table, columns, rows, epoch_columns)
        return
    convert = [epoch_text if c in epoch_columns else conv for c, conv in zip(columns, _converters(table, columns))]
    sql = (f'INSERT INTO "{table.name}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
           f'VALUES ({", ".join("?" for _ in columns)})')

    def batches() -> Iterator[list[tuple]]:
        for i in range(0, len(rows), PIPE_CHUNK):
            cols = [list(map(conv, col)) if conv else col for conv, col in zip(convert, zip(*rows[i:i + PIPE_CHUNK]))]
            yield list(zip(*cols))

    _pipelined(session, sql, batches())


def insert_prepared(session: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """SQLite: insert rows whose values are already in the stored form (see `epoch_text`)."""
    sql = (f'INSERT INTO "{table.name}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
           f'VALUES ({", ".join("?" for _ in columns)})')
    _pipelined(session, sql, (rows[i:i + PIPE_CHUNK] for i in range(0, len(rows), PIPE_CHUNK)))


def _pipelined(session: Session, sql: str, batches: Iterator[list[tuple]]) -> None:
    """SQLite: run `executemany` for each batch on a helper thread while this thread prepares the next one.
    sqlite3 lets go of the GIL while SQLite inserts a row and updates the indexes, so the two overlap (a
    third of an import's time was SQLite's own work with Python waiting). The statements run one at a time
    on the session's own connection, inside its transaction; the call returns when all are done."""
    raw = session.connection().connection.dbapi_connection
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer") as pool:
        pending = None
        for params in batches:
            if pending is not None:
                pending.result()
            pending = pool.submit(raw.executemany, sql, params)
        if pending is not None:
            pending.result()


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) into a table, in chunks, inside the caller's transaction."""
    if not rows:
        return
    if session.get_bind().dialect.name != "sqlite":
        for i in range(0, len(rows), CHUNK):
            session.execute(insert(table), list(rows[i:i + CHUNK]))
        return
    columns = list(rows[0])
    conn = session.connection()
    plain = [c for c, conv in zip(columns, _converters(table, columns)) if conv is None]
    converted = [(c, conv) for c, conv in zip(columns, _converters(table, columns)) if conv is not None]
    ordered = plain + [c for c, _ in converted]
    sql = (f'INSERT INTO "{table.name}" ({", ".join(chr(34) + c + chr(34) for c in ordered)}) '
           f'VALUES ({", ".join("?" for _ in ordered)})')
    del conn

    def batches() -> Iterator[list[tuple]]:
        for i in range(0, len(rows), PIPE_CHUNK):
            yield [tuple([r[c] for c in plain] + [conv(r[c]) for c, conv in converted]) for r in rows[i:i + PIPE_CHUNK]]

    _pipelined(session, sql, batches())
