"""Stored obligations answer "what is flagged as of T" the same way a fresh evaluation does."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from db.importer import import_files
from db.models import Case, Obligation
from db.obligations import counts_by_rule, load_cases, stored_flags, thresholds
from db.seed import seed
from db.session import session_scope
from db.settings import apply_thresholds
from rules.catalogue import RULES_VERSION
from rules.evaluate import evaluate, flags
from rules.thresholds import Thresholds
from tests.helpers import contact_row, write_csv

UTC = timezone.utc
NOW = datetime(2026, 6, 30, 2, 0, tzinfo=UTC)


def fresh(url, now):
    with session_scope(url) as s:
        th = thresholds(s)
        cases = load_cases(s, received_until=now)
    return {(f.case_no, f.rule_id, f.status, f.due_at) for f in flags(evaluate(cases, now, th))}


def stored(url, now):
    with session_scope(url) as s:
        return {(d["case_no"], d["rule_id"], d["status"], d["due_at"]) for d in stored_flags(s, now)}


def test_stored_flags_equal_a_fresh_evaluation_now_and_as_time_passes(db_url):
    seed(400, 5, NOW, db_url)
    now_flags = stored(db_url, NOW)
    assert now_flags == fresh(db_url, NOW)
    statuses = {s for _c, _r, s, _d in now_flags}
    assert statuses == {"breached", "at_risk", "review"}
    later = NOW + timedelta(hours=6)  # no re-evaluation in between
    assert stored(db_url, later) == fresh(db_url, later)
    assert stored(db_url, later) != now_flags  # time alone moved some deadlines


def test_adding_a_contact_re_evaluates_that_case(db_url, tmp_path):
    seed(1000, 9, NOW, db_url)
    with session_scope(db_url) as s:
        target = s.execute(
            select(Case.case_no).join(Obligation, Obligation.case_id == Case.id)
            .where(Obligation.rule_id == "SLA-FINAL-RESULT", Obligation.state == "open",
                   Obligation.due_at >= NOW)).scalars().first()
    assert target, "the demo data should contain an open case still waiting for its final result"
    contact_time = (NOW - timedelta(minutes=5)).astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    contacts = write_csv(tmp_path / "contacts.csv", [contact_row(target, contact_time, "final")])
    report = import_files(None, contacts, now=NOW)
    assert report.ok and report.contacts_added == 1
    with session_scope(db_url) as s:
        state = s.scalar(select(Obligation.state).join(Case, Case.id == Obligation.case_id)
                         .where(Case.case_no == target, Obligation.rule_id == "SLA-FINAL-RESULT"))
    assert state == "met"
    assert stored(db_url, NOW) == fresh(db_url, NOW)


def test_changing_thresholds_re_evaluates_everything_in_one_go(db_url):
    seed(200, 3, NOW, db_url)
    with session_scope(db_url) as s:
        before = counts_by_rule(s, NOW)
    apply_thresholds(Thresholds(first_contact_hours=2), NOW, db_url)
    with session_scope(db_url) as s:
        assert thresholds(s).first_contact_hours == 2
        after = counts_by_rule(s, NOW)
        versions = set(s.scalars(select(Obligation.rules_version)))
    assert after["SLA-FIRST-CONTACT"]["breached"] > before["SLA-FIRST-CONTACT"]["breached"]
    assert versions == {f"{RULES_VERSION}/{Thresholds(first_contact_hours=2).key()}"}
    assert stored(db_url, NOW) == fresh(db_url, NOW)


def test_a_failed_bulk_re_evaluation_keeps_the_old_thresholds_and_obligations(db_url, monkeypatch):
    seed(100, 4, NOW, db_url)
    before = stored(db_url, NOW)
    import db.settings as settings

    def broken(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(settings, "reevaluate_all", broken)
    try:
        apply_thresholds(Thresholds(first_contact_hours=2), NOW, db_url)
    except RuntimeError:
        pass
    with session_scope(db_url) as s:
        assert thresholds(s) == Thresholds()
    assert stored(db_url, NOW) == before


def test_check_rules_count_the_cases_they_apply_to_and_those_that_passed(db_url):
    """Passing checks store no row; the rules page must not read "0 compliant" for them. Applicability is
    counted in SQL and must equal rules/applies.py case by case; passed = applies - breached - review, as a
    fresh evaluation gives."""
    from collections import Counter

    from rules.applies import applicable_checks
    from rules.catalogue import RULES

    seed(400, 7, NOW, db_url)
    with session_scope(db_url) as s:
        counts = counts_by_rule(s, NOW)
        cases = load_cases(s, received_until=NOW)
    applies = Counter(rule for c in cases for rule in applicable_checks(c, NOW))
    flagged = Counter(f.rule_id for f in flags(evaluate(cases, NOW, Thresholds())))
    for rule in (r for r in RULES if r.kind == "check"):
        assert counts[rule.id]["applies"] == applies[rule.id], rule.id
        assert counts[rule.id]["passed"] == applies[rule.id] - flagged[rule.id], rule.id
    assert counts["REC-DECISION"]["passed"] > 0 and counts["REC-ACCEPTANCE"]["applies"] > 300
    deadline = counts["SLA-FIRST-CONTACT"]
    assert deadline["applies"] == sum(1 for c in cases if c["acceptance"] == "accepted") and deadline["met"] > 0
