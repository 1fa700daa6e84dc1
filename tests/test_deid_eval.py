"""De-identification measured (#17 item 2): recall per kind of personal data and look-alikes kept, on the
generated evaluation set (480 texts, tests/data/deid/eval.jsonl) and on hand-written texts kept apart from it
(tests/data/deid/handwritten.py). benchmarks/bench_deid.py prints the same tables with the throughput."""
from __future__ import annotations

import pytest

from domain import clock
from domain.deid import id_check_ok, luhn_ok, scrub_text
from tests.data.deid.handwritten import ITEMS
from tests.deid_eval import load, score

KINDS = ("mobile", "landline", "id_card", "bank_card", "email", "account", "staff_no", "name", "address")


def handwritten() -> list[dict]:
    return [{"id": i, "text": text, "names": names, "keep": keep,
             "pii": [{"kind": kind, "value": value} for kind, value in pii]}
            for i, (text, pii, keep, names) in enumerate(ITEMS, start=1)]


def test_the_evaluation_set_is_large_and_covers_every_kind_and_look_alike():
    items = load()
    assert len(items) >= 400
    counts = {k: sum(1 for it in items for p in it["pii"] if p["kind"] == k) for k in KINDS}
    assert min(counts.values()) >= 40, counts
    assert sum(len(it["keep"]) for it in items) >= 400
    assert len(ITEMS) >= 50


@pytest.mark.parametrize("items", [load, handwritten], ids=["generated", "handwritten"])
def test_recall_is_at_least_99_percent_per_kind_and_98_percent_of_look_alikes_stay(items):
    result = score(lambda text, names: scrub_text(text, names), items())
    for kind in result.total:
        assert result.recall(kind) >= 0.99, (kind, [m[:3] for m in result.missed if m[1] == kind][:5])
    assert result.kept_share >= 0.98, result.lost[:5]


def test_check_digits_decide_between_a_card_or_an_id_and_a_serial_number():
    assert luhn_ok("6222021234567890123") is False and luhn_ok("6217001234567891234") is False
    assert luhn_ok("4367421234567896") and not luhn_ok("4367421234567897")
    assert id_check_ok("11010519491231002X") and not id_check_ok("110105194912310021")
    # a card-length serial with no card word and no valid check digit is not a card; a valid one is
    assert scrub_text("批次2026123456789012到账") == "批次2026123456789012到账"
    assert scrub_text("转账至6222020200112345679") == "转账至[银行卡号]"
    assert scrub_text("转账至6222 0202 0011 2345 679") == "转账至[银行卡号]"
    assert scrub_text("编号110105194912310021已归档") == "编号110105194912310021已归档"
    assert scrub_text("证件11010519491231002X过期") == "证件[身份证号]过期"


def test_the_roster_masks_colleagues_full_names_but_not_words_inside_their_given_names():
    roster = ("王建国", "李娜")
    assert scrub_text("王建国已回访，客户住建国路附近", (), roster) == "[姓名]已回访，客户住建国路附近"
    assert scrub_text("由李娜复核", ["赵敏华"], roster) == "由[姓名]复核"
    assert scrub_text("敏华来电", ["赵敏华"], roster) == "[姓名]来电"  # the customer's given name alone


def test_library_entries_mask_a_colleague_named_in_the_text(sqlite_url):
    from datetime import datetime, timezone

    from db.importer import import_files
    from db.library import library_case, mark_typical
    from db.session import session_scope
    from tests.helpers import case_row, write_csv
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp())
    rows = [case_row("R1", handler="李娜", description="张伟上门未果，由李娜再次联系客户"), case_row("R2", handler="张伟")]
    assert import_files(write_csv(folder / "c.csv", rows), url=sqlite_url).written
    with session_scope(sqlite_url) as s:
        mark_typical(s, "R1", 1, "两位处理人先后联系", "", ["上门"], [], None, actor="t",
                     now=clock.now())
    with session_scope(sqlite_url) as s:
        story = library_case(s, "R1")
    assert story["description"] == "[姓名]上门未果，由[姓名]再次联系客户"
    # and so in the training pack that leaves the centre as a Word file
    import io
    import zipfile

    from db.library import pack_cases
    from services.library_view import pack_docx

    with session_scope(sqlite_url) as s:
        cases = pack_cases(s, ["R1"], clock.now())
    document = zipfile.ZipFile(io.BytesIO(pack_docx("培训", cases, clock.now(), "zh"))) \
        .read("word/document.xml").decode("utf-8")
    assert "上门未果" in document and "张伟" not in document and "13812345678" not in document
