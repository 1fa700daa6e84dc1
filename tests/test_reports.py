"""Public notice (4.2, 8.1), supervision reports and PDF training packs (#20): the PDFs open, carry the
expected Chinese text and figures, embed their fonts, carry no personal data; the report's figures are
the board's; the command line's answers. Database tests on SQLite and PostgreSQL."""
from __future__ import annotations

import io
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from db import board
from db.importer import import_files
from db.models import Case
from db.notice import load_notice, save_notice
from db.obligations import thresholds
from db.session import session_scope
from db.settings import apply_thresholds
from domain.notice import NoticeInvalid
from domain.roles import Forbidden
from rules.thresholds import Thresholds
from services import reports
from services.notice import FLOW, notice_pdf
from tests.apptest import refused_directly, signed_in
from tests.helpers import case_row, contact_row, write_csv

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_fonts(data: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def page_size(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "size.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return next(line for line in info.splitlines() if line.startswith("Page size"))


@pytest.fixture
def centre(db_url, tmp_path):
    received = [(NOW - timedelta(days=d, hours=h)) for d in (1, 2, 3, 4, 8, 9) for h in (1, 30)]
    rows = [case_row(f"RPT-{i}", received_at=t.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M"),
                     customer_name="王小明", customer_phone="13812345678", promised_reply_at="",
                     team="网络投诉一组" if i % 2 else "服务投诉组",
                     satisfaction="dissatisfied" if i == 3 else "",
                     survey_at=(t + timedelta(hours=30)).astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M") if i == 3 else "",
                     dissatisfaction_cause="王小明认为赔偿太少，联系电话13812345678" if i == 3 else "")
            for i, t in enumerate(received)]
    contacts = [contact_row(f"RPT-{i}", (t + timedelta(hours=3 if i % 3 else 30)).astimezone(
        timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M"), "first") for i, t in enumerate(received)]
    assert import_files(write_csv(tmp_path / "c.csv", rows), write_csv(tmp_path / "k.csv", contacts), now=NOW).ok
    return db_url


# ---------------------------------------------------------------- the notice


def test_the_notice_pdf_says_where_to_complain_the_limits_in_force_and_the_flow(db_url, tmp_path):
    with session_scope(db_url) as s:
        save_notice(s, {**load_notice(s), "complaint_numbers": "10086、0523-86100000",
                        "operator_supervision": "0523-86800000", "halls": "海陵区鼓楼南路营业厅\n高港区通扬路营业厅"},
                    "boss", "admin")
    apply_thresholds(Thresholds(first_contact_hours=12), actor="boss")
    with session_scope(db_url) as s:
        data = notice_pdf(load_notice(s), thresholds(s), "A4", NOW)
    text = pdf_text(data, tmp_path)
    for expected in ("客户投诉受理公告", "10086、0523-86100000", "0523-86800000", "12300", "受理后 12 小时内与您首次联系",
                     "受理后 48 小时内答复处理结果", "海陵区鼓楼南路营业厅", "4.2", "8.1"):
        assert expected in text, expected
    assert all(step in text for step, _note in FLOW)
    fonts = pdf_fonts(data, tmp_path)
    assert fonts and all(f[-5] == "yes" for f in fonts)  # every font embedded
    assert any("NotoSansCJK" in f[0] for f in fonts)
    assert "A4" in page_size(data, tmp_path)
    with session_scope(db_url) as s:
        assert "A3" in page_size(notice_pdf(load_notice(s), thresholds(s), "A3", NOW), tmp_path)


def test_notice_settings_are_audited_checked_and_for_admins_only(db_url):
    with pytest.raises(NoticeInvalid, match="field complaint_numbers is empty"):
        with session_scope(db_url) as s:
            save_notice(s, {**load_notice(s), "complaint_numbers": " "}, "boss", "admin")
    for role in ("team_lead", "manager", "trainer", None):
        with pytest.raises(Forbidden):
            with session_scope(db_url) as s:
                save_notice(s, load_notice(s), "x", role)
    with session_scope(db_url) as s:
        save_notice(s, {**load_notice(s), "centre": "泰州移动客服中心"}, "boss", "admin")
    with session_scope(db_url) as s:
        from db.audit import search

        assert load_notice(s)["centre"] == "泰州移动客服中心"
        assert [e["action"] for e in search(s, action="edit_notice")] == ["edit_notice"]


# ---------------------------------------------------------------- reports


def test_the_report_figures_are_the_boards_for_the_same_period_and_team(centre):
    for team in (None, "网络投诉一组"):
        with session_scope(centre) as s:
            period = reports.period_of("week", date(2026, 11, 25))
            report = reports.build(s, period, team, NOW)
            f = board.BoardFilters(teams=(team,) if team else ())
            on_board = {r["rule_id"]: (r["met"], r["breached"]) for r in board.compliance(s, NOW, f, period.start, period.end)}
        assert {r["rule_id"]: (r["met"], r["breached"]) for r in report["compliance"] if r["met"] + r["breached"]} == on_board
        assert sum(b["n"] for b in report["breaches"]) == sum(b for _m, b in on_board.values())
        assert on_board  # the period has deadlines


def test_the_report_pdf_and_workbook_carry_the_figures_and_no_personal_data(centre, tmp_path):
    with session_scope(centre) as s:
        report = reports.build(s, reports.period_of("week", date(2026, 11, 25)), None, NOW)
    text = pdf_text(reports.report_pdf(report), tmp_path)
    assert "投诉督办周报（全中心）" in text and "2026-11-23 至 2026-11-29" in text
    fc = next(r for r in report["compliance"] if r["rule_id"] == "SLA-FIRST-CONTACT")
    assert f"{100 * fc['rate']:.1f}%" in text
    assert "不满意客户及处理（共 1 件）" in text and "[姓名]" in text
    assert "王小明" not in text and "13812345678" not in text
    book = load_workbook(io.BytesIO(reports.report_xlsx(report)))
    cells = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None)
    assert "王小明" not in cells and "13812345678" not in cells and "RPT-" in cells
    assert isinstance(book["最长在办"]["B2"].value, datetime)  # real Excel date-times
    assert all(f[-5] == "yes" for f in pdf_fonts(reports.report_pdf(report), tmp_path))


def test_the_report_command_line_answers_bad_periods_teams_and_paths(centre, tmp_path, capsys, travel):
    import manage

    travel(NOW)  # the day reported on (27 November) has ended, and 2030 has not begun

    out = tmp_path / "day.pdf"
    assert manage.main(["report", "--period", "day", "--date", "2026-11-27", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF") and "投诉督办日报" in pdf_text(out.read_bytes(), tmp_path)
    assert manage.main(["report", "--period", "week", "--date", "2026-11-27", "--team", "服务投诉组",
                        "--out", str(tmp_path / "w.xlsx")]) == 0
    capsys.readouterr()
    assert manage.main(["report", "--period", "day", "--date", "2026-11-27", "--team", "不存在的组",
                        "--out", str(tmp_path / "x.pdf")]) == 1
    assert "no team named '不存在的组'" in capsys.readouterr().err
    assert manage.main(["report", "--period", "day", "--date", "2026-11-27", "--out", str(tmp_path / "x.docx")]) == 1
    assert "must end in .pdf or .xlsx" in capsys.readouterr().err
    assert manage.main(["report", "--period", "day", "--date", "2026-11-27", "--out", "/nonexistent/x.pdf"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert manage.main(["report", "--period", "day", "--date", "2030-01-01", "--out", str(tmp_path / "f.pdf")]) == 1
    assert "not started" in capsys.readouterr().err
    for bad in (["--period", "month", "--date", "2026-11-27"], ["--period", "day", "--date", "27/11/2026"]):
        with pytest.raises(SystemExit) as exit_:
            manage.main(["report", *bad, "--out", str(tmp_path / "y.pdf")])
        assert exit_.value.code == 2


# ---------------------------------------------------------------- training packs as PDF


def test_a_training_pack_pdf_tells_the_cases_without_personal_data(library, tmp_path):  # noqa: F811
    from db.library import library_case
    from db.queries import case_obligations
    from services.library_view import pack_pdf

    with session_scope(library) as s:
        cases = []
        for no in ("L-1", "L-2"):
            rec = library_case(s, no)
            rec["obligations"] = case_obligations(s, rec["id"], NOW)
            cases.append(rec)
    data = pack_pdf("宽带与资费培训", cases, NOW)
    text = pdf_text(data, tmp_path)
    assert "宽带与资费培训" in text and "L-1" in text and "L-2" in text and "处理经过" in text
    assert "王小明" not in text and "13812345678" not in text and "陈静" not in text
    assert all(f[-5] == "yes" for f in pdf_fonts(data, tmp_path))


# ---------------------------------------------------------------- pages


def test_the_notice_page_shows_the_notice_and_only_admins_edit_it(db_url):
    at = signed_in("admin", username="boss")
    at.run()
    at.switch_page("pages/notice.py").run()
    assert not at.exception
    assert any("12300" in t.value for t in at.text)
    at.text_input(key="notice_f_centre").input("泰州移动客户服务中心（测试）")
    at.form_submit_button[0].click().run()
    assert not at.exception and any("公告设置已保存" in s.value for s in at.success)
    trainer = signed_in("trainer")
    trainer.run()
    trainer.switch_page("pages/notice.py").run()
    assert not trainer.exception and trainer.subheader[0].value == "泰州移动客户服务中心（测试）"
    assert not trainer.text_input  # no settings form


def test_the_reports_page_offers_both_files(centre, travel):
    travel(NOW)  # the page's default period is the clock's today: the day the fixture's cases lead up to
    at = signed_in("manager")
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception
    assert at.date_input(key="rep_date").value == NOW.astimezone(timezone(timedelta(hours=8))).date()
    assert at.dataframe[0].value.shape[0] >= 1
    assert [b.proto.label for b in at.get("download_button")][:2] == ["下载 PDF 报告", "下载 Excel 报告"]


@pytest.mark.parametrize("role, page, allowed", [("team_lead", "pages/reports.py", True), ("manager", "pages/reports.py", True),
                                                 ("inspector", "pages/reports.py", False), ("trainer", "pages/reports.py", False),
                                                 ("handler", "pages/notice.py", True), ("trainer", "pages/notice.py", True)])
def test_report_and_notice_pages_check_the_role(db_url, role, page, allowed):
    assert refused_directly(page, role) is (not allowed)


from tests.test_library import library  # noqa: E402,F401 - the fixture
