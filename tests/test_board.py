"""The live board's numbers on a small hand-built dataset, at a fixed instant, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from db import board
from db.importer import import_files
from db.session import session_scope
from services import board as view
from tests.apptest import signed_in
from tests.helpers import case_row, contact_row, write_csv

SH = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=SH)  # a Tuesday, noon in Shanghai
DAY_START = datetime(2026, 3, 3, 0, 0, tzinfo=SH)
APP = str(Path(__file__).resolve().parent.parent / "app.py")


def at(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S+08:00")


@pytest.fixture
def dataset(db_url, tmp_path):
    common = dict(promised_reply_at="")
    cases = [
        case_row("A", received_at=at(-21), **common),                      # first contact due in 3 h: at risk
        case_row("B", received_at=at(-30), **common),                      # first contact 6 h overdue
        case_row("C", received_at=at(-50), closed_at=at(-9), **common),    # all on time, closed
        case_row("D", received_at=at(-58), closed_at=at(-5), **common),    # first and final late, closed
        case_row("E", received_at=at(-20), acceptance="rejected", rejection_reason="past_time_limit",
                 handler="张伟", team="资费争议组", **common),               # notice due in 4 h: at risk from now
    ]
    contacts = [
        contact_row("C", at(-48), "first"), contact_row("C", at(-10), "final"),
        contact_row("D", at(-28), "first"), contact_row("D", at(-8), "final"),
    ]
    report = import_files(write_csv(tmp_path / "cases.csv", cases), write_csv(tmp_path / "contacts.csv", contacts),
                          now=NOW)
    assert report.ok, [str(p) for p in report.problems]
    return db_url


def test_tiles_count_open_at_risk_and_breached(dataset):
    with session_scope(dataset) as s:
        tiles = board.tiles(s, NOW, board.BoardFilters(), DAY_START)
    assert tiles == {"open_cases": 2, "at_risk": 2, "overdue_open": 1, "breached_today": 2, "breached_7d": 3,
                     "to_archive": 2}  # C and D are closed and not archived yet


def test_queue_puts_least_time_left_first_then_the_overdue(dataset):
    with session_scope(dataset) as s:
        rows = board.act_now(s, NOW, board.BoardFilters())
    assert [(r["case_no"], r["rule_id"]) for r in rows] == [
        ("A", "SLA-FIRST-CONTACT"), ("E", "SCOPE-NOTICE"), ("B", "SLA-FIRST-CONTACT")]
    frame = view.queue_frame(rows, NOW, "zh")
    assert list(frame["剩余/超时"]) == ["剩余 3小时00分", "剩余 4小时00分", "已超时 6小时00分"]
    assert list(frame["overdue"]) == [False, False, True]


def test_queue_follows_the_filters(dataset):
    with session_scope(dataset) as s:
        only_team = board.act_now(s, NOW, board.BoardFilters(teams=("资费争议组",)))
        only_rule = board.act_now(s, NOW, board.BoardFilters(rules=("SCOPE-NOTICE",)))
        only_cat = board.act_now(s, NOW, board.BoardFilters(categories=("service",)))
    assert [r["case_no"] for r in only_team] == ["E"]
    assert [r["case_no"] for r in only_rule] == ["E"]
    assert only_cat == []


def test_compliance_rates_per_deadline(dataset):
    with session_scope(dataset) as s:
        rows = {r["rule_id"]: r for r in board.compliance(s, NOW, board.BoardFilters(), NOW - timedelta(days=7), NOW)}
    assert (rows["SLA-FIRST-CONTACT"]["met"], rows["SLA-FIRST-CONTACT"]["breached"]) == (1, 2)
    assert rows["SLA-FIRST-CONTACT"]["rate"] == pytest.approx(1 / 3)
    assert (rows["SLA-FINAL-RESULT"]["met"], rows["SLA-FINAL-RESULT"]["breached"]) == (1, 1)


def test_per_handler_and_team_counts(dataset):
    with session_scope(dataset) as s:
        rows = board.by_handler(s, NOW, board.BoardFilters())
    by_name = {r["handler"]: (r["team"], r["at_risk"], r["overdue"]) for r in rows}
    assert by_name == {"李娜": ("网络投诉一组", 1, 1), "张伟": ("资费争议组", 1, 0)}
    teams = view.team_frame(rows, "en")
    assert list(teams.columns) == ["Team", "at risk", "Overdue"]


def test_breaches_by_day_weekday_and_hour_in_local_time(dataset):
    with session_scope(dataset) as s:
        rows = board.breaches_in_period(s, NOW, board.BoardFilters(), NOW - timedelta(days=7), NOW, 8)
    got = sorted((r["day"], r["weekday"], r["hour"], r["rule_id"]) for r in rows)
    expected = []
    for rule, due in (("SLA-FIRST-CONTACT", NOW - timedelta(hours=6)), ("SLA-FIRST-CONTACT", NOW - timedelta(hours=34)),
                      ("SLA-FINAL-RESULT", NOW - timedelta(hours=10))):
        expected.append((due.strftime("%Y-%m-%d"), due.weekday(), due.hour, rule))
    assert got == sorted(expected)
    heat = view.heatmap_frame(rows, "zh")
    assert len(heat) == 7 * 24 and heat["n"].sum() == 3
    assert int(heat[(heat["weekday"] == "周二") & (heat["hour"] == 2)]["n"].iloc[0]) == 1


def test_appeal_risk_lists_old_open_cases_without_a_final_answer(dataset):
    with session_scope(dataset) as s:
        none_yet = board.appeal_risk(s, NOW, board.BoardFilters(), view.appeal_cutoff(NOW, 15, 3))
        soon = board.appeal_risk(s, NOW, board.BoardFilters(), NOW - timedelta(hours=25))
    assert none_yet == []
    assert [r["case_no"] for r in soon] == ["B"]


def test_appeal_cutoff_in_calendar_and_working_days():
    friday_noon = datetime(2026, 3, 6, 12, 0, tzinfo=SH)
    assert view.appeal_cutoff(friday_noon, 15, 3, "calendar") == friday_noon - timedelta(days=12)
    assert view.appeal_cutoff(friday_noon, 15, 10, "working") == datetime(2026, 2, 27, 12, 0, tzinfo=SH)


def test_exports_have_a_bom_and_no_formulas():
    frame = pd.DataFrame({"link": ["/case?case=A"], "工单号": ["=HYPERLINK(\"x\")"], "overdue": [True]})
    data = view.export_csv(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "link" not in text and "overdue" not in text
    from openpyxl import load_workbook
    import io

    wb = load_workbook(io.BytesIO(view.export_xlsx({"队列": frame})))
    assert wb["队列"]["A2"].value == "'=HYPERLINK(\"x\")"


def test_xlsx_exports_are_sheets_people_keep():
    """An as-of / exported-by line, a frozen header, local times as Excel date-times, widths that fit."""
    import io

    from openpyxl import load_workbook

    frame = pd.DataFrame({"工单号": ["TZ1", "TZ2"], "到期时间": ["2026-03-02 06:00", ""],
                          "投诉内容": ["客户反映夜间信号弱，" * 12, "短"], "件数": [3, 4]})
    stamp = view.export_stamp(datetime(2026, 11, 29, 7, 30, tzinfo=SH), "王组长", "zh")
    sheet = load_workbook(io.BytesIO(view.export_xlsx({"队列": frame}, stamp)))["队列"]
    assert sheet["A1"].value == "截至 2026-11-29 07:30 · 导出人：王组长"
    assert [c.value for c in sheet[2]] == ["工单号", "到期时间", "投诉内容", "件数"]
    assert sheet.freeze_panes == "A3"
    assert sheet["B3"].value == datetime(2026, 3, 2, 6, 0) and sheet["B3"].is_date and sheet["B4"].value is None
    assert 59 < sheet.column_dimensions["C"].width < 62 and sheet.column_dimensions["A"].width < 12
    assert view.export_name("实时督办看板", datetime(2026, 11, 29, 7, 30, tzinfo=SH), "xlsx") == "实时督办看板_20261129_0730.xlsx"


def test_board_page_renders_tiles_queue_and_follows_filters(dataset):
    at = signed_in("team_lead")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "实时督办看板"
    labels = {m.label: m.value for m in at.metric}
    assert set(labels) == {"处理中工单", "即将超时", "已超时待处理", "今日超时", "近7天超时", "待归档", "督办逾期未复"}
    # Live now is months after the dataset: every open deadline is overdue.
    assert labels["已超时待处理"] == "5"  # A and B: first and final; E: notice
    assert labels["待归档"] == "2"  # C and D: closed, not archived (the archive deadline is not in the queue)
    at.multiselect(key="board_rules").set_value(["SCOPE-NOTICE"]).run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["已超时待处理"] == "1"


def test_board_page_replays_a_past_instant(dataset):
    at = signed_in("team_lead")
    at.session_state["app_live"] = False
    at.session_state["app_as_of_date"] = NOW.date()
    at.session_state["app_as_of_time"] = NOW.timetz().replace(tzinfo=None)
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["处理中工单"] == "2" and metrics["即将超时"] == "2" and metrics["已超时待处理"] == "1"
    queue = at.dataframe[0].value
    assert list(queue["link"]) == ["/case?case=A", "/case?case=E", "/case?case=B"]


def test_the_archive_deadline_joins_the_queue_only_when_chosen(dataset):
    later = NOW + timedelta(days=30)  # C and D closed a month ago and were never archived
    with session_scope(dataset) as s:
        default = board.act_now(s, later, board.BoardFilters())
        chosen = board.act_now(s, later, board.BoardFilters(rules=board.DEADLINE_RULES))
        tiles = board.tiles(s, later, board.BoardFilters(), DAY_START + timedelta(days=30))
    assert not [r for r in default if r["rule_id"] == "ARC-ARCHIVE"]
    assert sorted(r["case_no"] for r in chosen if r["rule_id"] == "ARC-ARCHIVE") == ["C", "D"]
    assert tiles["to_archive"] == 2


def test_charts_and_the_on_time_table_name_deadlines_by_title_not_by_rule_id():
    rows = [{"day": "2026-03-02", "weekday": 0, "hour": 9, "rule_id": "SLA-FIRST-CONTACT", "category": "network",
             "channel": "phone", "n": 3}]
    trend = view.trend_frame(rows, "zh")
    assert trend["rule"].tolist() == ["24小时内首次联系客户"]
    assert view.trend_frame(rows, "en")["rule"].tolist() == ["First contact within 24 h"]
    table = view.compliance_frame([{"rule_id": "SLA-FIRST-CONTACT", "met": 5, "breached": 1, "rate": 5 / 6}], "zh")
    assert "ID" not in table.columns and not table.astype(str).apply(lambda c: c.str.contains("SLA-")).any().any()
    assert table.iloc[0]["规则"] == "24小时内首次联系客户"
