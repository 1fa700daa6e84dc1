"""Every page through Streamlit's AppTest on a small seeded SQLite database."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from db.models import Case
from db.seed import seed
from db.session import session_scope
from tests.helpers import case_row, write_csv

NOW = datetime.now(timezone.utc)
APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def seeded(sqlite_url):
    seed(300, 2, NOW, sqlite_url)
    with session_scope(sqlite_url) as s:
        case = s.scalar(select(Case).order_by(Case.received_at.desc()).limit(1))
        return sqlite_url, case.case_no, case.customer_phone, case.customer_name


def app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page)
        at.run()
        assert not at.exception, at.exception
    return at


def test_search_page_lists_cases_with_personal_data_masked(seeded):
    _url, case_no, phone, name = seeded
    at = app("pages/search.py")
    assert at.title[0].value == "工单查询"
    table = at.dataframe[0].value
    assert len(table) == 300
    phones = set(table["联系电话"])
    assert phone not in phones and f"{phone[:3]}****{phone[-4:]}" in phones
    assert name not in set(table["客户"])


def test_search_filters_by_case_number_and_status(seeded):
    _url, case_no, _phone, _name = seeded
    at = app("pages/search.py")
    at.text_input(key="search_case_no").input(case_no)
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert list(at.dataframe[0].value["工单号"]) == [case_no]
    at.text_input(key="search_case_no").input("NO-SUCH-CASE")
    at.form_submit_button[0].click().run()
    assert at.info[0].value == "没有符合条件的工单。"


def test_search_by_flag_only_returns_flagged_cases(seeded):
    at = app("pages/search.py")
    at.selectbox(key="search_flag").select("review")
    at.form_submit_button[0].click().run()
    assert not at.exception
    statuses = set(at.dataframe[0].value["状态"])
    assert statuses == {"不予受理"}  # only rejected cases carry a review flag in the demo data


def test_case_detail_shows_fields_flags_and_flow(seeded):
    _url, case_no, phone, _name = seeded
    at = app()
    at.switch_page("pages/case_detail.py")
    at.session_state["detail_case_no"] = case_no
    at.run()
    assert not at.exception, at.exception
    assert case_no in at.subheader[0].value
    headings = [m.value for m in at.markdown]
    assert "#### 督办标记" in headings and "#### 处理流程进度（附录A）" in headings
    fields = at.dataframe
    values = [v for df in fields for v in df.value.astype(str).values.ravel()]
    assert phone in values  # the handler's view of one case shows the number in full


def test_case_detail_unknown_case_is_a_warning(seeded):
    at = app("pages/case_detail.py")
    at.text_input(key="detail_input").input("NOPE").run()
    assert at.warning[0].value == "找不到工单 NOPE。"


def test_rules_page_lists_all_rules_and_what_if_counts(seeded):
    at = app("pages/rules.py")
    table = at.dataframe[0].value
    assert len(table) == 16 and "SLA-FIRST-CONTACT" in set(table["ID"])
    at.number_input(key="rules_th_first_contact_hours").set_value(1.0)
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    result = at.dataframe[1].value
    row = result[(result["ID"] == "SLA-FIRST-CONTACT") & (result["状态"] == "已超时/违规")]
    assert int(row["试算"].iloc[0]) > int(row["当前"].iloc[0])


def test_english_switch_changes_the_ui_language(seeded):
    at = app()
    assert at.title[0].value == "实时督办看板"
    at.radio(key="app_lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Live SLA board"
    assert {m.label for m in at.metric} >= {"Open cases", "At risk"}


def test_import_page_imports_an_upload_and_lists_problems(seeded, tmp_path):
    url, *_ = seeded
    at = app("pages/import_data.py")
    good = write_csv(tmp_path / "cases.csv", [case_row("UP-1"), case_row("UP-2", channel="fax")]).read_bytes()
    at.file_uploader(key="import_cases").set_value(("cases.csv", good, "text/csv"))
    at.run()
    at.button(key="import_run").click().run()
    assert not at.exception, at.exception
    assert at.error[0].value == "导入被拒绝：发现 1 个问题，未写入任何数据。"
    problems = at.dataframe[-1].value
    assert list(problems.iloc[0]) == ["cases.csv", 3, "channel", problems.iloc[0]["原因"]]
    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.case_no.like("UP-%"))) == 0
    at.checkbox(key="import_partial").check()
    at.button(key="import_run").click().run()
    assert not at.exception, at.exception
    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.case_no.like("UP-%"))) == 1
    assert at.get("download_button")


def test_unreachable_database_shows_a_message(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert "数据库暂时无法连接" in at.error[0].value
