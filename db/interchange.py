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

from domain.i18n import Said, Term, told
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
    """The file as a whole cannot be read (unknown type, undecodable, no header, missing columns).

    Carries the file's name and the reason as a catalogue message: `str()` is the English text the
    command line prints, `text(lang)` the same in the user's language for the import page."""

    def __init__(self, name: str, key: str, **values: object) -> None:
        self.name = name
        self.said = Said(key, **values)
        super().__init__(f"{name}: {self.said}")

    def text(self, lang: str) -> str:
        return f"{self.name}: {self.said.text(lang)}"


class RowError(ValueError):
    """A cell that does not parse; the reason is a catalogue message (see `FileProblem`)."""

    def __init__(self, key: str, **values: object) -> None:
        self.said = Said(key, **values)
        super().__init__(str(self.said))


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: str
    reason: str  # English; a `Said` also tells it in Chinese (`text`)
    case_no: str = ""

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line > 0 else "") + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"

    def text(self, lang: str) -> str:
        return told(self.reason, lang)


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
            raise FileProblem(name, "ix.mixed", line=gbk_line, utf8=utf8_line)
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise FileProblem(name, "ix.undecodable", line=line) from None
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
                    raise FileProblem(name, "ix.gbk_undefined", line=n)
    if rare >= 5 and rare > 0.25 * cjk:
        raise FileProblem(name, "ix.rare", line=first_rare)
    return text


def _check_workbook(raw: bytes, name: str) -> None:
    """Refuse a workbook whose unpacked size or row count is out of all proportion, before parsing it."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_XLSX_UNPACKED:
                raise FileProblem(name, "ix.unpacks", mb=f"{total // (1024 * 1024):,}",
                                  limit=f"{MAX_XLSX_UNPACKED // (1024 * 1024):,}")
            for i in infos:
                if i.file_size > 10 * 1024 * 1024 and i.file_size > MAX_XLSX_RATIO * max(i.compress_size, 1):
                    raise FileProblem(name, "ix.ratio", member=i.filename,
                                      ratio=f"{i.file_size // max(i.compress_size, 1):,}")
                if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml"):
                    with zf.open(i) as sheet:
                        head = sheet.read(4096).decode("utf-8", "replace")
                    m = re.search(r'<(?:\w+:)?dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
                    if m and int(m.group(1)) > MAX_ROWS:
                        raise FileProblem(name, "ix.sheet_rows", rows=f"{int(m.group(1)):,}", limit=f"{MAX_ROWS:,}")
    except zipfile.BadZipFile:
        raise FileProblem(name, "ix.zip_damaged") from None


def _headers(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Take the first row as the header, refusing a header written twice (pandas would rename the second
    copy and it would then be ignored as unknown)."""
    if frame.empty:
        raise FileProblem(name, "ix.no_header")
    headers = [str(h).strip().lstrip("\ufeff") for h in frame.iloc[0].tolist()]
    seen: dict[str, int] = {}
    for i, h in enumerate(headers, start=1):
        if h and h in seen:
            raise FileProblem(name, "ix.header_twice", header=repr(h), first=seen[h], second=i)
        seen.setdefault(h, i)
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = headers
    if len(body) > MAX_ROWS:
        raise FileProblem(name, "ix.too_many_rows", rows=f"{len(body):,}", limit=f"{MAX_ROWS:,}")
    return body


