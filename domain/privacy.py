"""Masking of customers' personal data for every view that does not need it in full."""
from __future__ import annotations

import re

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


_MD_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$:")


def escape_markdown(text: str) -> str:
    """Escape user text for Markdown so that it can neither format nor link, load an image or inject HTML."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)
