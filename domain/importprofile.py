"""Import profiles (#21): how one work-order system's export maps onto the interchange fields.

A profile names the file's shape (separator, encoding, header row, sheet), where each field's value comes
from (one source column, several joined, or a constant), how the file spells enumerated and yes/no values,
how it writes times (patterns such as `YYYY/M/D h:mm`, Excel serial day numbers, the zone the times are
in) and where contacts are: a second file with its own mapping, or time columns of the case file (首次联系时间,
回复时间 …), each giving one contact of a known kind.

Everything here is plain data and pure functions; `db.interchange` applies a profile to a file and
`db.profiles` stores profiles with their versions. Profiles travel as YAML documents (`to_yaml`,
`from_yaml`) that an operator keeps in version control; every problem in a document is named by its path
(`cases.fields.channel.columns`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from domain.i18n import Said, Term
from domain.vocab import CASE_COLUMNS, CONTACT_COLUMNS, ENUMS, FALSE_WORDS, TRUE_WORDS

SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar", "auto": "auto"}
ENCODINGS = ("auto", "utf-8", "gbk", "utf-16")
CONTACT_MODES = ("none", "file", "columns")
MAX_HEADER_ROW = 50
NAME_MAX = 80
# Patterns an operator reads as Excel writes them: YYYY year, M/MM month, D/DD day, h/hh hour (24 h),
# mm minutes, ss seconds; anything else is literal. The list is what the page offers and the assistant tries.
TIME_PATTERNS = (
    "YYYY/M/D h:mm", "YYYY/M/D h:mm:ss", "YYYY/M/D",
    "YYYY-M-D h:mm", "YYYY-M-D h:mm:ss",
    "YYYY年M月D日 h:mm", "YYYY年M月D日 h:mm:ss", "YYYY年M月D日 h时mm分", "YYYY年M月D日",
    "YYYYMMDDhhmmss", "YYYYMMDD hh:mm", "YYYYMMDD",
    "YYYY.M.D h:mm", "D/M/YYYY h:mm", "M/D/YYYY h:mm",
)
EXCEL_EPOCH = datetime(1899, 12, 30)
# Excel day numbers of 2000-01-01 and 2100-01-01: a number outside is not a date
EXCEL_FIRST, EXCEL_LAST = 36526, 73051
_TOKENS = (("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("hh", "%H"), ("mm", "%M"), ("ss", "%S"),
           ("M", "%m"), ("D", "%d"), ("h", "%H"))
_NUMBER = re.compile(r"^\d{5}(\.\d+)?$")


class ProfileError(ValueError):
    """A profile document that cannot be used; `said` names the place (`path`) and the reason."""

    def __init__(self, path: str, key: str, **values: object) -> None:
        self.path = path
        self.said = Said(key, **values)
        super().__init__(f"{path}: {self.said}" if path else str(self.said))

    def text(self, lang: str) -> str:
        return f"{self.path}: {self.said.text(lang)}" if self.path else self.said.text(lang)


@dataclass(frozen=True)
class Source:
    """Where one field's value comes from: source columns (joined when several) or a constant."""

    columns: tuple[str, ...] = ()
    joiner: str = " "
    constant: str | None = None


@dataclass(frozen=True)
class Layout:
    """One file of an export: its shape, its columns' fields, and its spellings of values."""

    fields: dict[str, Source] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> file's value -> product's value
    separator: str = ","
    encoding: str = "auto"
    header_row: int = 1  # the spreadsheet line holding the column names; the data start below it
    sheet: str | None = None  # XLSX: the sheet's name (None: the first sheet)

    def used_columns(self) -> list[str]:
        out: list[str] = []
        for src in self.fields.values():
            out.extend(c for c in src.columns if c not in out)
        return out


@dataclass(frozen=True)
class ContactColumn:
    """A time column of the case file that records one contact of `kind` (e.g. 首次联系时间 → first)."""

    kind: str
    at: str
    channel: str | None = None  # a constant contact channel, if the export says none
    note: str | None = None  # a source column with the contact's note


@dataclass(frozen=True)
class Profile:
    name: str
    cases: Layout
    description: str = ""
    time_formats: tuple[str, ...] = ()  # tried in order before ISO 8601
    excel_serial: bool = False  # numbers such as 46086.34 in a time field are Excel day numbers
    zone: str = "Asia/Shanghai"  # the zone of times written without an offset
    contacts_mode: str = "none"  # none | file | columns
    contacts: Layout | None = None  # contacts_mode == "file"
    contact_columns: tuple[ContactColumn, ...] = ()  # contacts_mode == "columns"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def layout(self, kind: str) -> Layout:
        if kind == "cases":
            return self.cases
        if self.contacts is None:
            raise ProfileError("contacts", "prof.no_contacts_file", name=self.name)
        return self.contacts


