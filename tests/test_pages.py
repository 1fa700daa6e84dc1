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
from domain import clock
from tests.apptest import open_page, refused_directly, signed_in
from tests.helpers import case_row, write_csv

NOW = clock.now()
APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def seeded(sqlite_url):
    seed(300, 2, NOW, sqlite_url)
    with session_scope(sqlite_url) as s:
        case = s.scalar(select(Case).order_by(Case.received_at.desc()).limit(1))
        return sqlite_url, case.case_no, case.customer_phone, case.customer_name


def app(page: str | None = None, role: str = "team_lead") -> AppTest:
    return open_page(page, role)


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


def _values(at):
    return [v for df in at.dataframe for v in df.value.astype(str).values.ravel()]


def test_case_detail_shows_fields_flags_and_flow_with_personal_data_masked(seeded):
    url, case_no, phone, _name = seeded
    at = signed_in("team_lead", detail_case_no=case_no)
    at.run()
    at.switch_page("pages/case_detail.py").run()
    assert not at.exception, at.exception
    assert case_no in at.subheader[0].value
    headings = [m.value for m in at.markdown]
    assert "#### 督办标记" in headings and "#### 处理流程进度（附录A）" in headings
    values = _values(at)
    assert phone not in values and f"{phone[:3]}****{phone[-4:]}" in values
    at.button(key="detail_unmask").click().run()
    assert not at.exception, at.exception
    assert phone in _values(at)
    from db.audit import search

    with session_scope(url) as s:
        entries = search(s, action="unmask")
    assert [(e["actor"], e["key"]) for e in entries] == [("test-team_lead", case_no)]


def test_trainers_cannot_unmask(seeded):
    _url, case_no, phone, _name = seeded
    at = signed_in("trainer", detail_case_no=case_no)
    at.run()
    assert not at.exception, at.exception
    assert phone not in _values(at)
    assert not [b for b in at.button if b.key == "detail_unmask"]


def test_case_detail_unknown_case_is_a_warning(seeded):
    at = app("pages/case_detail.py")
    at.text_input(key="detail_input").input("NOPE").run()
    assert at.warning[0].value == "找不到工单 NOPE。"


def test_rules_page_lists_all_rules_and_what_if_counts(seeded):
    at = app("pages/rule_settings.py")
    table = at.dataframe[0].value
    assert len(table) == 16 and "24小时内首次联系客户" in set(table["规则"]) and "ID" not in table.columns
    at.number_input(key="rules_th_first_contact_hours").set_value(1.0)
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    result = at.dataframe[1].value
    assert not result.astype(str).apply(lambda col: col.str.contains("SLA-|REC-|SAT-|SCOPE-|ARC-")).any().any()
    row = result[(result["规则"] == "24小时内首次联系客户") & (result["状态"] == "已超时/违规")]
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
    # the reason in the reader's language, naming the bad value and the values that would have been known
    assert problems.iloc[0]["原因"].startswith("无法识别的取值 'fax'；可用取值：") and "面谈（face_to_face）" in problems.iloc[0]["原因"]
    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.case_no.like("UP-%"))) == 0
    at.checkbox(key="import_partial").check()
    at.button(key="import_run").click().run()
    assert not at.exception, at.exception
    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.case_no.like("UP-%"))) == 1
    assert at.get("download_button")


