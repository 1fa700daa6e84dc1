"""督办 notices and handlers as users (#13 item 4): a team lead presses the handler of a case about a
deadline; the handler, signed in, sees only her own cases and notices, acknowledges and answers; the
answer shows on the case; unanswered notices past reply-by count on the board. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from db.audit import search
from db.importer import import_files
from db.models import Case, Handler
from db.notices import (NoticeRefused, acknowledge, answer, notices_for_case, notices_for_handler,
                        overdue_by_handler, send_notice)
from db.session import session_scope
from db.users import create_user
from domain import clock
from domain.roles import Forbidden
from tests.apptest import refused_directly, signed_in
from tests.helpers import case_row, write_csv

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def cases(db_url, tmp_path):
    rows = [case_row("N-1", handler="李娜", team="网络投诉一组"), case_row("N-2", handler="王芳", team="网络投诉二组")]
    assert import_files(write_csv(tmp_path / "c.csv", rows), now=NOW).ok
    with session_scope(db_url) as s:
        ids = dict(s.execute(select(Handler.name, Handler.id)).all())
    return db_url, ids


def test_a_notice_is_sent_acknowledged_answered_and_audited(cases):
    url, ids = cases
    with session_scope(url) as s:
        nid = send_notice(s, "N-1", "SLA-FINAL-RESULT", "请今天回复客户最终结果", NOW + timedelta(hours=4),
                          "lead", "team_lead", NOW)
    with session_scope(url) as s:
        (mine,) = notices_for_handler(s, ids["李娜"])
        assert mine["case_no"] == "N-1" and mine["answered_at"] is None
        assert notices_for_handler(s, ids["王芳"]) == []
        acknowledge(s, nid, "lina", "handler", ids["李娜"], NOW + timedelta(hours=1))
    with session_scope(url) as s:
        answer(s, nid, "已电话联系客户并答复处理结果", NOW + timedelta(hours=2), "lina", "handler", ids["李娜"],
               NOW + timedelta(hours=2))
    with session_scope(url) as s:
        (shown,) = notices_for_case(s, s.scalar(select(Case.id).where(Case.case_no == "N-1")))
        assert shown["answer"] == "已电话联系客户并答复处理结果" and shown["acknowledged_at"] == NOW + timedelta(hours=1)
        assert [e["action"] for e in search(s)][:3] == ["answer_notice", "acknowledge_notice", "send_notice"]


def test_a_handler_cannot_act_on_someone_elses_notice_and_answers_once(cases):
    url, ids = cases
    with session_scope(url) as s:
        nid = send_notice(s, "N-1", "SLA-FIRST-CONTACT", "尽快首次联系", NOW + timedelta(hours=2), "lead", "team_lead", NOW)
    with pytest.raises(NoticeRefused, match="not addressed to you"):
        with session_scope(url) as s:
            answer(s, nid, "冒名答复", None, "wangfang", "handler", ids["王芳"], NOW)
    with session_scope(url) as s:
        answer(s, nid, "已联系", None, "lina", "handler", ids["李娜"], NOW)
    with pytest.raises(NoticeRefused, match="already been answered"):
        with session_scope(url) as s:
            answer(s, nid, "再答一次", None, "lina", "handler", ids["李娜"], NOW)


@pytest.mark.parametrize("role, allowed", [("team_lead", True), ("admin", True), ("inspector", False),
                                           ("trainer", False), ("manager", False), ("handler", False)])
def test_only_team_leads_and_admins_send_notices(cases, role, allowed):
    url, _ids = cases

    def attempt():
        with session_scope(url) as s:
            send_notice(s, "N-1", "SLA-FINAL-RESULT", "请处理", NOW + timedelta(hours=4), "x", role, NOW)

    if allowed:
        attempt()
    else:
        with pytest.raises(Forbidden):
            attempt()


@pytest.mark.parametrize("role", ["team_lead", "inspector", "manager"])
def test_only_handlers_answer(cases, role):
    url, ids = cases
    with session_scope(url) as s:
        nid = send_notice(s, "N-1", "SLA-FINAL-RESULT", "请处理", NOW + timedelta(hours=4), "lead", "team_lead", NOW)
    with pytest.raises(Forbidden):
        with session_scope(url) as s:
            answer(s, nid, "x", None, "someone", role, ids["李娜"], NOW)


@pytest.mark.parametrize("rule, message, reply_in, reason", [
    ("REC-DECISION", "请处理", timedelta(hours=4), "not a deadline"),
    ("SLA-FINAL-RESULT", "  ", timedelta(hours=4), "needs a message"),
    ("SLA-FINAL-RESULT", "请处理", timedelta(hours=-1), "next 30 days"),
    ("SLA-FINAL-RESULT", "请处理", timedelta(days=31), "next 30 days"),
])
def test_a_notice_needs_a_deadline_a_message_and_a_sensible_reply_by(cases, rule, message, reply_in, reason):
    url, _ids = cases
    with pytest.raises(NoticeRefused, match=reason):
        with session_scope(url) as s:
            send_notice(s, "N-1", rule, message, NOW + reply_in, "lead", "team_lead", NOW)


def test_unanswered_notices_past_reply_by_count_per_handler_and_team(cases):
    url, ids = cases
    with session_scope(url) as s:
        send_notice(s, "N-1", "SLA-FINAL-RESULT", "a", NOW + timedelta(hours=1), "lead", "team_lead", NOW)
        send_notice(s, "N-1", "SLA-FIRST-CONTACT", "b", NOW + timedelta(hours=3), "lead", "team_lead", NOW)
        late = send_notice(s, "N-2", "SLA-FINAL-RESULT", "c", NOW + timedelta(hours=1), "lead", "team_lead", NOW)
    at = NOW + timedelta(hours=2)
    with session_scope(url) as s:
        assert overdue_by_handler(s, at) == {"李娜": 1, "王芳": 1}
        assert overdue_by_handler(s, at, teams=["网络投诉二组"]) == {"王芳": 1}
        answer(s, late, "done", None, "wf", "handler", ids["王芳"], at)
    with session_scope(url) as s:
        assert overdue_by_handler(s, at) == {"李娜": 1}
        assert overdue_by_handler(s, NOW + timedelta(hours=4)) == {"李娜": 2}


def test_a_handler_account_must_name_a_known_handler(cases):
    url, ids = cases
    with pytest.raises(ValueError, match="needs the handler name"):
        with session_scope(url) as s:
            create_user(s, "nobody", "某人", "handler", "long-password", actor="admin")
    with pytest.raises(ValueError, match="no handler named"):
        with session_scope(url) as s:
            create_user(s, "ghost", "某人", "handler", "long-password", actor="admin", handler="张三")
    with session_scope(url) as s:
        assert create_user(s, "lina", "李娜", "handler", "long-password", actor="admin", handler="李娜").handler_id == ids["李娜"]


def _as_handler(username: str, handler_id: int, **state):
    at = signed_in("handler", username=username, **state)
    at.session_state["auth_user"] = {**at.session_state["auth_user"], "handler_id": handler_id}
    return at


def test_a_handler_sees_her_own_cases_only_and_answers_on_her_page(cases):
    url, ids = cases
    with session_scope(url) as s:
        send_notice(s, "N-1", "SLA-FINAL-RESULT", "请今天回复", clock.now() + timedelta(hours=4),
                    "lead", "team_lead")
    at = _as_handler("lina-h", ids["李娜"])
    at.run()
    assert not at.exception
    assert at.title[0].value == "我的待办"  # a handler's landing page
    assert any("请今天回复" in t.value for t in at.text)
    at.text_area(key=[w.key for w in at.text_area][0]).input("已联系客户，明早上门")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert any("答复已提交" in s.value for s in at.success)
    with session_scope(url) as s:
        (n,) = notices_for_handler(s, ids["李娜"])
        assert n["answer"] == "已联系客户，明早上门"
    # her own case opens; a colleague's is refused
    own = _as_handler("lina-h", ids["李娜"], detail_case_no="N-1")
    own.run()
    own.switch_page("pages/case_detail.py").run()
    assert not own.exception and not own.error
    other = _as_handler("lina-h", ids["李娜"], detail_case_no="N-2")
    other.run()
    other.switch_page("pages/case_detail.py").run()
    assert [e.value for e in other.error] == ["这不是您负责的工单。"]


@pytest.mark.parametrize("role, page, allowed", [
    ("handler", "pages/mytodo.py", True), ("team_lead", "pages/mytodo.py", False),
    ("handler", "pages/board.py", False), ("handler", "pages/search.py", False), ("handler", "pages/reviews.py", False),
])
def test_the_handler_pages_check_the_role(cases, role, page, allowed):
    assert refused_directly(page, role) is (not allowed)


def test_my_to_do_lists_every_deadline_still_owed_not_only_those_near_due(cases):
    from db.board import open_deadlines

    url, ids = cases
    with session_scope(url) as s:
        rows = open_deadlines(s, NOW, ids["李娜"])
    # received 2026-03-01 09:00 with no contact: first contact and final result are both still owed
    assert {r["rule_id"] for r in rows} >= {"SLA-FIRST-CONTACT", "SLA-FINAL-RESULT"}
    assert {r["case_no"] for r in rows} == {"N-1"}


def test_the_demo_handler_has_deadlines_and_a_notice(db_url):
    from services.demo import seed_demo_notice
    from db.seed import seed
    from db.users import create_demo_accounts

    seed(300, 5, NOW, db_url)
    with session_scope(db_url) as s:
        create_demo_accounts(s)
    with session_scope(db_url) as s:
        seed_demo_notice(s, now=NOW)
    with session_scope(db_url) as s:
        from db.models import User

        handler_id = s.scalar(select(User.handler_id).where(User.username == "handler"))
        assert handler_id is not None and len(notices_for_handler(s, handler_id)) == 1
