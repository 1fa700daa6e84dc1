"""The improvement pages (#16): the problem register and repeat complaints in AppTest, per role, and the repeats
on the case page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from db.importer import import_files
from db.models import Problem, ProblemAction
from db.problems import create_problem
from db.session import session_scope
from domain import clock
from tests.apptest import open_page, refused_directly, signed_in
from tests.helpers import case_row, write_csv

LOCAL = ZoneInfo("Asia/Shanghai")


def _at(days_ago: float) -> str:
    return (clock.now().astimezone(LOCAL) - timedelta(days=days_ago)).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def improvement(sqlite_url, tmp_path, monkeypatch):
    """Recent cases: the same customer twice within a week (first handled by 甲, then by 乙), another once."""
    monkeypatch.setenv("COMPLAINTS_CUSTOMER_KEY_SECRET", "page-test")
    rows = [case_row("IM1", received_at=_at(10), customer_phone="13900000001", handler="甲", team="一组"),
            case_row("IM2", received_at=_at(4), customer_phone="+86 139 0000 0001", handler="乙", team="二组"),
            case_row("IM3", received_at=_at(3), customer_phone="13900000002", handler="甲", team="一组")]
    for r in rows:
        r["promised_reply_at"] = (datetime.strptime(r["received_at"], "%Y-%m-%d %H:%M") + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    assert import_files(write_csv(tmp_path / "c.csv", rows), now=clock.now()).ok
    return sqlite_url


@pytest.mark.parametrize("role, page, refused", [
    ("handler", "pages/problems.py", True), ("trainer", "pages/problems.py", True),
    ("handler", "pages/repeats.py", True), ("trainer", "pages/repeats.py", True),
    ("manager", "pages/problems.py", False), ("team_lead", "pages/repeats.py", False),
])
def test_the_pages_check_the_role(sqlite_url, role, page, refused):
    assert refused_directly(page, role) is refused


def test_a_manager_registers_a_problem_and_adds_an_action(improvement):
    at = signed_in("manager")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "问题聚类"  # a manager's landing page
    at.switch_page("pages/problems.py")
    at.run()
    assert at.title[0].value == "问题台账"
    assert "没有逾期的整改措施。" in [c.value for c in at.caption]
    at.text_input(key="capa_new_title_0").input("宽带报修上门慢")
    at.text_area(key="capa_new_statement_0").input("报修后两天无人上门")
    at.text_input(key="capa_new_owner_0").input("张经理")
    at.text_area(key="capa_new_cases_0").input("IM1，IM2\nNOPE")
    next(b for b in at.button if b.label == "登记").click().run()
    assert [e.value for e in at.error] and "NOPE" in at.error[0].value.replace("\\", "")  # named, nothing stored
    with session_scope(improvement) as s:
        assert s.scalar(select(Problem.id)) is None
    assert at.text_input(key="capa_new_title_0").value == "宽带报修上门慢"  # a refusal keeps what was typed
    at.text_area(key="capa_new_cases_0").input("IM1，IM2")
    next(b for b in at.button if b.label == "登记").click().run()
    assert not at.exception, at.exception
    with session_scope(improvement) as s:
        pid = s.scalar(select(Problem.id))
    assert pid is not None and at.session_state["capa_open"] == pid
    assert any("宽带报修上门慢" in m.value for m in at.markdown)
    linked = at.dataframe[1].value
    assert sorted(linked["工单号"]) == ["IM1", "IM2"]
    # an action with an owner and a due date
    text_areas = [ta for ta in at.text_area if ta.label == "措施内容"]
    owners = [ti for ti in at.text_input if ti.label == "责任人"]
    text_areas[0].input("每日核查报修积压")
    owners[0].input("李组长")
    next(b for b in at.button if b.label == "添加措施").click().run()
    assert not at.exception, at.exception
    with session_scope(improvement) as s:
        action = s.scalar(select(ProblemAction))
        assert (action.text, action.owner, action.kind, action.state) == ("每日核查报修积压", "李组长", "immediate", "open")
    assert any("每日核查报修积压" in str(df.value.values) for df in at.dataframe)


def test_a_team_lead_reads_the_register_without_forms(improvement):
    with session_scope(improvement) as s:
        pid = create_problem(s, "信号弱", "小区信号弱", "王", ["IM3"], "boss", "manager", clock.now())
    at = signed_in("team_lead", capa_open=pid)
    at.run()
    at.switch_page("pages/problems.py")
    at.run()
    assert not at.exception, at.exception
    assert "你可以查看问题台账；只有管理人员可以修改。" in [i.value for i in at.info]
    assert not [b for b in at.button if b.label in ("登记", "添加措施", "保存分析", "推进状态")]
    assert any("信号弱" in m.value for m in at.markdown)


def test_the_repeats_page_shows_the_rate_and_who_handled_the_first_complaint(improvement):
    at = open_page("pages/repeats.py", role="manager")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"期间投诉": "3", "重复投诉": "1", "重复投诉率": "33.3%"}
    handlers = at.dataframe[2].value.set_index("处理人")
    assert handlers.loc["甲", "重复数"] == 1 and handlers.loc["乙", "重复数"] == 0
    detail = at.dataframe[3].value
    assert detail["投诉单号"].tolist() == ["IM2"] and detail["前一件投诉"].tolist() == ["IM1"]
    page_text = " ".join(str(df.value.values) for df in at.dataframe)
    assert "13900000001" not in page_text and "1390000" not in page_text
    at.number_input(key="repeat_window").set_value(5).run()
    assert {m.label: m.value for m in at.metric}["重复投诉"] == "0"
    next(b for b in at.button if b.label == "保存为全中心口径").click().run()
    assert not at.exception, at.exception
    lead = open_page("pages/repeats.py", role="team_lead")
    assert lead.number_input(key="repeat_window").value == 5  # the saved rule is everyone's default
    assert not [b for b in lead.button if b.label == "保存为全中心口径"]


def test_the_case_page_lists_the_same_customers_other_complaints(improvement):
    at = signed_in("team_lead")
    at.query_params["case"] = "IM2"
    at.run()
    at.switch_page("pages/case_detail.py")
    at.run()
    assert not at.exception, at.exception
    found = [df.value for df in at.dataframe if "计为重复投诉" in df.value.columns]
    assert len(found) == 1 and found[0]["工单号"].tolist() == ["IM1"]
    assert found[0]["计为重复投诉"].tolist() == ["计为重复投诉"]


def test_the_register_page_offers_the_excel_export_and_makes_the_pdf_on_request(improvement):
    with session_scope(improvement) as s:
        pid = create_problem(s, "信号弱", "小区信号弱", "王", ["IM3"], "boss", "manager", clock.now())
    at = signed_in("manager", capa_open=pid)
    at.run()
    at.switch_page("pages/problems.py")
    at.run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["导出问题台账（Excel）"]  # the PDF is not made on every run
    next(b for b in at.button if b.label == "生成本问题一页纸（PDF）").click().run()
    assert not at.exception, at.exception
    assert [b.label for b in at.get("download_button")] == ["导出问题台账（Excel）", "下载本问题一页纸（PDF）"]
    assert at.session_state[f"capa_pdf_{pid}_1"][:5] == b"%PDF-"  # made for the version shown


@pytest.fixture
def clustered_app(sqlite_url, tmp_path, monkeypatch):
    """Cases of five labelled problems (tests/test_clusters.py), not yet clustered."""
    from tests.test_clusters import _cases

    monkeypatch.setenv("COMPLAINTS_CUSTOMER_KEY_SECRET", "page-test")
    assert import_files(write_csv(tmp_path / "k.csv", _cases()), now=datetime(2026, 4, 11, tzinfo=timezone.utc)).ok
    return sqlite_url


def test_a_manager_clusters_opens_a_problem_renames_it_and_registers_it(clustered_app):
    from db.models import Cluster

    at = open_page("pages/clusters.py", role="manager")
    assert "还没有聚类结果。" in [i.value for i in at.info]
    next(b for b in at.button if b.label == "重新聚类").click().run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table["投诉数"].sum() == 150 and len(table) >= 5
    assert {"近 8 周走势", "超时占比（%）", "不满意占比（%）", "涉及最多的班组"} <= set(table.columns)
    page_text = " ".join(str(v) for v in table.values.ravel())
    assert "1390000" not in page_text
    first = int(table.iloc[0]["编号"])
    at.session_state["clu_open"] = first
    at.run()
    shown = [t.value for t in at.text]
    assert len(shown) == 3 and not any("1390000" in t or "王小明" in t for t in shown)  # examples, de-identified
    next(ti for ti in at.text_input if ti.label == "命名").input("家宽夜间断网")
    next(b for b in at.button if b.label == "保存名称").click().run()
    assert not at.exception, at.exception
    with session_scope(clustered_app) as s:
        assert s.get(Cluster, first).name == "家宽夜间断网"
    next(b for b in at.button if b.label == "登记到问题台账").click().run()
    assert not at.exception, at.exception
    with session_scope(clustered_app) as s:
        problem = s.scalar(select(Problem))
        assert problem.scope_cluster_id == first and problem.title == "家宽夜间断网"
    assert at.session_state["capa_open"] == problem.id


def test_a_team_lead_reads_the_clusters_without_changing_them(clustered_app):
    from db.clusters import run

    with session_scope(clustered_app) as s:
        run(s, "boss", "manager", clock.now(), processes=1)
    at = open_page("pages/clusters.py", role="team_lead")
    assert len(at.dataframe[0].value) >= 5
    assert not [b for b in at.button if b.label in ("重新聚类", "保存名称", "合并", "拆分为两个问题", "登记到问题台账")]


def test_the_verification_page_runs_the_checks_and_records_a_dismissal(improvement):
    from db.models import VerificationItem

    assert refused_directly("pages/verification.py", "handler") and refused_directly("pages/verification.py", "inspector")
    at = open_page("pages/verification.py", role="manager")
    next(b for b in at.button if b.label == "运行核查").click().run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    # the fixture's handlers 甲 and 乙 have no accounts
    assert set(table.loc[table["核查项"] == "处理人不在人员名单中", "工单号 / 处理人"]) == {"甲", "乙"}
    at.text_area(key="verify_note").input("外包人员，名单另行维护")
    at.radio(key="verify_decision").set_value("dismissed")
    next(b for b in at.button if b.label == "保存决定").click().run()
    assert not at.exception, at.exception
    with session_scope(improvement) as s:
        decided = s.scalar(select(VerificationItem).where(VerificationItem.state == "dismissed"))
        assert decided is not None and decided.note == "外包人员，名单另行维护" and decided.decided_by == "test-manager"
    lead = open_page("pages/verification.py", role="team_lead")
    assert "你可以查看核查结果；只有管理人员可以处理。" in [i.value for i in lead.info]
    assert not [b for b in lead.button if b.label in ("运行核查", "保存决定")]
