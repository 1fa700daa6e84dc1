"""Reading what a user sees on a page run by AppTest, and finding what no user should read there.

`visible(at)` walks the element tree and returns every text a user reads, tagged with where it came from
(a title, a widget label, an option, a table header, a table cell, a chart's axis or tooltip title…).
`findings(texts, lang)` lists internal codes (rule ids, enum keys, "None"/"nan"/"NaT") in either
language, English words in the Chinese UI outside a short allow-list, and Chinese in the English UI's
own words (labels, headers, titles: not data such as handler names or complaint text).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

import pandas as pd

from domain.roles import ROLES
from domain.vocab import ENUMS
from rules.catalogue import RULES

TEXT_TYPES = {"title", "header", "subheader", "markdown", "caption", "text", "error", "warning", "info",
              "success", "toast", "exception"}
WIDGET_TYPES = {"button", "download_button", "form_submit_button", "checkbox", "toggle", "text_input",
                "text_area", "number_input", "date_input", "time_input", "selectbox", "multiselect", "radio",
                "slider", "select_slider", "color_picker", "page_link", "file_uploader", "button_group"}
# places that are the UI's own words (never data): Chinese there is a leftover in the English UI
CHROME = {"title", "label", "placeholder", "help", "column", "metric", "tab", "expander", "axis", "tooltip"}

# English that belongs in the Chinese UI: file formats, standards, product and method names, units
ALLOWED_EN = {
    "CSV", "XLSX", "YAML", "xlsx", "csv", "PDF", "pdf", "Word", "Excel", "ISO", "UTF", "GBK", "DB", "T", "Cohen",
    "Krippendorff", "WeCom", "DingTalk", "Feishu", "SMTP", "URL", "Webhook", "webhook", "HTTP", "HTTPS",
    "SLA", "ID", "IP", "QQ", "BM", "docx", "Big", "NUL", "MB", "KB", "GB", "am", "pm", "AM", "PM", "TS",
    "xls", "xlsm", "UTC", "Asia", "Shanghai", "CST", "JSON", "json", "yes", "no", "true", "false",
}
# a code standing for an empty value ("None", "nan"…), not the English word at the start of a sentence
CODES = re.compile(r"(?<![A-Za-z0-9_-])(?:None|nan|NaN|NaT|null|undefined)(?![A-Za-z0-9_])(?!\s+[a-z])")
RULE_ID = re.compile("|".join(re.escape(r.id) for r in RULES))
UNDERSCORED = sorted({k for kind in ENUMS.values() for k in kind if "_" in k} | {r for r in ROLES if "_" in r},
                     key=len, reverse=True)
ENUM_KEY = re.compile(r"(?<![A-Za-z0-9_])(?:" + "|".join(map(re.escape, UNDERSCORED)) + r")(?![A-Za-z0-9_])")
ENGLISH_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z]{2,}(?![A-Za-z0-9_])")  # not case numbers such as TZ2026…
CJK = re.compile(r"[\u4e00-\u9fff]")
MARKUP = re.compile(r"`[^`]*`|\]\([^)]*\)|:material/[a-z_]+:|:(?:red|green|orange|blue|violet|gray|grey|rainbow|primary)\[|\\(?=\S)"
                    r"|https?://\S+|\*\*")


@dataclass(frozen=True)
class Seen:
    where: str  # title, label, option, column, cell, axis, tooltip, legend...
    text: str
    column: str = ""  # for a cell: the header it sits under


def _walk(node: Any) -> Iterator[Any]:
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _walk(child)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _chart(spec: dict) -> Iterator[Seen]:
    """Titles a chart shows: axis, legend and tooltip titles (a field shown without a title shows its name)."""
    def visit(node: Any) -> Iterator[Seen]:
        if isinstance(node, dict):
            encoding = node.get("encoding")
            if isinstance(encoding, dict):
                for channel, enc in encoding.items():
                    for one in (enc if isinstance(enc, list) else [enc]):
                        if not isinstance(one, dict) or "field" not in one:
                            continue
                        where = "tooltip" if channel == "tooltip" else "axis"
                        title = one.get("title", one["field"])  # no title: Vega-Lite shows the field name
                        if title is not None:
                            yield Seen(where, str(title))
            for value in node.values():
                yield from visit(value)
        elif isinstance(node, list):
            for value in node:
                yield from visit(value)
    yield from visit(spec)


def _table(node: Any) -> Iterator[Seen]:
    """Headers and cells as the grid shows them: only the columns in `column_order`, under the labels the
    column config gives, link columns by their display text."""
    frame = node.value
    if not isinstance(frame, pd.DataFrame):
        return
    config = json.loads(node.proto.columns or "{}") if getattr(node.proto, "columns", "") else {}
    order = list(getattr(node.proto, "column_order", []) or []) or [str(c) for c in frame.columns]
    if not isinstance(frame.index, pd.RangeIndex) and not getattr(node.proto, "hide_index", False):
        yield from (Seen("cell", str(i)) for i in frame.index)
    for column in frame.columns:
        name = str(column)
        if name not in order or config.get(name, {}).get("hidden"):
            continue
        header = str(config.get(name, {}).get("label") or name)
        yield Seen("column", header)
        type_config = config.get(name, {}).get("type_config", {})
        shown = type_config.get("display_text")
        labels = {o.get("value"): o.get("label") or o.get("value") for o in type_config.get("options") or []
                  if isinstance(o, dict)}
        for value in frame[column].tolist():
            if value is None or (isinstance(value, float) and pd.isna(value)):
                continue  # an empty cell shows as empty, not as "None"
            if shown and isinstance(value, str):
                m = re.search(shown, value)
                value = m.group(1) if m and m.groups() else shown
            if isinstance(value, bool):
                yield Seen("cell", "✓" if value else "", header)  # a checkbox, not the word
            elif isinstance(value, (list, tuple)):  # a multiselect cell shows its options' labels
                yield from (Seen("cell", str(labels.get(v, v)), header) for v in value)
            elif isinstance(value, str) or pd.api.types.is_scalar(value):
                yield Seen("cell", str(labels.get(value, value)), header)  # a select cell shows its label


def visible(at: Any) -> list[Seen]:
    out: list[Seen] = []
    for node in _walk(at._tree):
        kind = node.type
        if kind in TEXT_TYPES:
            out += [Seen("title" if kind in ("title", "header", "subheader") else kind, s)
                    for s in _strings(getattr(node, "value", None))]
        elif kind == "metric":
            out += [Seen("metric", node.label), Seen("cell", str(node.value))]
        elif kind in WIDGET_TYPES:
            proto = node.proto
            out += [Seen("label", s) for s in _strings(getattr(proto, "label", None))]
            out += [Seen("placeholder", s) for s in _strings(getattr(proto, "placeholder", None))]
            out += [Seen("help", s) for s in _strings(getattr(proto, "help", None))]
            out += [Seen("option", s) for s in _strings(list(getattr(proto, "options", []) or []))]
        elif kind in ("tab", "expander"):
            out += [Seen(kind, s) for s in _strings(getattr(node, "label", None) or getattr(node.proto, "label", None))]
        elif kind in ("dataframe", "table"):
            out += list(_table(node))
        elif kind == "vega_lite_chart":
            out += list(_chart(json.loads(node.proto.spec)))
    return out


def _clean(text: str) -> str:
    return MARKUP.sub(" ", text)


def findings(seen: list[Seen], lang: str, allowed: set[str] = frozenset(),
             free_columns: set[str] = frozenset()) -> list[str]:
    """What a user should not read here, as 'where: text' lines (empty when the page is clean).

    `allowed` are further words that are data on this page (account names on the users page);
    `free_columns` are headers whose cells are free text in another language (a card's English titles)."""
    bad: list[str] = []
    for item in seen:
        if item.where == "cell" and item.column in free_columns:
            continue
        text = _clean(item.text)
        why = []
        if item.where != "cell" or not item.text.startswith("http"):
            if CODES.search(text):
                why.append("empty value shown as a code")
            if RULE_ID.search(text):
                why.append("rule id")
            if ENUM_KEY.search(text):
                why.append("enum key")
        if lang == "zh":
            words = [w for w in ENGLISH_WORD.findall(text) if w not in ALLOWED_EN and w not in allowed]
            if words:
                why.append("English " + ",".join(sorted(set(words))[:5]))
        elif item.where in CHROME:
            for phrase in sorted(allowed, key=len, reverse=True):  # data (names, categories) is Chinese
                text = text.replace(phrase, " ")
            if CJK.search(text):
                why.append("Chinese")
        if why:
            bad.append(f"{item.where}: {item.text[:90]!r} ({'; '.join(why)})")
    return sorted(set(bad))