_GROUPS = {"YYYY": r"(?P<Y>\d{4})", "MM": r"(?P<m>\d{2})", "DD": r"(?P<d>\d{2})", "hh": r"(?P<H>\d{2})",
           "mm": r"(?P<M>\d{2})", "ss": r"(?P<S>\d{2})", "M": r"(?P<m>\d{1,2})", "D": r"(?P<d>\d{1,2})",
           "h": r"(?P<H>\d{1,2})"}


def _parts(pattern: str) -> list[tuple[str | None, str]]:
    """A pattern cut into (token, text): a token such as `YYYY` (the longest first) or None for a literal."""
    out, i = [], 0
    while i < len(pattern):
        for token, _code in _TOKENS:
            if pattern.startswith(token, i):
                out.append((token, token))
                i += len(token)
                break
        else:
            out.append((None, pattern[i]))
            i += 1
    return out


@lru_cache(maxsize=64)
def compiled(pattern: str) -> re.Pattern:
    """`YYYY/M/D h:mm` as a regular expression with a group per part, anything else literal. Reading a time
    is then one match and one datetime(): several times faster than `strptime`, which parses its format
    and consults the locale on every call (measured in benchmarks/bench_profile_read.py)."""
    return re.compile("".join(_GROUPS[t] if t else re.escape(text) for t, text in _parts(pattern)))


_EXAMPLE = {"YYYY": "2026", "MM": "03", "DD": "05", "hh": "08", "mm": "07", "ss": "09", "M": "3", "D": "5", "h": "8"}


def example(pattern: str) -> str:
    """How a pattern writes 2026-03-05 08:07:09 (what the page shows: people read examples, not codes)."""
    return "".join(_EXAMPLE[t] if t else text for t, text in _parts(pattern))


def excel_day(text: str) -> datetime | None:
    """An Excel serial day number (days since 1899-12-30, fraction = time of day) as a naive time."""
    if not _NUMBER.match(text):
        return None
    value = float(text)
    if not EXCEL_FIRST <= value < EXCEL_LAST:
        return None
    moment = EXCEL_EPOCH + timedelta(days=value)
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0)  # Excel stores 1/86400 steps


def read_time(text: str, patterns: tuple[str, ...], excel_serial: bool) -> datetime | None:
    """A naive local time read by the profile's patterns (or as an Excel day number); None if none fits,
    leaving the text to the ISO 8601 reader (and its error message)."""
    if excel_serial:
        moment = excel_day(text)
        if moment is not None:
            return moment
    for pattern in patterns:
        m = compiled(pattern).fullmatch(text)
        if m is None:
            continue
        g = m.groupdict()
        try:
            return datetime(int(g["Y"]), int(g.get("m") or 1), int(g.get("d") or 1), int(g.get("H") or 0),
                            int(g.get("M") or 0), int(g.get("S") or 0))
        except (KeyError, ValueError):  # no year in the pattern, or 2026/2/30
            continue
    return None


# ---- documents ---------------------------------------------------------------------------------------

def _fields_for(kind: str) -> dict[str, tuple[str, str, bool]]:
    return CASE_COLUMNS if kind == "cases" else CONTACT_COLUMNS


def _text(value: Any, path: str, *, allow_empty: bool = False) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        if value is None and allow_empty:
            return ""
        raise ProfileError(path, "prof.not_text")
    text = str(value).strip() if not isinstance(value, str) else value
    if not text.strip() and not allow_empty:
        raise ProfileError(path, "prof.empty")
    return text


