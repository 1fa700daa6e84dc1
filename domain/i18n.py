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


def t(key: str, lang: str = "zh", /, **values: object) -> str:
    text = catalogue("zh" if lang == "zh" else "en")[key]
    return text.format(**values) if values else text


class Term(str):
    """A word with its Chinese form: behaves as the English string, and `Said` tells it in Chinese."""

    zh: str

    def __new__(cls, en: str, zh: str) -> "Term":
        obj = super().__new__(cls, en)
        obj.zh = zh
        return obj

    def __reduce__(self):
        return (Term, (str(self), self.zh))

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else str(self)


class Said(str):
    """A catalogue message kept with its key and values, so that it can be told in any language.

    The string value is the English text: logs, the command line and existing `in` checks read it as
    before, while a page calls `text(lang)`. Values that are themselves `Term`/`Said` follow the language.
    """

    key: str
    values: dict

    def __new__(cls, message: str, /, **values: object) -> "Said":  # values may include one named "key"
        obj = super().__new__(cls, _render(message, "en", values))
        obj.key = message
        obj.values = values
        return obj

    def __reduce__(self):
        return (_said, (self.key, self.values))

    def text(self, lang: str) -> str:
        return _render(self.key, lang, self.values)


def _said(message: str, values: dict) -> Said:
    return Said(message, **values)


def _render(message: str, lang: str, values: dict) -> str:
    return t(message, lang, **{k: v.text(lang) if isinstance(v, (Term, Said)) else v for k, v in values.items()})


def told(text: str, lang: str) -> str:
    """Any message in the user's language: a `Said`/`Term` is translated, plain text is shown as it is."""
    return text.text(lang) if isinstance(text, (Term, Said)) else text
