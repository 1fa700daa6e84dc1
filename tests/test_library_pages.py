"""The library, training and archive pages, and marking from the case page, in Streamlit's AppTest."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from db.library import LibraryFilters, search_library, trainings
from db.models import Case, TypicalMark
from db.session import session_scope
from tests.apptest import refused_directly, signed_in
from tests.test_library import library  # noqa: F401 - the fixture


def page(path: str, role: str = "trainer", **state):
    at = signed_in(role, **state)
    at.run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(params=["sqlite"])
def db_url(sqlite_url):  # page tests run on the embedded database (the data layer is tested on both)
    return sqlite_url


def test_library_search_highlights_opens_a_story_and_builds_a_pack(library):
    at = page("pages/library.py", lib_query="宽带断网")
    assert at.caption[0].value.startswith("共 2 个案例")
    shown = [m.value for m in at.markdown]
    assert any(":orange-background[宽带断网]" in v for v in shown)
    assert not any("王小明" in v or "13812345678" in v for v in shown)
    at.button(key="lib_add_L-2").click().run()
    at.button(key="lib_open_L-1").click().run()
    assert not at.exception, at.exception
    story = " ".join(m.value for m in at.markdown)
    assert "处理经过" in story and "聆听并记录问题" in story and "24小时内首次联系客户" in story and "王小明" not in story
    at.button(key="lib_add_open").click().run()
    at.button(key="lib_back").click().run()
    assert at.session_state["lib_pack"] == ["L-2", "L-1"]
    assert {b.label for b in at.get("download_button")} == {"导出 Word 讲义", "导出 PDF 讲义", "导出 Excel 清单"}


def test_a_trainer_records_a_training_session(library):
    at = page("pages/training.py", lib_pack=["L-1"])
    at.text_input(key="train_topic").input("宽带断网投诉处理")
    at.text_area(key="train_attendees").input("张三、李四\n王五")
    at.date_input(key="train_date").set_value(date(2026, 3, 18))
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    with session_scope(library) as s:
        (row,) = trainings(s)
    assert row["attendees"] == ["张三", "李四", "王五"] and row["case_nos"] == ["L-1"] and row["created_by"] == "test-trainer"


def test_team_lead_archives_every_case_with_complete_records(library):
    at = page("pages/archive.py", role="team_lead", app_live=False, app_as_of_date=date(2026, 3, 20))
    assert "待归档 3 件" in at.caption[1].value and "可归档 2 件" in at.caption[1].value
    at.button(key="arc_ready").click().run()
    assert at.warning[-1].value.startswith("确定要一次归档全部 2 件")  # a bulk action asks first
    at.button(key="arc_ready_yes").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("已归档 2 件")
    with session_scope(library) as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.archived_at.is_not(None))) == 2


def test_marking_a_case_typical_from_the_case_page(library):
    at = page("pages/case_detail.py", detail_case_no="L-3")
    # free text on the case page is de-identified until someone allowed to unmask does so
    assert not any("赵强" in str(v) for d in at.dataframe for v in d.value.to_numpy().ravel())
    at.text_area(key="mark_summary").input("态度类投诉：先致歉、再整改，并把当事人纳入考核。")
    at.multiselect(key="mark_kinds").set_value(["服务"])
    at.text_input(key="mark_tags").input("服务态度、营业厅")
    at.multiselect(key="mark_clauses").set_value(["6.1.2"])
    at.radio(key="mark_example").set_value("bad")
    at.form_submit_button(key="FormSubmitter:detail_mark-收入/更新案例库").click().run()
    assert not at.exception, at.exception
    with session_scope(library) as s:
        (entry,) = [e for e in search_library(s, LibraryFilters(query="态度")) if e["case_no"] == "L-3"]
        assert entry["tags"] == sorted(["服务", "服务态度", "营业厅"]) and entry["example"] == "bad"
        assert entry["marked_by"] == "test-trainer"
    at.button(key="mark_unmark").click().run()
    assert not at.exception, at.exception
    with session_scope(library) as s:
        assert s.scalar(select(func.count()).select_from(TypicalMark).where(TypicalMark.active.is_(True))) == 2


@pytest.mark.parametrize("role, path, allowed", [
    ("trainer", "pages/library.py", True), ("trainer", "pages/training.py", True),
    ("trainer", "pages/archive.py", False), ("team_lead", "pages/archive.py", True),
    ("inspector", "pages/training.py", False), ("manager", "pages/library.py", True),
])
def test_library_pages_check_the_role(library, role, path, allowed):
    assert refused_directly(path, role) is (not allowed)
