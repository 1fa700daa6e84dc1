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

from domain import clock
from domain.i18n import Said, Term, told
from domain.importprofile import Profile, Source, read_time
from domain.privacy import neutralise_cell
from domain.timeutil import TimeParseError, parse_instant
from domain.vocab import CASE_COLUMNS, CONTACT_COLUMNS, ENUMS, FALSE_WORDS, TRUE_WORDS, enum_lookup

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
    first_line: int = 2  # the spreadsheet line of the frame's first row
    # read through a profile: the file's own rows and headers (what a reject file gives back), the line of
    # each frame row when rows do not follow the file one to one, headers that differ from row to row
    source: pd.DataFrame | None = None
    lines: list[int] | None = None
    row_headers: dict[str, list[str]] = field(default_factory=dict)
    derived: bool = False  # contacts taken from the columns of the case file (rejects go with that file)

    def line(self, i: int) -> int:
        return self.lines[i] if self.lines is not None else i + self.first_line

    def header(self, column: str, i: int) -> str:
        per_row = self.row_headers.get(column)
        return per_row[i] if per_row is not None else self.original_headers[column]


def _gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def _common_hanzi(ch: str) -> bool:
    """One of GB2312's 3,755 first-level characters, the common ones that make up nearly all of a real
    complaint's text (rows 16-55 of the code table)."""
    try:
        encoded = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and 0xB0 <= encoded[0] <= 0xD7


# Share of common characters below which a file that decodes as GBK is not GBK: measured on the product's
# Chinese texts 0.97, and on the same texts in traditional characters saved as Big5 and read as GBK 0.23.
COMMON_SHARE = 0.6


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
    # Big5 decodes as GBK without an error, into kana and first- and second-level characters alike
    # (a handler 'ヒ' was created from one): real Chinese text is nearly all common characters
    han = [(n, ch) for n, line in enumerate(text.split("\n"), start=1) for ch in line if ord(ch) >= 0x2E80]
    if len(han) >= 8:
        uncommon = [n for n, ch in han if not _common_hanzi(ch)]
        if len(uncommon) > (1 - COMMON_SHARE) * len(han):
            raise FileProblem(name, "ix.rare", line=uncommon[0])
    # a short file has too few characters for a share: kana and Cyrillic letters, which GBK holds but a
    # Chinese complaint centre's export does not, are what Big5's common characters turn into
    foreign = [n for n, line in enumerate(text.split("\n"), start=1) for ch in line
               if 0x3040 <= ord(ch) <= 0x30FF or 0x0400 <= ord(ch) <= 0x04FF]
    if len(foreign) >= 2:
        raise FileProblem(name, "ix.rare", line=foreign[0])
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


def _headers(frame: pd.DataFrame, name: str, header_row: int = 1) -> pd.DataFrame:
    """Take the first row as the header, refusing a header written twice (pandas would rename the second
    copy and it would then be ignored as unknown)."""
    if frame.empty:
        raise FileProblem(name, "ix.no_header") if header_row == 1 else FileProblem(name, "ix.no_header_at",
                                                                                      line=header_row)
    headers = [str(h).strip().lstrip("\ufeff") for h in frame.iloc[0].tolist()]
    seen: dict[str, int] = {}
    for i, h in enumerate(headers, start=1):
        if h and h in seen:
            raise FileProblem(name, "ix.header_twice", header=repr(h), first=seen[h], second=i, line=header_row)
        seen.setdefault(h, i)
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = headers
    if len(body) > MAX_ROWS:
        raise FileProblem(name, "ix.too_many_rows", rows=f"{len(body):,}", limit=f"{MAX_ROWS:,}")
    return body


def _load(source: str | Path | bytes, name: str | None) -> tuple[bytes, str]:
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
    return raw, name


