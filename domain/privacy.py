"""Masking of customers' personal data for every view that does not need it in full."""
from __future__ import annotations

import re

from domain.i18n import Said

_DIGITS = re.compile(r"\d")


def mask_phone(phone: str | None) -> str:
    """`13812345678` -> `138****5678`; shorter numbers keep only their last two digits."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(name: str | None) -> str:
    """`王小明` -> `王**`; the family name stays so staff can still address the customer."""
    if not name:
        return ""
    name = name.strip()
    return name[0] + "*" * max(1, len(name) - 1)


def neutralise_cell(value: object) -> object:
    """Spreadsheet formula injection: text starting with = + - @ (or a tab/CR) is prefixed with a quote."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


# Characters an XML document cannot hold (C0 controls but tab, newline and return; U+FFFE, U+FFFF; lone
# surrogates): one of them in a typical case's text made python-docx refuse the whole Word pack.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(value: object) -> object:
    """Text an XML writer (Word, XLSX) can store: each character XML cannot hold becomes a space; other
    values, and lists and dicts of them, are returned with their strings made safe the same way."""
    if isinstance(value, str):
        return _XML_ILLEGAL.sub(" ", value)
    if isinstance(value, dict):
        return {k: xml_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(xml_safe(v) for v in value)
    return value


_MD_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$:")


def escape_markdown(text: str) -> str:
    """Escape user text for Markdown so that it can neither format nor link, load an image or inject HTML."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)


class PhoneQueryInvalid(ValueError):
    """A phone search that could be used to read a masked number digit by digit."""


_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\uff0d()（）+]")


def phone_query(text: str) -> tuple[str, str] | None:
    """How a phone-number search box may be used: ("full", digits) for a whole number (7 digits or more),
    ("tail", last4) for exactly four digits, None for an empty box. Anything else — a fragment that would
    let someone recover a masked number a few digits at a time — raises PhoneQueryInvalid."""
    raw = (text or "").replace("\x00", "")
    digits = _PHONE_SEPARATORS.sub("", raw)
    if not digits:
        return None
    if not digits.isdigit():
        raise PhoneQueryInvalid(Said("err.privacy.2"))
    if len(digits) == 4:
        return ("tail", digits)
    if len(digits) >= 7:
        return ("full", digits)
    raise PhoneQueryInvalid(Said("err.privacy.1"))
