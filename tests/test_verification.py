"""Data verification (#16 item 4): each check finds what it should and nothing else; decisions are kept
across runs, a dismissal needs a reason, everything is audited and only managers decide — both databases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import select, update

from db.audit import search as audit_search
from db.clusters import run
from db.importer import import_files
from db.models import Case, Handler, User
from db.session import session_scope
from db.verification import VerificationRefused, decide, items, run_checks
from domain.roles import Forbidden
from domain.verification import duplicates, reads_like
from tests.helpers import case_row, contact_row, write_csv
from tests.test_clusters import ROWS, _cases

UTC = timezone.utc
NOW = datetime(2026, 5, 1, tzinfo=UTC)


def test_the_pure_rules():
    assert reads_like(0.2, 0.7) and not reads_like(0.6, 0.7) and not reads_like(0.1, 0.45)
    t0 = pd.Timestamp("2026-03-01 09:00", tz="UTC")
    frame = pd.DataFrame([
        {"case_id": 1, "customer_key": "a", "category": "network", "received_at": t0, "description": "家里宽带断网。"},
        {"case_id": 2, "customer_key": "a", "category": "network", "received_at": t0 + timedelta(hours=24),
         "description": "家里 宽带断网"},  # the same text, exactly a day later: a duplicate
        {"case_id": 3, "customer_key": "a", "category": "network", "received_at": t0 + timedelta(hours=48, seconds=1),
         "description": "家里宽带断网"},  # a day and a second after the second: not
        {"case_id": 4, "customer_key": "b", "category": "network", "received_at": t0, "description": "家里宽带断网"},
        {"case_id": 5, "customer_key": "a", "category": "service", "received_at": t0, "description": "家里宽带断网"},
        {"case_id": 6, "customer_key": None, "category": "network", "received_at": t0, "description": "家里宽带断网"},
    ])
    assert duplicates(frame) == [(2, 1)]


def _load(tmp_path):
    rows = _cases(20)
    for r in rows:
        r["handler"] = "甲" if r["case_no"] != "K001" else "乙"
    extra = [
        # registered as service, written like a broadband drop
        case_row("V-CAT", received_at="2026-04-02 09:00", promised_reply_at="2026-04-03 09:00", category="service",
                 subcategory="其他", description=next(r["description"] for r in ROWS if r["label"] == "broadband_drops"),
                 true_reason="光猫老化，光功率偏低", customer_demand="要求上门检修宽带", customer_phone="13700000001", handler="甲"),
        case_row("V-EARLY", received_at="2026-04-02 10:00", promised_reply_at="2026-04-03 10:00", customer_phone="13700000002", handler="甲"),
        case_row("V-NOFINAL", received_at="2026-04-02 11:00", promised_reply_at="2026-04-03 11:00",
                 closed_at="2026-04-03 10:00", customer_phone="13700000003", handler="甲"),
        case_row("V-SAT", received_at="2026-04-02 12:00", promised_reply_at="2026-04-03 12:00", satisfaction="satisfied",
                 closed_at="2026-04-03 10:00", customer_phone="13700000004", handler="甲"),
        case_row("V-DUP1", received_at="2026-04-02 13:00", promised_reply_at="2026-04-03 13:00", description="家中信号弱，电话打不进来",
                 customer_phone="13700000005", handler="甲"),
        case_row("V-DUP2", received_at="2026-04-02 15:00", promised_reply_at="2026-04-03 15:00", description="家中信号弱，电话打不进来。",
                 customer_phone="137-0000-0005", handler="甲"),
    ]
    contacts = [contact_row("V-EARLY", "2026-04-02 10:30", "first"),
                contact_row("V-NOFINAL", "2026-04-02 12:00", "first"),
                contact_row("V-SAT", "2026-04-02 13:00", "first"), contact_row("V-SAT", "2026-04-03 09:00", "final")]
    report = import_files(write_csv(tmp_path / "c.csv", rows + extra), write_csv(tmp_path / "k.csv", contacts), now=NOW)
    assert report.ok, [str(p) for p in report.problems]


@pytest.fixture
def checked(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("COMPLAINTS_CUSTOMER_KEY_SECRET", "verify-test")
    _load(tmp_path)
    with session_scope(db_url) as s:
        handler = s.scalar(select(Handler.id).where(Handler.name == "乙"))
        s.add(User(username="yi", display_name="乙", role="handler", password_hash="!", active=True, failed_logins=0,
                   handler_id=handler))
        run(s, "boss", "manager", NOW, processes=1)
        # the importer refuses a contact before registration; data stored before that check (or written by
        # another tool) can still hold one: the case's registration moved after its first contact
        s.execute(update(Case).where(Case.case_no == "V-EARLY").values(received_at=datetime(2026, 4, 2, 3, tzinfo=UTC)))
    with session_scope(db_url) as s:
        counts = run_checks(s, "boss", "manager", NOW)
    return db_url, counts


def test_each_check_finds_its_case(checked):
    url, counts = checked
    with session_scope(url) as s:
        found = {(i["check"], i["key"]) for i in items(s)}
    assert ("contact_before_received", "V-EARLY") in found
    assert ("closed_no_final", "V-NOFINAL") in found and ("closed_no_final", "V-SAT") not in found
    assert ("satisfaction_no_survey", "V-SAT") in found
    assert ("duplicate", "V-DUP2") in found and ("duplicate", "V-DUP1") not in found
    assert ("handler_not_on_roster", "甲") in found and ("handler_not_on_roster", "乙") not in found
    assert ("category_text", "V-CAT") in found
    # the labelled cases are registered under their own category: none of them reads like another
    assert not [k for c, k in found if c == "category_text" and k.startswith("K")]
    assert counts["duplicate"] == 1 and counts["contact_before_received"] == 1 and counts["satisfaction_no_survey"] == 1


def test_decisions_are_kept_need_a_reason_to_dismiss_and_are_audited(checked):
    url, _counts = checked
    with session_scope(url) as s:
        by_key = {(i["check"], i["key"]): i["id"] for i in items(s)}
        with pytest.raises(Forbidden):
            decide(s, by_key[("duplicate", "V-DUP2")], "confirmed", "", "lead", "team_lead", NOW)
        with pytest.raises(VerificationRefused) as refused:
            decide(s, by_key[("duplicate", "V-DUP2")], "dismissed", "  ", "boss", "manager", NOW)
        assert refused.value.args[0].key == "err.verify.note"
        decide(s, by_key[("duplicate", "V-DUP2")], "dismissed", "客户确实两次来电，分别投诉", "boss", "manager", NOW)
        decide(s, by_key[("satisfaction_no_survey", "V-SAT")], "corrected", "", "boss", "manager", NOW)
        with pytest.raises(Forbidden):
            run_checks(s, "lead", "team_lead", NOW)
    with session_scope(url) as s:  # the early contact is fixed at the source and imported again
        s.execute(update(Case).where(Case.case_no == "V-EARLY").values(received_at=datetime(2026, 4, 2, 1, tzinfo=UTC)))
    with session_scope(url) as s:
        counts = run_checks(s, "boss", "manager", NOW + timedelta(days=1))
        everything = {(i["check"], i["key"]): i for i in items(s, states=())}
        trail = [e["action"] for e in audit_search(s, action="decide_verification")]
    assert everything[("duplicate", "V-DUP2")]["state"] == "dismissed"  # seen again, decision kept
    assert everything[("duplicate", "V-DUP2")]["note"] == "客户确实两次来电，分别投诉"
    assert everything[("satisfaction_no_survey", "V-SAT")]["state"] == "corrected"
    assert everything[("contact_before_received", "V-EARLY")]["state"] == "gone"
    assert counts["duplicate"] == 0 and counts["contact_before_received"] == 0
    assert len(trail) == 2