def _text_of(raw: bytes, name: str, encoding: str) -> str:
    """The CSV's text: `auto` is UTF-8 or GBK as the contract says (plus UTF-16 when the file starts with
    its byte-order mark, as Excel's "Unicode text" does); a named encoding must decode the whole file."""
    if encoding == "auto" and raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    if encoding in ("utf-8", "gbk", "utf-16"):
        codec = {"utf-8": "utf-8-sig", "gbk": "gb18030", "utf-16": "utf-16"}[encoding]
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            raise FileProblem(name, "ix.not_encoding", line=line, encoding=encoding) from None
        if "\x00" in text:
            raise FileProblem(name, "ix.nul", line=text[:text.index("\x00")].count("\n") + 1)
        return text
    if b"\x00" in raw[:4096]:
        raise FileProblem(name, "ix.binary")
    nul = raw.find(b"\x00")
    if nul >= 0:  # pandas would cut the value short at the NUL
        line = raw.count(b"\n", 0, nul) + 1
        raise FileProblem(name, "ix.nul", line=line)
    return _decode(raw, name)


def _sniff(text: str) -> str:
    """The separator of a CSV whose profile says `auto`: the one that splits the first lines most evenly."""
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    best, best_score = ",", -1.0
    for sep in (",", ";", "\t", "|"):
        counts = [ln.count(sep) for ln in lines]
        if not counts or max(counts) == 0:
            continue
        common = max(set(counts), key=counts.count)
        score = counts.count(common) * common
        if score > best_score:
            best, best_score = sep, score
    return best


