"""End-to-end walks (#16 item 5): every step judged, shortfalls explained, findings attached to a problem,
the summary by step, sampling, roles and audit — both databases; and the page in AppTest."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from db.audit import search as audit_search
from db.importer import import_files
from db.models import ProblemCase
from db.problems import create_problem, problem_detail
from db.session import session_scope
from db.walks import WalkRefused, record_walk, sample_case, step_summary, walks
from domain.roles import Forbidden
from domain.walk import STEP_KEYS
from tests.apptest import open_page, refused_directly
from tests.helpers import case_row, write_csv

UTC = timezone.utc
NOW = datetime(2026, 4, 20, tzinfo=UTC)
GOOD = {k: "good" for k in STEP_KEYS}


@pytest.fixture
def cases(db_url, tmp_path):
    rows = [case_row("W1", received_at="2026-04-01 09:00", promised_reply_at="2026-04-02 09:00", closed_at="2026-04-03 09:00"),
            case_row("W2", received_at="2026-04-05 09:00", promised_reply_at="2026-04-06 09:00", customer_phone="13900000002")]
    assert import_files(write_csv(tmp_path / "c.csv", rows), now=NOW).ok
    return db_url


def test_a_walk_needs_every_step_and_a_note_for_each_shortfall(cases):
    with session_scope(cases) as s:
        with pytest.raises(Forbidden):
            record_walk(s, "W1", GOOD, {}, "", "lead", "team_lead", NOW)
        with pytest.raises(WalkRefused) as refused:
            record_walk(s, "W1", {k: "good" for k in STEP_KEYS[:-1]}, {}, "", "insp", "inspector", NOW)
        assert refused.value.args[0].key == "err.walk.verdict"
        poor = {**GOOD, "answer": "poor", "archive": "na"}
        with pytest.raises(WalkRefused) as refused:
            record_walk(s, "W1", poor, {"answer": "  "}, "", "insp", "inspector", NOW)
        assert refused.value.args[0].key == "err.walk.note"
        with pytest.raises(WalkRefused) as refused:
            record_walk(s, "NOPE", GOOD, {}, "", "insp", "inspector", NOW)
        assert refused.value.args[0].key == "err.walk.case"
        record_walk(s, "W1", poor, {"answer": "最终答复晚了一天，未说明原因"}, "答复环节需要加强", "insp", "inspector", NOW)
        record_walk(s, "W2", GOOD, {}, "", "insp", "inspector", NOW)
    with session_scope(cases) as s:
        listed = walks(s)
        summary = step_summary(s)
        trail = audit_search(s, action="walk_case")
    assert [w["case_no"] for w in listed] == ["W2", "W1"]
    assert listed[1]["steps"]["answer"] == ("poor", "最终答复晚了一天，未说明原因")
    assert summary["answer"]["poor"] == 1 and summary["answer"]["good"] == 1 and summary["archive"]["na"] == 1
    assert len(trail) == 2


def test_findings_attach_to_an_open_problem_and_link_the_case(cases):
    with session_scope(cases) as s:
        pid = create_problem(s, "答复不及时", "最终答复超时", "张", ["W2"], "boss", "manager", NOW)
        with pytest.raises(Forbidden):  # an inspector walks, but only a manager changes the register
            record_walk(s, "W1", {**GOOD, "answer": "poor"}, {"answer": "晚了"}, "", "insp", "inspector", NOW, pid)
        record_walk(s, "W1", {**GOOD, "answer": "poor"}, {"answer": "晚了"}, "", "boss", "manager", NOW, pid)
        linked = set(s.scalars(select(ProblemCase.case_id).where(ProblemCase.problem_id == pid)))
        assert len(linked) == 2
        assert [c["case_no"] for c in problem_detail(s, pid)["cases"]] == ["W1", "W2"]
        with pytest.raises(WalkRefused):
            record_walk(s, "W1", GOOD, {}, "", "boss", "manager", NOW, 999)


def test_a_sample_is_a_closed_case_of_the_period(cases):
    with session_scope(cases) as s:
        assert sample_case(s, NOW - timedelta(days=30), NOW, seed=1) == "W1"  # the only one closed
        assert sample_case(s, NOW - timedelta(days=3), NOW) is None


def test_the_walk_page_records_a_walk(sqlite_url, tmp_path):
    rows = [case_row("PW1", received_at="2026-04-01 09:00", promised_reply_at="2026-04-02 09:00")]
    assert import_files(write_csv(tmp_path / "c.csv", rows), now=NOW).ok
    assert refused_directly("pages/walk.py", "handler") and refused_directly("pages/walk.py", "team_lead")
    at = open_page("pages/walk.py", role="inspector")
    at.text_input(key="walk_case_no").input("PW1").run()
    assert not at.exception, at.exception
    assert any("家中信号弱" in x.value for x in at.text) and not any("王小明" in x.value for x in at.text)
    at.radio(key="walk_v_PW1_answer").set_value("poor")
    at.text_input(key="walk_n_PW1_answer").input("答复时未说明处理依据")
    next(b for b in at.button if b.label == "保存穿越记录").click().run()
    assert not at.exception, at.exception
    with session_scope(sqlite_url) as s:
        listed = walks(s)
    assert listed and listed[0]["steps"]["answer"] == ("poor", "答复时未说明处理依据")
    assert listed[0]["walker"] == "test-inspector"
    summary = at.dataframe[0].value.set_index("环节")
    assert summary.loc["联系并答复客户", "有欠缺"] == 1
