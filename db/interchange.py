"""Reading and checking the `cases` and `contacts` files of the interchange spec.

Nothing here touches the database: it turns a file into typed rows plus a list of problems, each naming the
file, the spreadsheet line (header = line 1), the column and the reason. `db.importer` decides what to store.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
import re
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pandas as pd

from domain.timeutil import TimeParseError, parse_instant
from domain.vocab import CASE_COLUMNS, ENUMS, FALSE_WORDS, TRUE_WORDS, enum_lookup

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"
# A workbook is a zip: its unpacked size, not the upload's, is what parsing costs. A zip bomb of a few MB
# unpacks to gigabytes; real exports compress text about 5-20 times.
MAX_XLSX_UNPACKED = 1024 * 1024 * 1024
MAX_XLSX_RATIO = 200
MAX_HOURS = 8760
MAX_ROWS = 1_100_000  # beyond Excel's own 1,048,576 rows: no genuine export is longer
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST_AHEAD = timedelta(days=2 * 366)  # promised replies lie ahead of now, but not years ahead
# times that cannot come before the case was received (closed_at is checked the same way)
AFTER_RECEIPT = ("promised_reply_at", "long_running_since", "survey_at", "archived_at", "closed_at")


class FileProblem(ValueError):
    """The file as a whole cannot be read (unknown type, undecodable, no header, missing columns)."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: str
    reason: str
    case_no: str = ""

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line > 0 else "") + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass
class Table:
    """A file read into text cells with canonical (English) column names."""

    name: str
    frame: pd.DataFrame  # every cell a str ("" = empty); columns renamed to canonical names
    original_headers: dict[str, str]  # canonical -> header as written in the file
    warnings: list[str] = field(default_factory=list)