def _mapping(value: Any, path: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProfileError(path, "prof.not_mapping")
    return value


def _source(value: Any, path: str) -> Source:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return Source(columns=(_text(value, path),))
    if isinstance(value, list):
        value = {"columns": value}
    body = _mapping(value, path)
    unknown = set(body) - {"columns", "column", "joiner", "constant"}
    if unknown:
        raise ProfileError(path, "prof.unknown_keys", keys=", ".join(sorted(map(str, unknown))))
    cols = body.get("columns", body.get("column"))
    if isinstance(cols, (str, int, float)) and not isinstance(cols, bool):
        cols = [cols]
    columns = tuple(_text(c, f"{path}.columns") for c in (cols or []))
    constant = body.get("constant")
    if constant is not None:
        constant = _text(constant, f"{path}.constant")
    if bool(columns) == (constant is not None):
        raise ProfileError(path, "prof.columns_or_constant")
    if len(set(columns)) != len(columns):
        raise ProfileError(f"{path}.columns", "prof.column_repeated")
    joiner = body.get("joiner", " ")
    if not isinstance(joiner, str):
        raise ProfileError(f"{path}.joiner", "prof.not_text")
    return Source(columns=columns, joiner=joiner, constant=constant)


def _value_for(kind_of_field: str, value: Any, path: str) -> str:
    text = _text(value, path)
    if kind_of_field == "bool":
        low = text.lower()
        if low in TRUE_WORDS:
            return "true"
        if low in FALSE_WORDS:
            return "false"
        raise ProfileError(path, "prof.not_bool", value=repr(text))
    allowed = ENUMS[kind_of_field]
    if text in allowed:
        return text
    for v, zh in allowed.items():
        if text == zh:
            return v
    raise ProfileError(path, "prof.bad_value", value=repr(text), allowed=", ".join(allowed))


def _layout(value: Any, path: str, kind: str) -> Layout:
    body = _mapping(value, path)
    unknown = set(body) - {"fields", "values", "separator", "encoding", "header_row", "sheet"}
    if unknown:
        raise ProfileError(path, "prof.unknown_keys", keys=", ".join(sorted(map(str, unknown))))
    columns = _fields_for(kind)
    fields: dict[str, Source] = {}
    for name, src in _mapping(body.get("fields"), f"{path}.fields").items():
        if name not in columns:
            raise ProfileError(f"{path}.fields.{name}", "prof.unknown_field", allowed=", ".join(columns))
        source = _source(src, f"{path}.fields.{name}")
        kind_of_field = columns[name][1]
        if source.constant is not None and kind_of_field in (*ENUMS, "bool"):  # checked now, not on every row
            source = replace(source, constant=_value_for(kind_of_field, source.constant,
                                                         f"{path}.fields.{name}.constant"))
        fields[name] = source
    missing = [f for f, (_zh, _t, req) in columns.items() if req and f not in fields]
    if missing:
        raise ProfileError(f"{path}.fields", "prof.required_unmapped",
                           fields=Term(", ".join(missing), "、".join(f"{columns[f][0]}（{f}）" for f in missing)))
    values: dict[str, dict[str, str]] = {}
    for name, table in _mapping(body.get("values"), f"{path}.values").items():
        if name not in columns or columns[name][1] not in (*ENUMS, "bool"):
            raise ProfileError(f"{path}.values.{name}", "prof.not_enum_field")
        values[name] = {_text(k, f"{path}.values.{name}"): _value_for(columns[name][1], v, f"{path}.values.{name}.{k}")
                        for k, v in _mapping(table, f"{path}.values.{name}").items()}
    separator = body.get("separator", ",")
    if separator not in SEPARATORS:
        raise ProfileError(f"{path}.separator", "prof.bad_separator", allowed="',' ';' '\\t' '|' auto")
    encoding = str(body.get("encoding", "auto")).lower()
    if encoding not in ENCODINGS:
        raise ProfileError(f"{path}.encoding", "prof.bad_encoding", allowed=", ".join(ENCODINGS))
    header_row = body.get("header_row", 1)
    if isinstance(header_row, bool) or not isinstance(header_row, int) or not 1 <= header_row <= MAX_HEADER_ROW:
        raise ProfileError(f"{path}.header_row", "prof.bad_header_row", limit=MAX_HEADER_ROW)
    sheet = body.get("sheet")
    if sheet is not None:
        sheet = _text(sheet, f"{path}.sheet")
    return Layout(fields=fields, values=values, separator=separator, encoding=encoding, header_row=header_row,
                  sheet=sheet)


def from_dict(doc: Any) -> Profile:
    """A profile from its document (as read from YAML or stored JSON), every problem named by its path."""
    body = _mapping(doc, "")
    unknown = set(body) - {"name", "description", "version", "times", "cases", "contacts"}
    if unknown:
        raise ProfileError("", "prof.unknown_keys", keys=", ".join(sorted(map(str, unknown))))
    name = _text(body.get("name"), "name").strip()
    if len(name) > NAME_MAX:
        raise ProfileError("name", "prof.name_long", limit=NAME_MAX)
    description = _text(body.get("description"), "description", allow_empty=True)
    times = _mapping(body.get("times"), "times")
    unknown = set(times) - {"formats", "excel_serial", "zone"}
    if unknown:
        raise ProfileError("times", "prof.unknown_keys", keys=", ".join(sorted(map(str, unknown))))
    formats = times.get("formats") or []
    if isinstance(formats, str):
        formats = [formats]
    if not isinstance(formats, list):
        raise ProfileError("times.formats", "prof.not_list")
    formats = tuple(_text(f, "times.formats") for f in formats)
    excel = times.get("excel_serial", False)
    if not isinstance(excel, bool):
        raise ProfileError("times.excel_serial", "prof.not_bool", value=repr(excel))
    zone = _text(times.get("zone", "Asia/Shanghai"), "times.zone")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProfileError("times.zone", "prof.bad_zone", zone=zone) from None
    cases = _layout(body.get("cases"), "cases", "cases")
    contacts_doc = _mapping(body.get("contacts"), "contacts")
    mode = contacts_doc.get("mode", "none")
    if mode not in CONTACT_MODES:
        raise ProfileError("contacts.mode", "prof.bad_mode", allowed=", ".join(CONTACT_MODES))
    contacts_layout = None
    columns: list[ContactColumn] = []
    if mode == "file":
        contacts_layout = _layout(contacts_doc.get("file"), "contacts.file", "contacts")
    elif mode == "columns":
        items = contacts_doc.get("columns")
        if not isinstance(items, list) or not items:
            raise ProfileError("contacts.columns", "prof.not_list")
        for i, item in enumerate(items, start=1):
            path = f"contacts.columns[{i}]"
            entry = _mapping(item, path)
            unknown = set(entry) - {"kind", "at", "channel", "note"}
            if unknown:
                raise ProfileError(path, "prof.unknown_keys", keys=", ".join(sorted(map(str, unknown))))
            kind = _value_for("contact_kind", entry.get("kind"), f"{path}.kind")
            channel = entry.get("channel")
            channel = _value_for("contact_channel", channel, f"{path}.channel") if channel is not None else None
            note = entry.get("note")
            columns.append(ContactColumn(kind=kind, at=_text(entry.get("at"), f"{path}.at"), channel=channel,
                                         note=_text(note, f"{path}.note") if note is not None else None))
    return Profile(name=name, description=description, time_formats=formats, excel_serial=excel, zone=zone,
                   cases=cases, contacts_mode=mode, contacts=contacts_layout, contact_columns=tuple(columns))


def _source_doc(src: Source) -> Any:
    if src.constant is not None:
        return {"constant": src.constant}
    if len(src.columns) == 1:
        return src.columns[0]
    return {"columns": list(src.columns), "joiner": src.joiner}


def _layout_doc(layout: Layout) -> dict:
    doc: dict[str, Any] = {"separator": layout.separator, "encoding": layout.encoding,
                           "header_row": layout.header_row}
    if layout.sheet is not None:
        doc["sheet"] = layout.sheet
    doc["fields"] = {name: _source_doc(src) for name, src in layout.fields.items()}
    if layout.values:
        doc["values"] = {name: dict(table) for name, table in layout.values.items() if table}
    return doc


def to_dict(profile: Profile) -> dict:
    doc: dict[str, Any] = {"name": profile.name}
    if profile.description:
        doc["description"] = profile.description
    doc["times"] = {"formats": list(profile.time_formats), "excel_serial": profile.excel_serial,
                    "zone": profile.zone}
    doc["cases"] = _layout_doc(profile.cases)
    contacts: dict[str, Any] = {"mode": profile.contacts_mode}
    if profile.contacts_mode == "file" and profile.contacts is not None:
        contacts["file"] = _layout_doc(profile.contacts)
    if profile.contacts_mode == "columns":
        contacts["columns"] = [{k: v for k, v in (("kind", c.kind), ("at", c.at), ("channel", c.channel),
                                                  ("note", c.note)) if v is not None}
                               for c in profile.contact_columns]
    doc["contacts"] = contacts
    return doc


def to_yaml(profile: Profile, version: int | None = None) -> str:
    doc = to_dict(profile)
    if version is not None:
        doc = {"name": doc.pop("name"), "version": version, **doc}
    head = "# 投诉督办台 import profile (docs/import-profiles.md)\n"
    return head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100)


def from_yaml(text: str) -> Profile:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ProfileError("", "prof.bad_yaml", line=(mark.line + 1) if mark else "?") from None
    return from_dict(doc)


def renamed(profile: Profile, name: str) -> Profile:
    return replace(profile, name=name)
