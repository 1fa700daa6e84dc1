"""The UI's message catalogue: Chinese first, English available. Pages call `t(key)`, never literals.

The texts live as data, one JSON file per language in `domain/messages/` (`zh.json`, `en.json`), so that
translators edit data, not code; a test keeps both files with the same keys and the same placeholders.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("zh", "en")
_DIR = Path(__file__).resolve().parent / "messages"


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """Every message of one language, keyed by message key (read once per process)."""
    with open(_DIR / f"{lang}.json", encoding="utf-8") as f:
        return json.load(f)


def t(key: str, lang: str = "zh", **values: object) -> str:
    text = catalogue("zh" if lang == "zh" else "en")[key]
    return text.format(**values) if values else text
