"""Replaying the board at a past instant equals a fresh evaluation as of that instant (#13 item 1):
at risk = not fulfilled by T and inside the warning window; overdue and owed = not fulfilled by T, past
due, on a case not closed at T. Compared at 24 instants over the demo data's history, on SQLite and
PostgreSQL, for the board's default rules and with the archive deadline chosen too."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from db import board as q
from db.models import Case
from db.obligations import load_cases, thresholds
from db.seed import seed
from db.session import session_scope
from rules.evaluate import evaluate

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)


@pytest.fixture
def history(db_url):
    seed(1000, 11, NOW, db_url)
    with session_scope(db_url) as s:
        first = s.scalar(select(func.min(Case.received_at)))
    return db_url, first


def expected(session, at: datetime, rules) -> tuple[set, set]:
    th = thresholds(session)
    cases = load_cases(session, received_until=at)
    closed = {c["case_no"] for c in cases if c["closed_at"] is not None and c["closed_at"] <= at}
    at_risk, overdue = set(), set()
    for f in evaluate(cases, at, th):
        if f.rule_id not in rules:
            continue
        if f.status == "at_risk":
            at_risk.add((f.case_no, f.rule_id))
        elif f.outcome == "missed" and (f.case_no not in closed or f.rule_id == q.ARCHIVE):
            overdue.add((f.case_no, f.rule_id))
    return at_risk, overdue


@pytest.mark.parametrize("rules", [q.BOARD_RULES, q.DEADLINE_RULES])
def test_the_replayed_board_equals_a_fresh_evaluation_at_every_instant(history, rules):
    url, first = history
    span = NOW - first
    instants = [first + span * (i + 0.5) / 24 for i in range(24)]  # spread over the whole history
    with session_scope(url) as s:  # and inside warning windows and just past due times, where it matters
        from db.models import DeadlineEpisode as E

        dues = list(s.scalars(select(E.due_at).where(E.due_at < NOW).order_by(E.id)))
    for due in dues[:: max(1, len(dues) // 12)][:12]:
        instants += [due - timedelta(hours=1), due + timedelta(hours=3)]
    f = q.BoardFilters(rules=rules)
    seen_risk = seen_over = 0
    with session_scope(url) as s:
        warn = timedelta(hours=thresholds(s).warn_hours)
        for at in instants:
            at = at.replace(microsecond=0)
            want_risk, want_over = expected(s, at, set(rules))
            rows = q.replay_act_now(s, at, f, warn, limit=100000)
            got_risk = {(r["case_no"], r["rule_id"]) for r in rows if r["due_at"] >= at}
            got_over = {(r["case_no"], r["rule_id"]) for r in rows if r["due_at"] < at}
            assert got_risk == want_risk, at
            assert got_over == want_over, at
            tiles = q.replay_tiles(s, at, f, at - timedelta(hours=10), warn)
            assert (tiles["at_risk"], tiles["overdue_open"]) == (len(want_risk), len(want_over))
            per = q.replay_by_handler(s, at, f, warn)
            assert sum(r["at_risk"] for r in per) == len(want_risk)
            assert sum(r["overdue"] for r in per) == len(want_over)
            seen_risk += len(want_risk)
            seen_over += len(want_over)
    assert seen_risk >= 5 and seen_over >= 20  # the instants do hit deadlines at risk and overdue


def test_a_deadline_fulfilled_later_is_overdue_in_the_replay_and_gone_now(db_url, tmp_path):
    from db.importer import import_files
    from tests.helpers import case_row, contact_row, write_csv

    cases = write_csv(tmp_path / "c.csv", [case_row("RP-1", received_at="2026-11-23 04:32", promised_reply_at="")])
    contacts = write_csv(tmp_path / "k.csv", [contact_row("RP-1", "2026-11-23 05:00", "first"),
                                              contact_row("RP-1", "2026-11-26 19:24", "final")])
    assert import_files(cases, contacts, now=datetime(2026, 11, 28, tzinfo=timezone.utc)).ok
    at = datetime(2026, 11, 25, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    f = q.BoardFilters()
    with session_scope(db_url) as s:
        replayed = q.replay_act_now(s, at, f, timedelta(hours=4))
        live = q.act_now(s, datetime(2026, 11, 28, tzinfo=timezone.utc), f)
    assert [(r["case_no"], r["rule_id"]) for r in replayed] == [("RP-1", "SLA-FINAL-RESULT")]
    assert live == []


def test_the_board_page_replays_a_past_instant_with_a_banner(sqlite_url, tmp_path):
    from datetime import date, time

    from db.importer import import_files
    from tests.apptest import signed_in
    from tests.helpers import case_row, contact_row, write_csv

    cases = write_csv(tmp_path / "c.csv", [case_row("RP-2", received_at="2026-11-23 04:32", promised_reply_at="")])
    contacts = write_csv(tmp_path / "k.csv", [contact_row("RP-2", "2026-11-23 05:00", "first"),
                                              contact_row("RP-2", "2026-11-26 19:24", "final")])
    assert import_files(cases, contacts).ok
    live = signed_in("team_lead")
    live.run()
    assert not live.exception
    assert not any("RP-2" in str(v) for d in live.dataframe for v in d.value.to_numpy().ravel())
    past = signed_in("team_lead", app_live=False, app_as_of_date=date(2026, 11, 25), app_as_of_time=time(10, 0))
    past.run()
    assert not past.exception
    assert any(i.value == "回放：2026-11-25 10:00 时的情况" for i in past.info)
    queue = past.dataframe[0].value
    assert list(queue["工单号"]) == ["RP-2"] and list(queue["规则"]) == ["48小时内答复最终处理结果"]
