"""Reading and checking interchange files, without a database."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from db import interchange as ix
from domain.timeutil import TimeParseError, parse_instant
from domain.vocab import CASE_COLUMNS, CONTACT_COLUMNS
from tests.helpers import case_row, to_chinese, write_csv, write_xlsx

UTC = timezone.utc


@pytest.mark.parametrize("text, expected", [
    ("2026-03-01T09:30:00", datetime(2026, 3, 1, 1, 30, tzinfo=UTC)),
    ("2026-03-01 09:30", datetime(2026, 3, 1, 1, 30, tzinfo=UTC)),
    ("2026-03-01 9:30", datetime(2026, 3, 1, 1, 30, tzinfo=UTC)),
    ("2026-03-01T09:30:00+08:00", datetime(2026, 3, 1, 1, 30, tzinfo=UTC)),
    ("2026-03-01T09:30:00Z", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
    ("2026-03-01 09:30:00-05:00", datetime(2026, 3, 1, 14, 30, tzinfo=UTC)),
    ("2026-03-01", datetime(2026, 2, 28, 16, 0, tzinfo=UTC)),
])
def test_times_without_offset_are_shanghai_time_and_offsets_are_honoured(text, expected):
    assert parse_instant(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01 09:00", "01/03/2026 09:00", "2026-03-01 25:00"])
def test_unparseable_times_are_refused(text):
    with pytest.raises(TimeParseError):
        parse_instant(text)


def test_configured_zone_changes_the_reading_of_local_times(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_TZ", "UTC")
    assert parse_instant("2026-03-01 09:30") == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_bom_and_gbk_with_chinese_headers_reads_the_same(tmp_path, encoding):
    path = write_csv(tmp_path / "cases.csv", to_chinese([case_row(channel="电话", category="网络")]), encoding)
    table = ix.read_table(path, columns=CASE_COLUMNS)
    parsed = ix.parse_rows(table, CASE_COLUMNS)
    assert not parsed.problems
    row = parsed.rows[0]
    assert row["channel"] == "phone" and row["category"] == "network"
    assert row["subcategory"] == "信号弱" and row["handler"] == "李娜"
    assert row["received_at"] == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)


def test_xlsx_reads_like_csv(tmp_path):
    path = write_xlsx(tmp_path / "cases.xlsx", [case_row(items_confirmed="是")])
    parsed = ix.parse_rows(ix.read_table(path, columns=CASE_COLUMNS), CASE_COLUMNS)
    assert not parsed.problems
    assert parsed.rows[0]["items_confirmed"] is True


def test_unknown_columns_are_ignored_with_a_warning(tmp_path):
    path = write_csv(tmp_path / "cases.csv", [case_row(extra_col="x")])
    table = ix.read_table(path, columns=CASE_COLUMNS)
    assert "extra_col" not in table.frame.columns
    assert table.warnings == ["cases.csv: unknown columns ignored: extra_col"]


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\x00\x01\x02binary", "binary content"),
    (b"PK\x03\x04not really a workbook", "cannot be parsed"),
])
def test_unreadable_files_are_named_with_the_reason(tmp_path, content, message):
    path = tmp_path / ("cases.xlsx" if content.startswith(b"PK") else "cases.csv")
    path.write_bytes(content)
    with pytest.raises(ix.FileProblem) as err:
        ix.read_table(path, columns=CASE_COLUMNS)
    assert path.name in str(err.value) and message in str(err.value)


def test_missing_required_column_names_the_column_in_both_languages(tmp_path):
    row = case_row()
    del row["handler"]
    path = write_csv(tmp_path / "cases.csv", [row])
    with pytest.raises(ix.FileProblem, match=r"cases.csv: required column missing: handler \(处理人\)"):
        ix.read_table(path, columns=CASE_COLUMNS)


def test_the_same_column_twice_in_two_languages_is_refused(tmp_path):
    row = case_row()
    row["处理人"] = "张三"
    path = write_csv(tmp_path / "cases.csv", [row])
    with pytest.raises(ix.FileProblem, match="column handler appears twice"):
        ix.read_table(path, columns=CASE_COLUMNS)


@pytest.mark.parametrize("field, value, reason", [
    ("received_at", "next tuesday", "not a time"),
    ("channel", "carrier pigeon", "unknown value 'carrier pigeon'"),
    ("category", "费用", "unknown value '费用'"),
    ("acceptance", "maybe", "unknown value 'maybe'"),
    ("items_confirmed", "perhaps", "not a yes/no value"),
    ("progress_interval_hours", "-4", "must be a number greater than 0"),
    ("progress_interval_hours", "abc", "not a number"),
    ("rejection_reason", "too busy", "unknown value 'too busy'"),
    ("satisfaction", "ok", "unknown value 'ok'"),
    ("handler", "", "required value is empty"),
])
def test_each_bad_value_is_reported_with_file_line_and_column(tmp_path, field, value, reason):
    rows = [case_row("C001"), case_row("C002", **{field: value})]
    table = ix.read_table(write_csv(tmp_path / "cases.csv", rows), columns=CASE_COLUMNS)
    parsed = ix.parse_rows(table, CASE_COLUMNS)
    assert [r["case_no"] for r in parsed.rows] == ["C001"]
    assert len(parsed.problems) == 1
    p = parsed.problems[0]
    assert (p.file, p.line, p.column) == ("cases.csv", 3, field)
    assert reason in p.reason
    assert str(p).startswith(f"cases.csv, line 3, column {field}: ")


def test_closed_before_received_and_duplicate_case_numbers_are_refused(tmp_path):
    rows = [case_row("C001", closed_at="2026-03-01 08:59"), case_row("C002"), case_row("C002")]
    table = ix.read_table(write_csv(tmp_path / "cases.csv", rows), columns=CASE_COLUMNS)
    parsed = ix.parse_rows(table, CASE_COLUMNS)
    ix.check_cases(table, parsed)
    reasons = {(p.line, p.column): p.reason for p in parsed.problems}
    assert reasons == {(2, "closed_at"): "closed_at is before received_at",
                       (4, "case_no"): "case_no C002 already appears on line 3"}
    assert [r["_line"] for r in parsed.rows] == [3]


def test_alternatives_accept_both_semicolons():
    parsed_value = ix._parse_list("赠送流量；减免月租;  专人跟进 ")
    assert parsed_value == "赠送流量；减免月租；专人跟进"


def test_contacts_file_uses_chinese_kind_labels(tmp_path):
    rows = [{"工单号": "C001", "联系时间": "2026-03-01 10:00", "联系类型": "最终结果答复", "联系方式": "短信"}]
    table = ix.read_table(write_csv(tmp_path / "contacts.csv", rows, "gbk"), columns=CONTACT_COLUMNS)
    parsed = ix.parse_rows(table, CONTACT_COLUMNS)
    assert parsed.rows[0]["kind"] == "final" and parsed.rows[0]["channel"] == "sms"


def test_a_big5_file_is_refused_not_read_as_gbk(tmp_path):
    """#28 M8: a Big5 file decoded as GBK without an error and created a handler 'ヒ'."""
    from db.interchange import FileProblem, _decode

    traditional = ("工單號,處理人,班組,投訴內容\nTZ001,王小明,網絡投訴一組,客戶反映家中寬帶經常斷網，要求儘快上門維修並說明原因\n"
                   "TZ002,李華,服務投訴組,客戶對營業廳服務態度不滿意，要求道歉並解釋資費\n")
    with pytest.raises(FileProblem) as refused:
        _decode(traditional.encode("big5"), "cases.csv")
    assert str(refused.value).startswith("cases.csv: line 1:") and "Big5" in str(refused.value)
    # a short file: handler and team names only, each Big5 character read as a valid GBK one
    short = "case_no,handler,team\nTZ001,戶反中網,華務投組\nTZ002,陳對,營不滿\n"
    for data in (short, "case_no,handler\nTZ001,戶反中\n"):
        with pytest.raises(FileProblem, match="Big5"):
            _decode(data.encode("big5"), "cases.csv")
    # the same text in simplified characters, saved as GBK, is read as it was written
    simplified = "工单号,处理人\nTZ001,王小明,网络投诉一组,客户反映家中宽带经常断网，要求尽快上门维修并说明原因\n"
    assert _decode(simplified.encode("gbk"), "cases.csv") == simplified
