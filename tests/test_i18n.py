"""The message catalogue is data: one JSON file per language with the same keys and placeholders."""
from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from domain.i18n import LANGUAGES, catalogue, t

MESSAGES = Path(__file__).resolve().parent.parent / "domain" / "messages"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_file_has_the_same_keys_as_chinese():
    zh = catalogue("zh")
    assert len(zh) > 100
    for lang in LANGUAGES:
        other = catalogue(lang)
        assert sorted(set(zh) - set(other)) == [], f"{lang}.json lacks keys"
        assert sorted(set(other) - set(zh)) == [], f"{lang}.json has keys zh.json lacks"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "zh"])
def test_every_translation_keeps_the_placeholders_of_the_chinese_text(lang):
    zh, other = catalogue("zh"), catalogue(lang)
    wrong = {k: (sorted(placeholders(zh[k])), sorted(placeholders(other[k])))
             for k in zh if placeholders(zh[k]) != placeholders(other[k])}
    assert wrong == {}


def test_no_message_is_empty_and_files_are_plain_json_objects_of_strings():
    for lang in LANGUAGES:
        data = json.loads((MESSAGES / f"{lang}.json").read_text(encoding="utf-8"))
        assert isinstance(data, dict)
        empty = [k for k, v in data.items() if not isinstance(v, str) or not v.strip()]
        assert empty == []


def test_t_fills_placeholders_in_the_chosen_language():
    assert t("train.last", "zh", when="11-29", days=3) == "最近一次培训：11-29（3 天前）"
    assert t("train.last", "en", when="11-29", days=3) == "Last session: 11-29 (3 days ago)"


def test_every_import_stage_has_words_in_each_language(sqlite_url, tmp_path):
    """The import page's progress bar names the stage; the importer's stage codes must never show."""
    from db.importer import import_files
    from domain.i18n import t
    from tests.helpers import case_row, write_csv

    stages = []
    report = import_files(write_csv(tmp_path / "c.csv", [case_row("ST-1")]),
                          progress=lambda stage, frac: stages.append(stage))
    assert report.ok and {"read", "check", "write", "evaluate", "commit", "done"} <= set(stages)
    for stage in set(stages):
        zh, en = t(f"import.stage.{stage}", "zh"), t(f"import.stage.{stage}", "en")
        assert stage not in zh and any("\u4e00" <= ch <= "\u9fff" for ch in zh)
        assert en and "import.stage" not in en


def test_a_said_message_reads_as_english_and_tells_itself_in_each_language():
    import pickle

    from domain.i18n import Said, Term, told

    said = Said("ix.before_receipt", column=Term("closed_at", "办结时间"))
    assert said == "closed_at is before received_at" and "before received_at" in said  # logs and the CLI
    assert said.text("zh") == "办结时间早于受理时间" and told(said, "en") == str(said)
    assert told("plain text", "zh") == "plain text"
    again = pickle.loads(pickle.dumps(said))  # crosses process boundaries intact
    assert again.text("zh") == said.text("zh") and again == said