def read_table(source: str | Path | bytes, name: str | None = None,
               columns: dict[str, tuple[str, str, bool]] = CASE_COLUMNS) -> Table:
    """Read CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX into a Table with canonical column names."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        try:
            if path.stat().st_size > MAX_UPLOAD_BYTES:  # before reading a byte of it
                raise FileProblem(name, "ix.too_large", mb=MAX_UPLOAD_BYTES // (1024 * 1024))
            raw = path.read_bytes()
        except OSError as exc:
            raise FileProblem(name, "ix.unreadable", error=exc.strerror or str(exc)) from exc
    else:
        raw = source
        name = name or "upload"
    if len(raw) > MAX_UPLOAD_BYTES:
        raise FileProblem(name, "ix.too_large", mb=MAX_UPLOAD_BYTES // (1024 * 1024))
    if not raw.strip():
        raise FileProblem(name, "ix.empty")
    lower = name.lower()
    try:
        if raw.startswith(XLSX_MAGIC):
            if not lower.endswith((".xlsx", ".xlsm")):
                raise FileProblem(name, "ix.xlsx_extension")
            _check_workbook(raw, name)
            frame = _headers(pd.read_excel(io.BytesIO(raw), dtype=str, keep_default_na=False, engine="openpyxl",
                                           header=None), name)
        elif lower.endswith((".xlsx", ".xlsm", ".xls")):
            raise FileProblem(name, "ix.not_xlsx")
        else:
            if b"\x00" in raw[:4096]:
                raise FileProblem(name, "ix.binary")
            nul = raw.find(b"\x00")
            if nul >= 0:  # pandas would cut the value short at the NUL
                line = raw.count(b"\n", 0, nul) + 1
                raise FileProblem(name, "ix.nul", line=line)
            text = _decode(raw, name)
            frame = _headers(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True,
                                         header=None), name)
    except FileProblem:
        raise
    except Exception as exc:  # pandas/openpyxl raise many types for malformed files
        raise FileProblem(name, "ix.unparsable",
                          error=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
    frame = frame.fillna("")
    return _canonicalise(frame, name, columns)


def _canonicalise(frame: pd.DataFrame, name: str, columns: dict[str, tuple[str, str, bool]]) -> Table:
    by_header: dict[str, str] = {}
    for canonical, (zh, _type, _req) in columns.items():
        by_header[canonical.lower()] = canonical
        by_header[zh] = canonical
    rename: dict[str, str] = {}
    original: dict[str, str] = {}
    warnings: list[str] = []  # `Said` messages
    unknown: list[str] = []
    for header in frame.columns:
        key = str(header).strip().lstrip("\ufeff")
        canonical = by_header.get(key) or by_header.get(key.lower())
        if canonical is None:
            unknown.append(str(header))
            continue
        if canonical in original:
            raise FileProblem(name, "ix.column_twice", column=canonical, first=repr(original[canonical]),
                              second=repr(header))
        rename[header] = canonical
        original[canonical] = str(header)
    if unknown:
        warnings.append(Said("ix.unknown_columns", name=name, columns=", ".join(unknown)))
    missing = [c for c, (_zh, _t, req) in columns.items() if req and c not in original]
    if missing:
        described = Term(", ".join(f"{c} ({columns[c][0]})" for c in missing),
                         "、".join(f"{columns[c][0]}（{c}）" for c in missing))
        raise FileProblem(name, "ix.missing_columns", columns=described)
    frame = frame[list(rename)].rename(columns=rename)
    frame = frame.fillna("").astype(str).apply(lambda col: col.str.strip())
    return Table(name=name, frame=frame, original_headers=original, warnings=warnings)


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in TRUE_WORDS:
        return True
    if low in FALSE_WORDS:
        return False
    raise RowError("ix.not_bool", value=repr(text))


def _parse_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise RowError("ix.not_number", value=repr(text)) from None
    if not math.isfinite(value) or value <= 0:
        raise RowError("ix.not_positive", value=repr(text))
    if value > MAX_HOURS:  # an interval of 1e9 hours would overflow every due time computed from it
        raise RowError("ix.too_big", limit=MAX_HOURS, value=repr(text))
    return value


def _parse_list(text: str) -> str:
    parts = [p.strip() for p in text.replace("；", ";").split(";")]
    return "；".join(p for p in parts if p)


def _enum_parser(kind: str) -> Callable[[str], str]:
    table = enum_lookup(kind)
    allowed = Term(", ".join(f"{v} ({zh})" for v, zh in ENUMS[kind].items()),
                   "、".join(f"{zh}（{v}）" for v, zh in ENUMS[kind].items()))

    def parse(text: str) -> str:
        value = table.get(text) or table.get(text.lower())
        if value is None:
            raise RowError("ix.unknown_value", value=repr(text), allowed=allowed)
        return value

    return parse


def _parsers(zone: ZoneInfo | None) -> dict[str, Callable[[str], Any]]:
    latest = datetime.now(timezone.utc) + LATEST_AHEAD

    def time(text: str) -> datetime:
        try:
            value = parse_instant(text, zone)
        except TimeParseError:
            raise RowError("ix.not_time", value=repr(text)) from None
        if not EARLIEST <= value <= latest:
            raise RowError("ix.time_range", value=repr(text), first=EARLIEST.year, last=latest.year)
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
                    problems.append(Problem(table.name, i + 2, header, Said("ix.required"), keys[i]))
                    bad.add(i + 2)
                continue
            if kind == "text":
                out[i] = text
                continue
            try:
                out[i] = parse(text)
            except RowError as exc:
                problems.append(Problem(table.name, i + 2, header, exc.said, keys[i]))
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
                                    Said("ix.duplicate_case", case_no=row["case_no"], line=seen[row["case_no"]]),
                                    row["case_no"]))
        else:
            seen[row["case_no"]] = line
        for column in AFTER_RECEIPT:
            value = row.get(column)
            if value is not None and value < row["received_at"]:
                problems.append(Problem(table.name, line, header[column],
                                        Said("ix.before_receipt", column=Term(column, CASE_COLUMNS[column][0])),
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
                              Said("ix.case_rejected", case_no=case_no), case_no)
        elif case_no not in received:
            problem = Problem(table.name, line, header["case_no"],
                              Said("ix.unknown_case", case_no=case_no), case_no)
        elif row["contact_at"] < received[case_no]:
            problem = Problem(table.name, line, header["contact_at"],
                              Said("ix.contact_before_receipt"), case_no)
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


def rejects_csv(table: Table, problems: list[Problem], lang: str = "en") -> bytes:
    """The bad rows as they were in the file, with their line and a reason column (UTF-8 with BOM).

    The file beside the input (command line) is headed `line`/`reason` in English as the interchange
    contract says; the page's download is in the user's language (行号/原因 and Chinese reasons)."""
    reasons: dict[int, list[str]] = {}
    for p in problems:
        if p.file == table.name and p.line >= 2:
            reasons.setdefault(p.line, []).append(f"{p.column}: {p.text(lang)}" if p.column else p.text(lang))
    lines = sorted(reasons)
    frame = table.frame.iloc[[ln - 2 for ln in lines]].copy()
    frame = frame.rename(columns={c: table.original_headers[c] for c in frame.columns})
    frame.insert(0, "行号" if lang == "zh" else "line", lines)
    frame["原因" if lang == "zh" else "reason"] = [("；" if lang == "zh" else "; ").join(reasons[ln]) for ln in lines]
    return frame.to_csv(index=False).encode("utf-8-sig")
