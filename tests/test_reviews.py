"""Rejection review (7.1.2, #13 item 5): the queue, confirm or overturn, SCOPE-REJECTED fulfilled by the
review as of its time, roles allowed and refused; on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from db.importer import import_files
from db.models import Case
from db.queries import case_obligations
from db.reviews import ReviewRefused, overturned, review_queue, review_rejection, waiting_count
from db.session import session_scope
from domain import clock
from domain.roles import Forbidden
from services.commands import evaluate_flags
from tests.apptest import refused_directly, signed_in
from tests.helpers import case_row, write_csv

RECEIVED = datetime(2026, 3, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai
REVIEW_AT = RECEIVED + timedelta(days=2)


@pytest.fixture
def rejected(db_url, tmp_path):
    rows = [case_row("RJ-1", acceptance="rejected", rejection_reason="outside_service_scope",
                     rejection_informed_at="2026-03-01 12:00", handler="李娜"),
            case_row("RJ-2", acceptance="rejected", rejection_reason="past_time_limit", handler="王芳",
                     received_at="2026-03-01 10:00"),
            case_row("AC-1")]
    assert import_files(write_csv(tmp_path / "c.csv", rows), now=REVIEW_AT).ok
    return db_url


def version(s, case_no):
    return s.scalar(select(Case.version).where(Case.case_no == case_no))


def flags(case_no, now):
    _, found = evaluate_flags(None, now, case_no, "zh")
    return {f["rule_id"]: f["status"] for f in found}


def test_the_queue_lists_unreviewed_rejections_oldest_first(rejected):
    with session_scope(rejected) as s:
        assert [r["case_no"] for r in review_queue(s, REVIEW_AT)] == ["RJ-1", "RJ-2"]
        assert waiting_count(s, REVIEW_AT) == 2
        assert waiting_count(s, REVIEW_AT, teams=["no such team"]) == 0


def test_a_confirmed_review_fulfils_scope_rejected_from_its_time_on(rejected):
    with session_scope(rejected) as s:
        review_rejection(s, "RJ-1", version(s, "RJ-1"), "confirmed", "outside_service_scope", "", "lead",
                         "team_lead", REVIEW_AT)
    assert "SCOPE-REJECTED" not in flags("RJ-1", REVIEW_AT + timedelta(hours=1))
    assert flags("RJ-1", REVIEW_AT - timedelta(hours=1))["SCOPE-REJECTED"] == "review"  # replay before it
    with session_scope(rejected) as s:
        case_id = s.scalar(select(Case.id).where(Case.case_no == "RJ-1"))
        assert "SCOPE-REJECTED" not in {o["rule_id"] for o in case_obligations(s, case_id, REVIEW_AT)}
        assert [r["case_no"] for r in review_queue(s, REVIEW_AT)] == ["RJ-2"]
        assert overturned(s, RECEIVED, REVIEW_AT + timedelta(days=1)) == []


def test_an_overturned_rejection_is_kept_as_a_finding_against_the_handler(rejected):
    with session_scope(rejected) as s:
        review_rejection(s, "RJ-2", version(s, "RJ-2"), "overturned", None, "属于服务范围，应当受理", "mgr",
                         "manager", REVIEW_AT)
    with session_scope(rejected) as s:
        (row,) = overturned(s, RECEIVED, REVIEW_AT + timedelta(days=1))
        assert row["case_no"] == "RJ-2" and row["handler"] == "王芳" and row["reviewer"] == "mgr"
        from db.audit import search

        assert [e["action"] for e in search(s, key="RJ-2")][:1] == ["review_rejection"]
    assert "SCOPE-REJECTED" not in flags("RJ-2", REVIEW_AT + timedelta(hours=1))


@pytest.mark.parametrize("outcome, ground, note, reason", [
    ("confirmed", None, "", "three permitted grounds"),
    ("confirmed", "because", "", "three permitted grounds"),
    ("overturned", None, "  ", "needs a note"),
    ("maybe", None, "x", "outcome must be"),
])
def test_a_review_without_a_valid_ground_or_note_is_refused(rejected, outcome, ground, note, reason):
    with pytest.raises(ReviewRefused, match=reason):
        with session_scope(rejected) as s:
            review_rejection(s, "RJ-1", version(s, "RJ-1"), outcome, ground, note, "lead", "team_lead", REVIEW_AT)


def test_accepted_cases_a_second_review_and_a_stale_page_are_refused(rejected):
    with pytest.raises(ReviewRefused, match="only rejected cases"):
        with session_scope(rejected) as s:
            review_rejection(s, "AC-1", version(s, "AC-1"), "confirmed", "past_time_limit", "", "lead", "team_lead")
    with session_scope(rejected) as s:
        v = version(s, "RJ-1")
    with pytest.raises(ReviewRefused, match="changed after you opened it"):
        with session_scope(rejected) as s:
            review_rejection(s, "RJ-1", v - 1, "confirmed", "past_time_limit", "", "lead", "team_lead")
    with session_scope(rejected) as s:
        review_rejection(s, "RJ-1", v, "confirmed", "past_time_limit", "", "lead", "team_lead")
    with pytest.raises(ReviewRefused, match="already been reviewed"):
        with session_scope(rejected) as s:
            review_rejection(s, "RJ-1", version(s, "RJ-1"), "overturned", None, "x", "boss", "admin")


@pytest.mark.parametrize("role, allowed", [("team_lead", True), ("manager", True), ("admin", True),
                                           ("inspector", False), ("trainer", False), (None, False)])
def test_only_team_leads_managers_and_admins_may_review(rejected, role, allowed):
    def attempt():
        with session_scope(rejected) as s:
            review_rejection(s, "RJ-1", version(s, "RJ-1"), "confirmed", "outside_service_scope", "", "u", role)

    if allowed:
        attempt()
    else:
        with pytest.raises(Forbidden):
            attempt()
        with session_scope(rejected) as s:
            assert len(review_queue(s, REVIEW_AT)) == 2


@pytest.mark.parametrize("role, allowed", [("team_lead", True), ("manager", True), ("inspector", False),
                                           ("trainer", False)])
def test_the_review_page_checks_the_role(rejected, role, allowed):
    assert refused_directly("pages/reviews.py", role) is (not allowed)


def test_a_team_lead_reviews_a_case_on_the_page_and_is_told_it_was_saved(rejected):
    at = signed_in("team_lead", username="lead-r")
    at.run()
    at.switch_page("pages/reviews.py").run()
    assert not at.exception
    assert at.caption[1].value.startswith("待复核 2 件")
    at.dataframe(key="rev_table")  # the queue is shown
    at.session_state["rev_table"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception
    at.radio(key="rev_outcome").set_value("overturned")
    at.text_area(key="rev_note").input("属于服务范围")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert any("已保存 RJ" in s.value for s in at.success)
    with session_scope(rejected) as s:
        assert waiting_count(s, clock.now()) == 1
        assert len(overturned(s, RECEIVED, clock.now() + timedelta(days=1))) == 1


def test_an_overturned_rejection_shows_in_the_inspection_results(rejected):
    with session_scope(rejected) as s:
        review_rejection(s, "RJ-2", version(s, "RJ-2"), "overturned", None, "应当受理", "mgr", "manager")
    at = signed_in("manager", username="mgr-q")
    at.run()
    at.switch_page("pages/quality.py").run()
    assert not at.exception
    tables = [d.value for d in at.dataframe]
    per_handler = next(t for t in tables if "被纠正件数" in t.columns)
    assert per_handler.iloc[0].tolist() == ["王芳", 1]