def _gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def _decode(raw: bytes, name: str) -> str:
    """UTF-8 (with or without BOM) or GBK, and nothing in between: a file must decode cleanly as one of
    them. A mix of the two, or another encoding (Big5, Shift-JIS…) that happens to decode as GBK, would
    be stored as mojibake, with bogus handler and team names; it is refused naming the first bad line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lines = raw.split(b"\n")
    utf8_line = gbk_line = None
    for n, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_line = utf8_line or n
        except UnicodeDecodeError:
            gbk_line = gbk_line or n
        if utf8_line and gbk_line:
            raise FileProblem(f"{name}: line {gbk_line}: the file mixes UTF-8 and GBK text (line {utf8_line} is UTF-8, "
                              f"line {gbk_line} is not); save the whole file in one encoding")
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise FileProblem(f"{name}: line {line}: not readable as UTF-8 or GBK text") from None
    cjk = rare = 0
    first_rare = None
    for n, line in enumerate(text.split("\n"), start=1):
        for ch in line:
            if ord(ch) < 0x2E80:
                continue
            cjk += 1
            private = 0xE000 <= ord(ch) <= 0xF8FF
            if private or not _gb2312(ch):
                rare += 1
                first_rare = first_rare or n
                if private:
                    raise FileProblem(f"{name}: line {n}: characters that GBK leaves undefined; the file is not "
                                      "GBK (perhaps Big5 or another encoding): save it as UTF-8 or GBK")
    if rare >= 5 and rare > 0.25 * cjk:
        raise FileProblem(f"{name}: line {first_rare}: most Chinese characters decode as rare ones; the file is "
                          "not GBK (perhaps Big5 or another encoding): save it as UTF-8 or GBK")
    return text


def _check_workbook(raw: bytes, name: str) -> None:
    """Refuse a workbook whose unpacked size or row count is out of all proportion, before parsing it."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_XLSX_UNPACKED:
                raise FileProblem(f"{name}: unpacks to {total // (1024 * 1024):,} MB, more than "
                                  f"{MAX_XLSX_UNPACKED // (1024 * 1024):,} MB; split the export")
            for i in infos:
                if i.file_size > 10 * 1024 * 1024 and i.file_size > MAX_XLSX_RATIO * max(i.compress_size, 1):
                    raise FileProblem(f"{name}: {i.filename} is compressed {i.file_size // max(i.compress_size, 1):,} "
                                      "times, far more than any real export; the file is refused")
                if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml"):
                    with zf.open(i) as sheet:
                        head = sheet.read(4096).decode("utf-8", "replace")
                    m = re.search(r'<(?:\w+:)?dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
                    if m and int(m.group(1)) > MAX_ROWS:
                        raise FileProblem(f"{name}: the sheet has {int(m.group(1)):,} rows, more than "
                                          f"{MAX_ROWS:,}; split the export")
    except zipfile.BadZipFile:
        raise FileProblem(f"{name}: cannot be parsed (the .xlsx workbook's zip container is damaged)") from None


def _headers(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Take the first row as the header, refusing a header written twice (pandas would rename the second
    copy and it would then be ignored as unknown)."""
    if frame.empty:
        raise FileProblem(f"{name}: the file has no header row")
    headers = [str(h).strip().lstrip("\ufeff") for h in frame.iloc[0].tolist()]
    seen: dict[str, int] = {}
    for i, h in enumerate(headers, start=1):
        if h and h in seen:
            raise FileProblem(f"{name}: line 1: column {h!r} appears twice (columns {seen[h]} and {i})")
        seen.setdefault(h, i)
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = headers
    if len(body) > MAX_ROWS:
        raise FileProblem(f"{name}: {len(body):,} rows, more than {MAX_ROWS:,}; split the export")
    return body


def read_table(source: str | Path | bytes, name: str | None = None,
               columns: dict[str, tuple[str, str, bool]] = CASE_COLUMNS) -> Table:
    """Read CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX into a Table with canonical column names."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        try:
            if path.stat().st_size > MAX_UPLOAD_BYTES:  # before reading a byte of it
                raise FileProblem(f"{name}: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
            raw = path.read_bytes()
        except OSError as exc:
            raise FileProblem(f"{name}: cannot be read ({exc.strerror or exc})") from exc
    else:
        raw = source
        name = name or "upload"
    if len(raw) > MAX_UPLOAD_BYTES:
        raise FileProblem(f"{name}: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if not raw.strip():
        raise FileProblem(f"{name}: the file is empty")
    lower = name.lower()
    try:
        if raw.startswith(XLSX_MAGIC):
            if not lower.endswith((".xlsx", ".xlsm")):
                raise FileProblem(f"{name}: looks like an Excel workbook; save it with the .xlsx extension")
            _check_workbook(raw, name)
            frame = _headers(pd.read_excel(io.BytesIO(raw), dtype=str, keep_default_na=False, engine="openpyxl",
                                           header=None), name)
        elif lower.endswith((".xlsx", ".xlsm", ".xls")):
            raise FileProblem(f"{name}: not a valid .xlsx workbook (legacy .xls is not supported; save as .xlsx or CSV)")
        else:
            if b"\x00" in raw[:4096]:
                raise FileProblem(f"{name}: binary content; expected a CSV or XLSX file")
            nul = raw.find(b"\x00")
            if nul >= 0:  # pandas would cut the value short at the NUL
                line = raw.count(b"\n", 0, nul) + 1
                raise FileProblem(f"{name}: line {line}: contains a NUL character; the export is damaged")
            text = _decode(raw, name)
            frame = _headers(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True,
                                         header=None), name)
    except FileProblem:
        raise
    except Exception as exc:  # pandas/openpyxl raise many types for malformed files
        raise FileProblem(f"{name}: cannot be parsed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from exc
    frame = frame.fillna("")
    return _canonicalise(frame, name, columns)


def _canonicalise(frame: pd.DataFrame, name: str, columns: dict[str, tuple[str, str, bool]]) -> Table:
    by_header: dict[str, str] = {}
    for canonical, (zh, _type, _req) in columns.items():
        by_header[canonical.lower()] = canonical
        by_header[zh] = canonical
    rename: dict[str, str] = {}
    original: dict[str, str] = {}
    warnings: list[str] = []
    unknown: list[str] = []
    for header in frame.columns:
        key = str(header).strip().lstrip("\ufeff")
        canonical = by_header.get(key) or by_header.get(key.lower())
        if canonical is None:
            unknown.append(str(header))
            continue
        if canonical in original:
            raise FileProblem(f"{name}: column {canonical} appears twice (as {original[canonical]!r} and {header!r})")
        rename[header] = canonical
        original[canonical] = str(header)
    if unknown:
        warnings.append(f"{name}: unknown columns ignored: {', '.join(unknown)}")
    missing = [c for c, (_zh, _t, req) in columns.items() if req and c not in original]
    if missing:
        described = ", ".join(f"{c} ({columns[c][0]})" for c in missing)
        raise FileProblem(f"{name}: required column missing: {described}")
    frame = frame[list(rename)].rename(columns=rename)
    frame = frame.fillna("").astype(str).apply(lambda col: col.str.strip())
    return Table(name=name, frame=frame, original_headers=original, warnings=warnings)


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in TRUE_WORDS:
        return True
    if low in FALSE_WORDS:
        return False
    raise ValueError(f"not a yes/no value: {text!r} (use true/false, 1/0, yes/no, 是/否)")


def _parse_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a number greater than 0, got {text!r}")
    if value > MAX_HOURS:  # an interval of 1e9 hours would overflow every due time computed from it
        raise ValueError(f"must be at most {MAX_HOURS} (a year in hours), got {text!r}")
    return value


def _parse_list(text: str) -> str:
    parts = [p.strip() for p in text.replace("；", ";").split(";")]
    return "；".join(p for p in parts if p)


def _enum_parser(kind: str) -> Callable[[str], str]:
    table = enum_lookup(kind)
    allowed = ", ".join(f"{v} ({zh})" for v, zh in ENUMS[kind].items())

    def parse(text: str) -> str:
        value = table.get(text) or table.get(text.lower())
        if value is None:
            raise ValueError(f"unknown value {text!r}; expected one of {allowed}")
        return value

    return parse


def _parsers(zone: ZoneInfo | None) -> dict[str, Callable[[str], Any]]:
    latest = datetime.now(timezone.utc) + LATEST_AHEAD

    def time(text: str) -> datetime:
        try:
            value = parse_instant(text, zone)
        except TimeParseError:
            raise ValueError(f"not a time: {text!r} (expected ISO 8601, e.g. 2026-03-01 09:30)") from None
        if not EARLIEST <= value <= latest:
            raise ValueError(f"time out of range: {text!r} (expected between {EARLIEST.year} and {latest.year})")
        return value

    parsers: dict[str, Callable[[str], Any]] = {
        "text": lambda t: t,
        "time": time,
        "bool": _parse_bool,
        "positive_number": _parse_number,
        "list": _parse_list,
    }
    for kind in ENUMS:
        parsers[kind] = _enum_parser(kind)
    return parsers


@dataclass
class ParsedRows:
    rows: list[dict[str, Any]]  # good rows, typed; each has "_line"
    problems: list[Problem]
    bad_lines: set[int]


def parse_rows(table: Table, columns: dict[str, tuple[str, str, bool]], zone: ZoneInfo | None = None) -> ParsedRows:
    """Type every cell; a row with any problem is left out of `rows` and every problem is listed.

    Works column by column (one parser per column over a plain list) rather than row by row over dicts:
    a 100k-row export has millions of cells, and per-cell dictionary traffic was most of the time.
    """
    parsers = _parsers(zone)
    frame = table.frame
    n = len(frame)
    keys = frame["case_no"].tolist() if "case_no" in frame.columns else [""] * n
    problems: list[Problem] = []
    bad: set[int] = set()
    typed: dict[str, list[Any]] = {}
    for column in frame.columns:
        kind, required = columns[column][1], columns[column][2]
        header = table.original_headers[column]
        values = frame[column].tolist()
        parse = parsers[kind]
        out: list[Any] = [None] * n
        for i, text in enumerate(values):
            if text == "":
                if required:
                    problems.append(Problem(table.name, i + 2, header, "required value is empty", keys[i]))
                    bad.add(i + 2)
                continue
            if kind == "text":
                out[i] = text
                continue
            try:
                out[i] = parse(text)
            except ValueError as exc:
                problems.append(Problem(table.name, i + 2, header, str(exc), keys[i]))
                bad.add(i + 2)
        typed[column] = out
    names = list(typed)
    rows = [dict(zip(names, values), _line=i + 2)
            for i, values in enumerate(zip(*typed.values())) if i + 2 not in bad]
    problems.sort(key=lambda p: p.line)
    return ParsedRows(rows, problems, bad)


def check_cases(table: Table, parsed: ParsedRows) -> None:
    """Checks across the fields of one case row, and duplicate case numbers inside the file."""
    header = table.original_headers
    seen: dict[str, int] = {}
    keep: list[dict[str, Any]] = []
    for row in parsed.rows:
        line = row["_line"]
        problems: list[Problem] = []
        if row["case_no"] in seen:
            problems.append(Problem(table.name, line, header["case_no"],
                                    f"case_no {row['case_no']} already appears on line {seen[row['case_no']]}",
                                    row["case_no"]))
        else:
            seen[row["case_no"]] = line
        for column in AFTER_RECEIPT:
            value = row.get(column)
            if value is not None and value < row["received_at"]:
                problems.append(Problem(table.name, line, header[column], f"{column} is before received_at",
                                        row["case_no"]))
        if problems:
            parsed.problems.extend(problems)
            parsed.bad_lines.add(line)
        else:
            keep.append(row)
    parsed.rows = keep


def check_contacts(table: Table, parsed: ParsedRows, received: dict[str, datetime],
                   rejected_cases: set[str]) -> None:
    """Contacts must name a known case and may not be earlier than that case's received_at.

    `received` maps every case_no that will exist after the import (good rows of the cases file plus the
    database) to its received_at; `rejected_cases` are case numbers whose row in the cases file was bad.
    """
    header = table.original_headers
    keep: list[dict[str, Any]] = []
    for row in parsed.rows:
        line = row["_line"]
        case_no = row["case_no"]
        problem: Problem | None = None
        if case_no in rejected_cases:
            problem = Problem(table.name, line, header["case_no"],
                              f"case {case_no} was rejected in the cases file", case_no)
        elif case_no not in received:
            problem = Problem(table.name, line, header["case_no"],
                              f"unknown case {case_no}: not in this import nor in the database", case_no)
        elif row["contact_at"] < received[case_no]:
            problem = Problem(table.name, line, header["contact_at"],
                              "contact_at is before the case's received_at", case_no)
        if problem:
            parsed.problems.append(problem)
            parsed.bad_lines.add(line)
        else:
            keep.append(row)
    parsed.rows = keep


def write_rejects(table: Table, problems: list[Problem], target: Path) -> Path:
    """Write the bad rows as they were in the file, with a `reason` column, next to the input."""
    target.write_bytes(rejects_csv(table, problems))
    return target


def rejects_csv(table: Table, problems: list[Problem]) -> bytes:
    """The bad rows as they were in the file, with their line and a `reason` column (UTF-8 with BOM)."""
    reasons: dict[int, list[str]] = {}
    for p in problems:
        if p.file == table.name and p.line >= 2:
            reasons.setdefault(p.line, []).append(f"{p.column}: {p.reason}" if p.column else p.reason)
    lines = sorted(reasons)
    frame = table.frame.iloc[[ln - 2 for ln in lines]].copy()
    frame = frame.rename(columns={c: table.original_headers[c] for c in frame.columns})
    frame.insert(0, "line", lines)
    frame["reason"] = ["; ".join(reasons[ln]) for ln in lines]
    return frame.to_csv(index=False).encode("utf-8-sig")
