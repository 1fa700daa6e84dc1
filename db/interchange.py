"""Reading and checking the `cases` and `contacts` files of the interchange spec.

Nothing here touches the database: it turns a file into typed rows plus a list of problems, each naming the
file, the spreadsheet line (header = line 1), the column and the reason. `db.importer` decides what to store.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pandas as pd

from domain.timeutil import TimeParseError, parse_instant
from domain.vocab import CASE_COLUMNS, ENUMS, FALSE_WORDS, TRUE_WORDS, enum_lookup

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"


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
        where = f"{self.file}, line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass
class Table:
    """A file read into text cells with canonical (English) column names."""

    name: str
    frame: pd.DataFrame  # every cell a str ("" = empty); columns renamed to canonical names
    original_headers: dict[str, str]  # canonical -> header as written in the file
    warnings: list[str] = field(default_factory=list)


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem(f"{name}: not readable as UTF-8 or GBK text")


def read_table(source: str | Path | bytes, name: str | None = None,
               columns: dict[str, tuple[str, str, bool]] = CASE_COLUMNS) -> Table:
    """Read CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX into a Table with canonical column names."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        try:
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
            frame = pd.read_excel(io.BytesIO(raw), dtype=str, keep_default_na=False, engine="openpyxl")
        elif lower.endswith((".xlsx", ".xlsm", ".xls")):
            raise FileProblem(f"{name}: not a valid .xlsx workbook (legacy .xls is not supported; save as .xlsx or CSV)")
        else:
            if b"\x00" in raw[:4096]:
                raise FileProblem(f"{name}: binary content; expected a CSV or XLSX file")
            text = _decode(raw, name)
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
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
    def time(text: str) -> datetime:
        try:
            return parse_instant(text, zone)
        except TimeParseError:
            raise ValueError(f"not a time: {text!r} (expected ISO 8601, e.g. 2026-03-01 09:30)") from None

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
        closed = row.get("closed_at")
        if closed is not None and closed < row["received_at"]:
            problems.append(Problem(table.name, line, header["closed_at"],
                                    "closed_at is before received_at", row["case_no"]))
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
    reasons: dict[int, list[str]] = {}
    for p in problems:
        if p.file == table.name and p.line >= 2:
            reasons.setdefault(p.line, []).append(f"{p.column}: {p.reason}" if p.column else p.reason)
    lines = sorted(reasons)
    frame = table.frame.iloc[[ln - 2 for ln in lines]].copy()
    frame = frame.rename(columns={c: table.original_headers[c] for c in frame.columns})
    frame.insert(0, "line", lines)
    frame["reason"] = ["; ".join(reasons[ln]) for ln in lines]
    frame.to_csv(target, index=False, encoding="utf-8-sig")
    return target