def read_frame(source: str | Path | bytes, name: str | None = None, *, separator: str = ",",
               encoding: str = "auto", header_row: int = 1, sheet: str | None = None) -> tuple[pd.DataFrame, str]:
    """A CSV or XLSX file as text cells under its own headers (the row `header_row`), and its name."""
    raw, name = _load(source, name)
    lower = name.lower()
    skip = header_row - 1
    try:
        if raw.startswith(XLSX_MAGIC):
            if not lower.endswith((".xlsx", ".xlsm")):
                raise FileProblem(name, "ix.xlsx_extension")
            _check_workbook(raw, name)
            try:
                frame = pd.read_excel(io.BytesIO(raw), dtype=str, keep_default_na=False, engine="openpyxl",
                                      header=None, sheet_name=sheet if sheet is not None else 0, skiprows=skip)
            except ValueError as exc:
                if sheet is not None and "not found" in str(exc).lower():
                    raise FileProblem(name, "ix.no_sheet", sheet=sheet) from None
                raise
        elif lower.endswith((".xlsx", ".xlsm", ".xls")):
            raise FileProblem(name, "ix.not_xlsx")
        else:
            text = _text_of(raw, name, encoding)
            sep = _sniff(text) if separator == "auto" else separator
            try:
                frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True,
                                    header=None, sep=sep, skiprows=skip)
            except pd.errors.EmptyDataError:  # the file ends before its header row
                frame = pd.DataFrame()
        frame = _headers(frame, name, header_row)
    except FileProblem:
        raise
    except Exception as exc:  # pandas/openpyxl raise many types for malformed files
        raise FileProblem(name, "ix.unparsable",
                          error=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
    return frame.fillna(""), name


def read_table(source: str | Path | bytes, name: str | None = None,
               columns: dict[str, tuple[str, str, bool]] = CASE_COLUMNS) -> Table:
    """Read CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX into a Table with canonical column names."""
    frame, name = read_frame(source, name)
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
    latest = clock.now_precise() + LATEST_AHEAD

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
    line = table.line
    bad_rows: set[int] = set()
    for column in frame.columns:
        kind, required = columns[column][1], columns[column][2]
        values = frame[column].tolist()
        parse = parsers[kind]
        out: list[Any] = [None] * n
        for i, text in enumerate(values):
            if text == "":
                if required:
                    problems.append(Problem(table.name, line(i), table.header(column, i), Said("ix.required"),
                                            keys[i]))
                    bad_rows.add(i)
                continue
            if kind == "text":
                out[i] = text
                continue
            try:
                out[i] = parse(text)
            except RowError as exc:
                problems.append(Problem(table.name, line(i), table.header(column, i), exc.said, keys[i]))
                bad_rows.add(i)
        typed[column] = out
    names = list(typed)
    rows = [dict(zip(names, values), _line=line(i), _i=i)
            for i, values in enumerate(zip(*typed.values())) if i not in bad_rows]
    bad = {line(i) for i in bad_rows}
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
            if table.derived:  # the case's own row is rejected already, its contact cells with it
                continue
            problem = Problem(table.name, line, header["case_no"],
                              Said("ix.case_rejected", case_no=case_no), case_no)
        elif case_no not in received:
            problem = Problem(table.name, line, header["case_no"],
                              Said("ix.unknown_case", case_no=case_no), case_no)
        elif row["contact_at"] < received[case_no]:
            problem = Problem(table.name, line, table.header("contact_at", row["_i"]),
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
    if table.source is not None:  # read through a profile: give the rows back as the file had them
        frame = table.source.iloc[[ln - table.first_line for ln in lines]].copy()
    else:
        frame = table.frame.iloc[[ln - table.first_line for ln in lines]].copy()
        frame = frame.rename(columns={c: table.original_headers[c] for c in frame.columns})
    frame.insert(0, "行号" if lang == "zh" else "line", lines)
    frame["原因" if lang == "zh" else "reason"] = [("；" if lang == "zh" else "; ").join(reasons[ln]) for ln in lines]
    # opened in a spreadsheet like every other export: a cell such as =HYPERLINK(…) must stay text
    frame = frame.map(neutralise_cell)
    return frame.to_csv(index=False).encode("utf-8-sig")


# ---- exports of other work-order systems, read through an import profile (#21) ----------------------

def _field_header(src: Source, lang_neutral_constant: str = "=") -> str:
    if src.constant is not None:
        return f"{lang_neutral_constant}{src.constant}"
    return "+".join(src.columns)


def _joined(frame: pd.DataFrame, src: Source, n: int) -> list[str]:
    if src.constant is not None:
        return [src.constant] * n
    parts = [frame[c].astype(str).str.strip().tolist() for c in src.columns]
    if len(parts) == 1:
        return parts[0]
    return [src.joiner.join(v for v in values if v) for values in zip(*parts)]


def _mapped(values: list[str], table: dict[str, str]) -> list[str]:
    """The file's spellings turned into the product's values; a spelling the map lacks stays as it is,
    for the field's own reader to accept (English or Chinese name) or to refuse by name."""
    if not table:
        return values
    loose = {k.strip().lower(): v for k, v in table.items()}
    return [table.get(v, loose.get(v.strip().lower(), v)) if v else v for v in values]


def _timed(values: list[str], profile: Profile) -> list[str]:
    if not profile.time_formats and not profile.excel_serial:
        return values
    out = []
    for v in values:
        moment = read_time(v, profile.time_formats, profile.excel_serial) if v else None
        out.append(moment.isoformat(sep=" ") if moment is not None else v)
    return out


def _check_source_columns(frame: pd.DataFrame, name: str, wanted: list[str], profile: Profile) -> None:
    present = {str(c) for c in frame.columns}
    missing = [c for c in wanted if c not in present]
    if missing:
        raise FileProblem(name, "ix.profile_columns", profile=profile.name, columns="、".join(missing))


def profiled_table(frame: pd.DataFrame, name: str, profile: Profile, kind: str) -> Table:
    """A file already read under its own headers, mapped by the profile onto the interchange fields."""
    layout = profile.layout(kind)
    columns = CASE_COLUMNS if kind == "cases" else CONTACT_COLUMNS
    wanted = layout.used_columns()
    if kind == "cases" and profile.contacts_mode == "columns":
        for c in profile.contact_columns:
            wanted += [x for x in (c.at, c.note) if x and x not in wanted]
    _check_source_columns(frame, name, wanted, profile)
    n = len(frame)
    data: dict[str, list[str]] = {}
    headers: dict[str, str] = {}
    for field_name, src in layout.fields.items():
        values = _joined(frame, src, n)
        kind_of_field = columns[field_name][1]
        if field_name in layout.values:
            values = _mapped(values, layout.values[field_name])
        if kind_of_field == "time":
            values = _timed(values, profile)
        data[field_name] = values
        headers[field_name] = _field_header(src)
    canonical = pd.DataFrame(data, index=range(n), columns=list(layout.fields), dtype=object)
    warnings: list[str] = []
    unused = [str(c) for c in frame.columns if str(c) not in wanted and str(c).strip()]
    if unused:
        warnings.append(Said("ix.unused_columns", name=name, columns=", ".join(unused)))
    source = frame.copy()
    source.columns = [str(c) for c in frame.columns]
    return Table(name=name, frame=canonical, original_headers=headers, warnings=warnings,
                 first_line=layout.header_row + 1, source=source)


def read_profiled(source: str | Path | bytes, name: str | None, profile: Profile, kind: str) -> Table:
    layout = profile.layout(kind)
    frame, name = read_frame(source, name, separator=layout.separator, encoding=layout.encoding,
                             header_row=layout.header_row, sheet=layout.sheet)
    return profiled_table(frame, name, profile, kind)


def contacts_in_columns(cases: Table, profile: Profile) -> Table:
    """The contacts a case file records in its own time columns, one per filled cell, each named by the
    case file's line and that column."""
    source = cases.source
    assert source is not None
    keys = cases.frame["case_no"].tolist()
    rows: dict[str, list[str]] = {"case_no": [], "contact_at": [], "kind": [], "channel": [], "note": []}
    lines: list[int] = []
    at_headers: list[str] = []
    note_headers: list[str] = []
    for spec in profile.contact_columns:
        at = _timed(source[spec.at].astype(str).str.strip().tolist(), profile)
        notes = source[spec.note].astype(str).str.strip().tolist() if spec.note else [""] * len(at)
        for i, when in enumerate(at):
            if not when or not keys[i]:  # no case number: the case's row is refused for it already
                continue
            rows["case_no"].append(keys[i])
            rows["contact_at"].append(when)
            rows["kind"].append(spec.kind)
            rows["channel"].append(spec.channel or "")
            rows["note"].append(notes[i])
            lines.append(i + cases.first_line)
            at_headers.append(spec.at)
            note_headers.append(spec.note or "")
    order = sorted(range(len(lines)), key=lines.__getitem__)
    frame = pd.DataFrame({k: [v[j] for j in order] for k, v in rows.items()}, dtype=object)
    if frame.empty:
        frame = pd.DataFrame(columns=list(rows), dtype=object)
    headers = {"case_no": cases.original_headers["case_no"], "contact_at": "", "kind": "", "channel": "",
               "note": ""}
    return Table(name=cases.name, frame=frame, original_headers=headers, first_line=cases.first_line,
                 source=source, lines=[lines[j] for j in order],
                 row_headers={"contact_at": [at_headers[j] for j in order],
                              "note": [note_headers[j] for j in order]},
                 derived=True)


def _header_line(rows: list[list[str]]) -> int:
    """The 1-based line of the column names: the first of the opening rows that is as wide as the table
    (title lines above it fill one or two cells) and is words rather than numbers or times."""
    filled = [sum(1 for c in r if str(c).strip()) for r in rows]
    widest = max(filled, default=0)
    for i, (r, n) in enumerate(zip(rows, filled), start=1):
        if widest and n >= max(2, widest // 2):
            cells = [str(c).strip() for c in r if str(c).strip()]
            wordy = sum(1 for c in cells if not re.fullmatch(r"[\d\s.:/\-+年月日时分秒]+", c))
            if wordy >= 0.8 * len(cells) and len(set(cells)) == len(cells):
                return i
    return 1


def sniff_layout(source: str | Path | bytes, name: str | None = None) -> tuple[str, str, int, str | None]:
    """The shape of an unknown export: (separator, encoding, header row, sheet) for the mapping assistant."""
    import csv as _csv

    raw, name = _load(source, name)
    if raw.startswith(XLSX_MAGIC):
        _check_workbook(raw, name)
        try:
            sheets = pd.read_excel(io.BytesIO(raw), dtype=str, keep_default_na=False, engine="openpyxl", header=None,
                                   sheet_name=None, nrows=30)
        except Exception as exc:
            raise FileProblem(name, "ix.unparsable", error=f"{type(exc).__name__}") from exc
        if not sheets:
            raise FileProblem(name, "ix.no_header")
        sheet = max(sheets, key=lambda s: (sheets[s].astype(bool).to_numpy().sum(), -list(sheets).index(s)))
        rows = sheets[sheet].fillna("").astype(str).values.tolist()
        first = list(sheets)[0]
        return ",", "auto", _header_line(rows), None if sheet == first else str(sheet)
    encoding = "auto"
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif b"\x00" in raw[:4096]:
        raise FileProblem(name, "ix.binary")
    else:
        try:
            raw.decode("utf-8-sig")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "gbk"
    text = _text_of(raw, name, encoding)
    sep = _sniff(text)
    rows = list(_csv.reader(io.StringIO("\n".join(text.splitlines()[:30])), delimiter=sep))
    return sep, encoding, _header_line(rows), None