def test_import_problems_and_the_reject_download_follow_the_language(seeded, tmp_path):
    from db.importer import import_files
    for lang, reason, header in (("zh", "办结时间早于受理时间", ["行号", "原因"]),
                                 ("en", "closed_at is before received_at", ["line", "reason"])):
        at = app("pages/import_data.py")
        at.session_state["app_lang"] = lang
        bad = case_row(f"LANG-{lang}", closed_at="2026-02-01 09:00", received_at="2026-03-01 09:00")
        data = write_csv(tmp_path / f"{lang}.csv", [case_row(f"OK-{lang}"), bad]).read_bytes()
        at.file_uploader(key="import_cases").set_value((f"{lang}.csv", data, "text/csv"))
        at.run()
        at.checkbox(key="import_partial").check()
        at.button(key="import_run").click().run()
        assert not at.exception, at.exception
        table = at.dataframe[-1].value
        assert list(table.iloc[0])[-1] == reason
        assert [b.label for b in at.get("download_button")] == [f"{'下载退回文件' if lang == 'zh' else 'Download reject file'} {lang}.rejects.csv"]
        # ... written in the same language as the table (the file beside a command-line input stays English)
        again = case_row(f"LANG2-{lang}", closed_at="2026-02-01 09:00", received_at="2026-03-01 09:00")
        report = import_files(write_csv(tmp_path / "again.csv", [again]).read_bytes(), partial=True,
                              cases_name="again.csv", lang=lang)
        (_name, blob), = report.reject_downloads
        rejects = blob.decode("utf-8-sig").splitlines()
        first, *_rest, last = rejects[0].split(",")
        assert [first, last] == header and f"LANG2-{lang}" in rejects[1] and rejects[1].endswith(reason)
    unreadable = app("pages/import_data.py")
    unreadable.file_uploader(key="import_cases").set_value(("x.xlsx", b"not a workbook at all", "text/csv"))
    unreadable.run()
    shown = unreadable.error[0].value.replace("\\", "")  # the file name is shown escaped, never as Markdown
    assert shown == "x.xlsx: 不是有效的 .xlsx 工作簿（不支持旧版 .xls，请另存为 .xlsx 或 CSV）"


@pytest.mark.parametrize("role, page, allowed", [
    ("trainer", "pages/board.py", False), ("trainer", "pages/import_data.py", False),
    ("inspector", "pages/import_data.py", False), ("inspector", "pages/search.py", True),
    ("manager", "pages/board.py", True), ("team_lead", "pages/audit.py", False),
    ("admin", "pages/audit.py", True), ("team_lead", "pages/users.py", False), ("admin", "pages/users.py", True),
])
def test_pages_check_the_role_on_the_server(seeded, role, page, allowed):
    """Even when a page is reached directly (not through the menu), the role decides."""
    assert refused_directly(page, role) is (not allowed)


def test_login_is_required_and_demo_accounts_work(seeded):
    url, *_ = seeded
    from db.users import create_demo_accounts

    with session_scope(url) as s:
        create_demo_accounts(s)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "投诉督办台"
    at.text_input(key="login_username").input("lead")
    at.text_input(key="login_password").input("wrong-password")
    at.form_submit_button[0].click().run()
    assert at.error[0].value.startswith("用户名或密码不正确")
    at.text_input(key="login_password").input("demo-2026")
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "实时督办看板"


def test_unreachable_database_shows_a_message(monkeypatch):
    monkeypatch.setenv("COMPLAINTS_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert "数据库暂时无法连接" in at.error[0].value


def test_the_audit_trail_reads_in_words(seeded, tmp_path):
    """Headers, actions and people in the user's language; stored JSON and UTC instants turned into
    'field: value' text and local times."""
    from db.importer import import_files
    from services.views import audit_change, audit_frame
    from tests.helpers import case_row, write_csv

    assert import_files(write_csv(tmp_path / "c.csv", [case_row("AU-1")])).ok  # leaves an audit row
    at = app("pages/audit.py", role="admin")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table.columns) == ["时间", "操作人", "操作", "对象", "修改前", "修改后"]
    assert "导入" in set(table["操作"]) and not table["修改后"].str.startswith("{").any()
    assert audit_change('{"due": "2026-03-01T01:00:00+00:00", "teams": ["一组", "二组"], "ok": true}') == \
        "due: 2026-03-01 09:00；teams: 一组、二组；ok: ✓"
    frame = audit_frame([{"at": datetime(2026, 3, 1, 1, 0, tzinfo=timezone.utc), "actor": "lead-a", "action": "add_contact",
                          "entity": "case", "key": "TZ1", "before": None, "after": '{"kind": "first"}'}],
                        {"lead-a": "王组长"}, "en")
    assert frame.iloc[0].tolist() == ["2026-03-01 09:00:00", "王组长", "recorded a contact", "case TZ1", "", "kind: first"]
