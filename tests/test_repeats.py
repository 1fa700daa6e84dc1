"""Repeat complaints (#16 item 3): the keyed hash, the window's edges, the scope, the rates and the case page's
list, on both databases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import select, text, update

from db.importer import import_files
from db.models import Case, CustomerKey, Setting
from db.repeats import RepeatPolicy, case_repeats, refresh_keys, repeat_cases, repeat_summary, save_policy
from db.session import session_scope
from domain.repeats import customer_key, mark_repeats, normalise_phone
from domain.roles import Forbidden
from tests.helpers import case_row, write_csv

UTC = timezone.utc
SECRET = b"test-secret"


def test_the_key_ignores_formatting_and_cannot_be_made_without_the_secret():
    assert normalise_phone("+86 138-1234-5678") == normalise_phone("008613812345678") == "13812345678"
    assert normalise_phone("0523-8621 2345") == "052386212345"
    assert normalise_phone("12345") is None and normalise_phone(None) is None and normalise_phone("") is None
    key = customer_key("138 1234 5678", SECRET)
    assert key == customer_key("+8613812345678", SECRET) and len(key) == 32
    assert "13812345678" not in key and key != customer_key("13812345678", b"another secret")
    assert customer_key("13812345679", SECRET) != key
    assert customer_key("n/a", SECRET) is None


def _frame(rows, clusters=None):
    return pd.DataFrame([{"case_id": i, "customer_key": k, "received_at": pd.Timestamp(at, tz="UTC"), "category": c,
                          "cluster_id": (clusters or {}).get(i)}
                         for i, (k, at, c) in enumerate(rows, start=1)])


def test_the_window_counts_exactly_thirty_days_and_not_a_second_more():
    t0 = datetime(2026, 3, 1, 9, 0)
    marked = mark_repeats(_frame([
        ("a", t0, "network"), ("a", t0 + timedelta(days=30), "network"),                       # exactly 30 days: repeat
        ("b", t0, "network"), ("b", t0 + timedelta(days=30, seconds=1), "network"),            # one second more: not
        ("c", t0, "network"), ("c", t0 + timedelta(days=3), "business"),                       # other category: not
        (None, t0, "network"), (None, t0 + timedelta(days=1), "network"),                      # no number: never
        ("d", t0, "service"), ("d", t0, "service"),                                           # same instant: the later id
    ]), window_days=30).set_index("case_id")
    assert marked.loc[2, "repeat"] and marked.loc[2, "previous_id"] == 1 and marked.loc[2, "gap_days"] == 30
    assert not marked.loc[4, "repeat"] and marked.loc[4, "previous_id"] == 3
    assert not marked.loc[6, "repeat"] and pd.isna(marked.loc[6, "previous_id"])
    assert not marked.loc[8, "repeat"] and not marked.loc[7, "repeat"]
    assert marked.loc[10, "repeat"] and not marked.loc[9, "repeat"]
    assert marked["repeat"].sum() == 2
    anything = mark_repeats(_frame([("c", t0, "network"), ("c", t0 + timedelta(days=3), "business")]), 30, "any")
    assert anything["repeat"].tolist() == [False, True]
    shorter = mark_repeats(_frame([("a", t0, "network"), ("a", t0 + timedelta(days=8), "network")]), 7)
    assert shorter["repeat"].tolist() == [False, False]
    with pytest.raises(ValueError):
        mark_repeats(_frame([("a", t0, "network")]), 0)
    # by cluster: the same customer twice in one problem cluster is a repeat, in two clusters of one category
    # it is not, and a case in no cluster is neither
    by_cluster = mark_repeats(_frame([("a", t0, "network"), ("a", t0 + timedelta(days=2), "network"),
                                      ("a", t0 + timedelta(days=3), "network"), ("a", t0 + timedelta(days=4), "network")],
                                     {1: 7, 2: 7, 3: 8}), 30, "cluster")
    assert by_cluster["repeat"].tolist() == [False, True, False, False]


def _load(tmp_path, rows):
    for r in rows:  # a promise one day after each registration
        r["promised_reply_at"] = (datetime.fromisoformat(r["received_at"]) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert import_files(write_csv(tmp_path / "c.csv", rows), now=datetime(2026, 6, 1, tzinfo=UTC)).ok


def test_repeats_are_found_in_the_database_and_charged_to_the_earlier_handler(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_CUSTOMER_KEY_SECRET", "db-test-secret")
    _load(tmp_path, [
        case_row("R1", received_at="2026-03-01 09:00", customer_phone="13900000001", handler="甲", team="一组"),
        case_row("R2", received_at="2026-03-31 09:00", customer_phone="139-0000-0001", handler="乙", team="二组"),
        case_row("R3", received_at="2026-03-31 09:00:01", customer_phone="13900000002", handler="甲", team="一组"),
        case_row("R4", received_at="2026-05-01 09:00:01", customer_phone="13900000002", handler="乙", team="二组"),
        case_row("R5", received_at="2026-03-05 10:00", customer_phone="", handler="乙", team="二组"),
    ])
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    with session_scope(db_url) as s:
        summary = repeat_summary(s, start, end)
        keys = dict(s.execute(select(Case.case_no, CustomerKey.customer_key).join(CustomerKey, CustomerKey.case_id == Case.id)).all())
        dump = " ".join(str(v) for row in s.execute(text("SELECT * FROM customer_keys")).all() for v in row)
    assert keys["R1"] == keys["R2"] and keys["R3"] == keys["R4"] and keys["R5"] is None
    assert "13900000001" not in dump and "13900000002" not in dump
    assert summary["cases"] == 4 and summary["repeats"] == 1 and summary["rate"] == 25.0
    assert summary["list"]["case_no"].tolist() == ["R2"] and summary["list"]["previous_no"].tolist() == ["R1"]
    by_handler = summary["by_handler"].set_index("handler")
    # R1 (甲) was followed by R2 within 30 days; R3 (甲) by R4 only 31 days later
    assert by_handler.loc["甲", "repeats"] == 1 and by_handler.loc["甲", "cases"] == 2 and by_handler.loc["甲", "rate"] == 50.0
    assert by_handler.loc["乙", "repeats"] == 0
    assert summary["by_team"].set_index("team").loc["一组", "repeats"] == 1
    with session_scope(db_url) as s:
        only_two = repeat_summary(s, start, end, teams=["二组"])
        r2 = s.scalar(select(Case.id).where(Case.case_no == "R2"))
        linked = case_repeats(s, r2)
    assert only_two["cases"] == 2 and only_two["repeats"] == 1
    assert [(x["case_no"], x["earlier"], x["counts"]) for x in linked] == [("R1", True, True)]


def test_an_edited_phone_or_a_new_secret_rekeys(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_CUSTOMER_KEY_SECRET", "first")
    _load(tmp_path, [case_row("K1", customer_phone="13900000001"), case_row("K2", customer_phone="13900000009",
                                                                             received_at="2026-03-02 09:00")])
    with session_scope(db_url) as s:
        assert refresh_keys(s) == 2 and refresh_keys(s) == 0  # the second read keys nothing
        first = s.scalar(select(Setting.value).where(Setting.key == "customer_key_id"))
    with session_scope(db_url) as s:
        s.execute(update(Case).where(Case.case_no == "K2").values(customer_phone="13900000001",
                                                                   updated_at=datetime(2099, 1, 1, tzinfo=UTC)))
    with session_scope(db_url) as s:
        assert refresh_keys(s) == 1
        k1, k2 = (s.scalar(select(CustomerKey.customer_key).join(Case).where(Case.case_no == n)) for n in ("K1", "K2"))
        assert k1 == k2
    monkeypatch.setenv("COMPLAINTS_CUSTOMER_KEY_SECRET", "second")
    with session_scope(db_url) as s:
        assert refresh_keys(s) == 2
        assert s.scalar(select(Setting.value).where(Setting.key == "customer_key_id")) != first
        assert s.scalar(select(CustomerKey.customer_key).join(Case).where(Case.case_no == "K1")) != k1


def test_the_policy_is_saved_by_managers_only_and_applies(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_CUSTOMER_KEY_SECRET", "p")
    _load(tmp_path, [case_row("P1", received_at="2026-03-01 09:00"),
                     case_row("P2", received_at="2026-03-10 09:00", category="business", subcategory="资费")])
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    with session_scope(db_url) as s:
        assert repeat_summary(s, start, end)["repeats"] == 0  # other category
        with pytest.raises(Forbidden):
            save_policy(s, RepeatPolicy(30, "any"), "lead", "team_lead")
        save_policy(s, RepeatPolicy(30, "any"), "boss", "manager")
    with session_scope(db_url) as s:
        assert repeat_summary(s, start, end)["repeats"] == 1
        save_policy(s, RepeatPolicy(5, "any"), "boss", "manager")
    with session_scope(db_url) as s:
        assert repeat_summary(s, start, end)["repeats"] == 0
        assert repeat_cases(s, start, end)["repeat"].sum() == 0
        with pytest.raises(ValueError):
            save_policy(s, RepeatPolicy(0, "any"), "boss", "manager")
