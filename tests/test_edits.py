"""Recording a contact in the app: one transaction with its audit row and re-evaluation, and a second
writer working from an outdated page is refused (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from db.audit import search
from db.edits import EditRefused, StaleEdit, add_contact
from db.importer import import_files
from db.models import Case, Contact, Obligation
from db.session import session_scope
from domain import clock
from tests.apptest import signed_in
from tests.helpers import case_row, write_csv

SH = timezone(timedelta(hours=8))


@pytest.fixture
def one_case(db_url, tmp_path):
    received = clock.now().astimezone(SH) - timedelta(hours=3)  # the contacts below lie 20-30 minutes ago
    rows = [case_row("E-1", received_at=received.strftime("%Y-%m-%d %H:%M:%S"), promised_reply_at="")]
    assert import_files(write_csv(tmp_path / "cases.csv", rows)).ok
    return db_url


def version(url):
    with session_scope(url) as s:
        return s.scalar(select(Case.version).where(Case.case_no == "E-1"))


def test_a_recorded_contact_is_stored_audited_and_re_evaluated(one_case):
    at = clock.now() - timedelta(minutes=10)
    with session_scope(one_case) as s:
        add_contact(s, "E-1", version(one_case), at, "first", "phone", "已致电", actor="lead")
    with session_scope(one_case) as s:
        state = s.scalar(select(Obligation.state).join(Case, Case.id == Obligation.case_id)
                         .where(Case.case_no == "E-1", Obligation.rule_id == "SLA-FIRST-CONTACT"))
        assert state == "met"
        assert [e["actor"] for e in search(s, action="add_contact")] == ["lead"]
    assert version(one_case) == 2


def test_a_second_writer_with_an_outdated_version_is_refused_and_nothing_is_written(one_case):
    loaded = version(one_case)
    at = clock.now() - timedelta(minutes=10)
    with session_scope(one_case) as s:
        add_contact(s, "E-1", loaded, at, "first", "phone", None, actor="lead-a")
    with pytest.raises(StaleEdit, match="changed by someone else"):
        with session_scope(one_case) as s:
            add_contact(s, "E-1", loaded, at + timedelta(minutes=1), "progress", "sms", None, actor="lead-b")
    with session_scope(one_case) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 1
        assert [e["actor"] for e in search(s, action="add_contact")] == ["lead-a"]


@pytest.mark.parametrize("delta, message", [(timedelta(hours=-5), "before the case was received"),
                                            (timedelta(hours=2), "in the future")])
def test_impossible_contact_times_are_refused(one_case, delta, message):
    with pytest.raises(EditRefused, match=message), session_scope(one_case) as s:
        add_contact(s, "E-1", version(one_case), clock.now() + delta, "first", "phone", None, "x")


def test_the_case_page_records_a_contact_and_tells_a_stale_second_writer(one_case):
    at = signed_in("team_lead", detail_case_no="E-1")
    at.run()
    at.switch_page("pages/case_detail.py").run()
    assert not at.exception, at.exception
    other = signed_in("team_lead", detail_case_no="E-1")  # a colleague with the same case open
    other.run()
    other.switch_page("pages/case_detail.py").run()
    first = (clock.now().astimezone(SH) - timedelta(minutes=30)).replace(second=0, microsecond=0)
    at.selectbox(key="edit_kind").set_value("first")
    at.date_input(key="edit_date").set_value(first.date())
    at.time_input(key="edit_time").set_value(first.time())
    at.form_submit_button(key="FormSubmitter:detail_add_contact-保存联系记录").click().run()
    assert not at.exception, at.exception
    later = first + timedelta(minutes=10)
    other.selectbox(key="edit_kind").set_value("progress")
    other.date_input(key="edit_date").set_value(later.date())
    other.time_input(key="edit_time").set_value(later.time())
    other.form_submit_button(key="FormSubmitter:detail_add_contact-保存联系记录").click().run()
    assert not other.exception, other.exception
    assert any("已被他人修改" in e.value for e in other.error)  # told in the reader's language
    with session_scope(one_case) as s:
        assert list(s.scalars(select(Contact.kind))) == ["first"]


def test_inspectors_cannot_record_contacts(one_case):
    at = signed_in("inspector", detail_case_no="E-1")
    at.run()
    at.switch_page("pages/case_detail.py").run()
    assert not at.exception, at.exception
    assert not [f for f in at.get("form") if getattr(f, "id", "") == "detail_add_contact"]
    assert not [b for b in at.get("form_submit_button") if b.form_id == "detail_add_contact"]
    assert [b.form_id for b in at.get("form_submit_button")] == ["detail_mark"]  # inspectors may mark typical cases


def test_the_case_page_shows_free_text_whole_as_text_not_in_grid_cells(db_url, tmp_path):
    long_text = "客户反映家中宽带自本月初起每晚八点后频繁断线，" * 8 + "要求彻底排查并减免当月费用。"
    received = clock.now().astimezone(SH) - timedelta(hours=3)
    rows = [case_row("E-2", received_at=received.strftime("%Y-%m-%d %H:%M:%S"), description=long_text,
                     decision="上门更换光猫并减免半月费用。", promised_reply_at="")]
    assert import_files(write_csv(tmp_path / "cases.csv", rows)).ok
    at = signed_in("team_lead", detail_case_no="E-2")
    at.run()
    at.switch_page("pages/case_detail.py").run()
    assert not at.exception, at.exception
    texts = [m.value.replace("\\", "") for m in at.markdown]
    assert long_text in texts and "上门更换光猫并减免半月费用。" in texts  # whole, as wrapping text
    grids = " ".join(d.value.to_string() for d in at.dataframe)
    assert "每晚八点后" not in grids  # and not cut off in a grid cell
    assert "投诉内容" in [c.value for c in at.caption]
