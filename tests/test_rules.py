"""Every rule of obligations.md, with cases that must flag and cases that must not, at the boundaries it
names. Each expectation is checked on the durable-rules engine and on the plain reference alike."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rules.catalogue import RULES
from rules.evaluate import evaluate
from rules.reference import reference
from rules.thresholds import DEFAULT, Thresholds

UTC = timezone.utc
T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
H = timedelta(hours=1)
M = timedelta(minutes=1)


def case(**kw):
    base = {"case_no": "C1", "received_at": T0, "acceptance": "accepted", "description": "信号弱",
            "true_reason": "覆盖不足", "customer_demand": "改善信号", "promised_reply_at": None,
            "items_confirmed": True, "contacts": []}
    base.update(kw)
    return base


def outcomes(c, now, th=DEFAULT):
    """rule_id -> outcome from the engine, after checking the reference agrees."""
    engine = {f.rule_id: f.outcome for f in evaluate([c], now, th)}
    ref = {rule: outcome for rule, (outcome, _due) in reference(c, now, th).items()}
    assert engine == ref, f"engine {engine} != reference {ref}"
    return engine


def status(c, now, rule, th=DEFAULT):
    found = [f for f in evaluate([c], now, th) if f.rule_id == rule]
    return found[0].status if found else "n/a"


# --- SLA-FIRST-CONTACT (8.3.5) ---------------------------------------------------------------------------
@pytest.mark.parametrize("contact_after, now_after, expected", [
    (24 * H, 30 * H, "met"),                      # at exactly the due minute: on time
    (24 * H + M, 30 * H, "late"),                 # one minute late
    (None, 19 * H + 59 * M, "pending"),           # before the warn window
    (None, 20 * H, "at_risk"),                    # warn window starts at due - 4 h, inclusive
    (None, 24 * H, "at_risk"),                    # ... and ends at due, inclusive
    (None, 24 * H + timedelta(seconds=1), "missed"),
])
def test_first_contact_boundaries(contact_after, now_after, expected):
    contacts = [(T0 + contact_after, "other")] if contact_after is not None else []
    assert outcomes(case(contacts=contacts), T0 + now_after)["SLA-FIRST-CONTACT"] == expected


def test_first_contact_counts_any_kind_and_only_contacts_up_to_now():
    c = case(contacts=[(T0 + 30 * H, "survey")])
    assert outcomes(c, T0 + 25 * H)["SLA-FIRST-CONTACT"] == "missed"  # the contact is in the future then
    assert outcomes(c, T0 + 31 * H)["SLA-FIRST-CONTACT"] == "late"


def test_explicit_utc_offsets_compare_as_instants():
    received = datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    contact = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 next day in Shanghai: exactly 24 h later
    c = case(received_at=received, contacts=[(contact, "first")])
    assert outcomes(c, T0 + 48 * H)["SLA-FIRST-CONTACT"] == "met"


def test_rejected_cases_get_no_handling_deadlines():
    out = outcomes(case(acceptance="rejected", rejection_reason="past_time_limit"), T0 + 100 * H)
    assert not {"SLA-FIRST-CONTACT", "SLA-FINAL-RESULT", "SLA-PROGRESS", "REC-ACCEPTANCE"} & set(out)


# --- SLA-FINAL-RESULT / SLA-PROGRESS (8.3.1, 8.3.5) --------------------------------------------------------
def test_final_result_at_48h_is_on_time_and_a_minute_later_is_late():
    assert outcomes(case(contacts=[(T0 + 48 * H, "final")]), T0 + 60 * H)["SLA-FINAL-RESULT"] == "met"
    assert outcomes(case(contacts=[(T0 + 48 * H + M, "final")]), T0 + 60 * H)["SLA-FINAL-RESULT"] == "late"


def test_only_a_final_contact_fulfils_the_final_result():
    out = outcomes(case(contacts=[(T0 + H, "first"), (T0 + 10 * H, "progress")]), T0 + 49 * H)
    assert out["SLA-FINAL-RESULT"] == "missed"


def test_long_running_declared_at_the_due_is_exempt_and_checked_for_progress():
    c = case(long_running_since=T0 + 48 * H)
    out = outcomes(c, T0 + 50 * H)
    assert "SLA-FINAL-RESULT" not in out and out["SLA-PROGRESS"] == "pending"


def test_long_running_declared_after_the_due_is_still_checked_for_the_final_result():
    c = case(long_running_since=T0 + 48 * H + M)
    out = outcomes(c, T0 + 50 * H)
    assert out["SLA-FINAL-RESULT"] == "missed" and "SLA-PROGRESS" not in out


def test_a_declaration_later_than_now_is_not_yet_seen():
    c = case(long_running_since=T0 + 10 * H)
    assert "SLA-FINAL-RESULT" in outcomes(c, T0 + 5 * H)
    assert "SLA-PROGRESS" in outcomes(c, T0 + 11 * H)


def test_progress_gaps_within_48h_are_fine_and_a_longer_gap_breaches():
    ok = case(long_running_since=T0 + 10 * H, contacts=[(T0 + 58 * H, "progress"), (T0 + 100 * H, "final")])
    assert outcomes(ok, T0 + 200 * H)["SLA-PROGRESS"] == "met"
    bad = case(long_running_since=T0 + 10 * H, contacts=[(T0 + 58 * H + M, "progress"), (T0 + 100 * H, "final")])
    assert outcomes(bad, T0 + 200 * H)["SLA-PROGRESS"] == "late"
    assert status(bad, T0 + 200 * H, "SLA-PROGRESS") == "breached"


def test_agreed_interval_overrides_the_default():
    c = case(long_running_since=T0 + 10 * H, progress_interval_hours=72, contacts=[(T0 + 80 * H, "progress")])
    assert outcomes(c, T0 + 81 * H)["SLA-PROGRESS"] == "pending"  # 70 h gap: fine under 72 h
    assert outcomes(c, T0 + 148 * H)["SLA-PROGRESS"] == "at_risk"  # due 80 + 72 = 152 h, warn from 148 h
    assert outcomes(c, T0 + 152 * H + M)["SLA-PROGRESS"] == "missed"
    short = case(long_running_since=T0 + 10 * H, progress_interval_hours=24, contacts=[(T0 + 40 * H, "progress")])
    assert outcomes(short, T0 + 41 * H)["SLA-PROGRESS"] == "late"  # 30 h gap > 24 h


def test_contacts_after_the_final_result_are_not_progress_points():
    c = case(long_running_since=T0 + 10 * H, contacts=[(T0 + 50 * H, "final"), (T0 + 200 * H, "other")])
    assert outcomes(c, T0 + 300 * H)["SLA-PROGRESS"] == "met"


# --- SLA-PROMISED-REPLY (4.1, 8.2.2, 8.2.3) ----------------------------------------------------------------
def test_promised_reply_needs_a_contact_after_receipt_and_by_the_promise():
    promised = T0 + 12 * H
    assert outcomes(case(promised_reply_at=promised, contacts=[(promised, "other")]), T0 + 20 * H)["SLA-PROMISED-REPLY"] == "met"
    assert outcomes(case(promised_reply_at=promised, contacts=[(T0, "first")]), T0 + 20 * H)["SLA-PROMISED-REPLY"] == "missed"
    late = case(promised_reply_at=promised, contacts=[(promised + M, "other")])
    assert outcomes(late, T0 + 20 * H)["SLA-PROMISED-REPLY"] == "missed"
    assert outcomes(case(promised_reply_at=promised), T0 + 8 * H)["SLA-PROMISED-REPLY"] == "at_risk"
    assert "SLA-PROMISED-REPLY" not in outcomes(case(), T0 + 8 * H)


# --- SCOPE-* (7.1.2, 4.1, 8.3.4) ---------------------------------------------------------------------------
@pytest.mark.parametrize("reason, ground_flag", [
    ("outside_business_scope", False), ("outside_service_scope", False), ("past_time_limit", False),
    (None, True), ("", True), ("   ", True),
])
def test_rejections_are_always_reviewed_and_need_a_permitted_ground(reason, ground_flag):
    out = outcomes(case(acceptance="rejected", rejection_reason=reason), T0 + H)
    assert out["SCOPE-REJECTED"] == "review"
    assert ("SCOPE-GROUND" in out) is ground_flag


def test_rejection_notice_within_24h():
    rejected = dict(acceptance="rejected", rejection_reason="past_time_limit")
    assert outcomes(case(**rejected, rejection_informed_at=T0 + 24 * H), T0 + 30 * H)["SCOPE-NOTICE"] == "met"
    assert outcomes(case(**rejected, rejection_informed_at=T0 + 24 * H + M), T0 + 30 * H)["SCOPE-NOTICE"] == "late"
    assert outcomes(case(**rejected), T0 + 21 * H)["SCOPE-NOTICE"] == "at_risk"
    assert outcomes(case(**rejected), T0 + 25 * H)["SCOPE-NOTICE"] == "missed"


# --- REC-* (8.2.1, 8.2.2, 8.3.2, 8.3.3, 8.3.6) -------------------------------------------------------------
@pytest.mark.parametrize("field, value", [
    ("description", None), ("true_reason", ""), ("customer_demand", "  "), ("promised_reply_at", None),
    ("items_confirmed", False), ("items_confirmed", None),
])
def test_acceptance_record_lists_what_is_missing(field, value):
    c = case(**{"promised_reply_at": T0 + 24 * H, field: value})
    found = [f for f in evaluate([c], T0 + H) if f.rule_id == "REC-ACCEPTANCE"]
    assert found and found[0].status == "breached" and found[0].evidence["missing"] == [field]
    assert outcomes(c, T0 + H)["REC-ACCEPTANCE"] == "breached"


def test_complete_acceptance_record_does_not_flag():
    assert "REC-ACCEPTANCE" not in outcomes(case(promised_reply_at=T0 + 24 * H), T0 + H)


def test_transfer_needs_the_four_part_record_and_a_department_solution_once_closed():
    full = dict(transferred_to="网络优化中心", event_restoration="x", existing_problem="y", solution_measures="z")
    assert "REC-TRANSFER" not in outcomes(case(**full), T0 + H)
    assert outcomes(case(**{**full, "existing_problem": None}), T0 + H)["REC-TRANSFER"] == "breached"
    assert "REC-DEPT-SOLUTION" not in outcomes(case(**full), T0 + H)  # open: not yet required
    closed = case(**full, closed_at=T0 + 40 * H, decision="d")
    assert outcomes(closed, T0 + 41 * H)["REC-DEPT-SOLUTION"] == "breached"
    assert "REC-DEPT-SOLUTION" not in outcomes(case(**full, closed_at=T0 + 40 * H, dept_solution="s"), T0 + 41 * H)


def test_closed_cases_need_a_decision():
    assert outcomes(case(closed_at=T0 + 40 * H), T0 + 41 * H)["REC-DECISION"] == "breached"
    assert "REC-DECISION" not in outcomes(case(closed_at=T0 + 40 * H, decision="退费"), T0 + 41 * H)
    assert "REC-DECISION" not in outcomes(case(closed_at=T0 + 40 * H), T0 + 39 * H)  # not closed yet then


# --- SAT-* (9.1, 9.2, 9.3) ---------------------------------------------------------------------------------
def test_survey_must_come_at_or_before_closing():
    closed = T0 + 40 * H
    assert "SAT-SURVEY" not in outcomes(case(closed_at=closed, survey_at=closed), closed + H)
    assert outcomes(case(closed_at=closed, survey_at=closed + M), closed + H)["SAT-SURVEY"] == "breached"
    assert outcomes(case(closed_at=closed), closed + H)["SAT-SURVEY"] == "breached"


def test_dissatisfied_customers_need_a_root_cause():
    assert outcomes(case(satisfaction="dissatisfied"), T0 + H)["SAT-ROOT-CAUSE"] == "breached"
    assert "SAT-ROOT-CAUSE" not in outcomes(case(satisfaction="dissatisfied", dissatisfaction_cause="慢"), T0 + H)
    assert "SAT-ROOT-CAUSE" not in outcomes(case(satisfaction="basically_satisfied"), T0 + H)


def test_alternatives_are_a_review_while_open_and_a_breach_once_closed():
    c = dict(satisfaction="dissatisfied", dissatisfaction_cause="x", demand_excessive=True)
    assert outcomes(case(**c), T0 + H)["SAT-ALTERNATIVES"] == "review"
    assert outcomes(case(**c, closed_at=T0 + 2 * H), T0 + 3 * H)["SAT-ALTERNATIVES"] == "breached"
    assert outcomes(case(**c, closed_at=T0 + 2 * H), T0 + H)["SAT-ALTERNATIVES"] == "review"
    assert "SAT-ALTERNATIVES" not in outcomes(case(**c, alternatives="赠送流量", closed_at=T0 + 2 * H), T0 + 3 * H)
    assert "SAT-ALTERNATIVES" not in outcomes(case(**{**c, "demand_excessive": False}), T0 + H)


# --- ARC-* (10.1.1, 10.1.2) --------------------------------------------------------------------------------
def test_archive_within_seven_days_of_closing():
    closed = T0 + 40 * H
    week = timedelta(days=7)
    assert outcomes(case(closed_at=closed, archived_at=closed + week), closed + 8 * week)["ARC-ARCHIVE"] == "met"
    assert outcomes(case(closed_at=closed, archived_at=closed + week + M), closed + 8 * week)["ARC-ARCHIVE"] == "late"
    assert outcomes(case(closed_at=closed), closed + week - 4 * H)["ARC-ARCHIVE"] == "at_risk"
    assert outcomes(case(closed_at=closed), closed + week + M)["ARC-ARCHIVE"] == "missed"
    assert "ARC-ARCHIVE" not in outcomes(case(), closed + week)


def test_typical_cases_need_their_summary():
    assert outcomes(case(typical=True), T0 + H)["ARC-TYPICAL"] == "breached"
    assert "ARC-TYPICAL" not in outcomes(case(typical=True, typical_summary="规律"), T0 + H)
    assert "ARC-TYPICAL" not in outcomes(case(typical=False), T0 + H)


# --- general -----------------------------------------------------------------------------------------------
def test_cases_received_after_now_are_not_evaluated():
    assert evaluate([case()], T0 - M) == []


def test_thresholds_change_the_due_times():
    th = Thresholds(first_contact_hours=12)
    assert outcomes(case(contacts=[(T0 + 13 * H, "first")]), T0 + 20 * H, th)["SLA-FIRST-CONTACT"] == "late"
    found = [f for f in evaluate([case()], T0 + H, th) if f.rule_id == "SLA-FIRST-CONTACT"]
    assert found[0].due_at == T0 + 12 * H and found[0].warn_at == T0 + 8 * H


def test_every_rule_in_the_catalogue_can_fire():
    """A guard against a rule silently dropped from the rulesets."""
    fired = set()
    c1 = case(contacts=[(T0 + 30 * H, "first")], promised_reply_at=T0 + 2 * H, long_running_since=T0 + H,
              transferred_to="d", closed_at=T0 + 60 * H, satisfaction="dissatisfied", demand_excessive=True,
              typical=True, description=None)
    c2 = case(case_no="C2", acceptance="rejected")
    c3 = case(case_no="C3")
    for f in evaluate([c1, c2, c3], T0 + 400 * H):
        fired.add(f.rule_id)
    assert fired == {r.id for r in RULES}


def _fnv1a32(text: str) -> int:
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def test_fact_ids_within_a_batch_never_share_durables_32_bit_hash():
    """durable-rules takes two facts of one session with the same FNV-1a hash of their id for one and the
    same fact (the second is then ignored: a flag would be lost). A fact's id is its position in the batch,
    the sentinel's one past the end, so these few thousand texts are all there is to check."""
    from rules.engine import BATCH

    hashes = {_fnv1a32(str(k)) for k in range(BATCH + 1)}
    assert len(hashes) == BATCH + 1


def test_a_batch_where_nothing_flags_is_accepted_and_the_engine_stays_usable():
    """Most cases raise nothing; a batch of only those must pass (durable-rules itself rejects a fact that
    matches no rule, and crashed when such a session was deleted) and leave the engine working."""
    from rules.engine import RuleEngine

    engine = RuleEngine()
    quiet = {"cl": 0, "ac": 1, "a_ds": 1, "a_tr": 1, "a_cd": 1, "a_pr": 1, "a_ic": 1, "fca": -5}
    for _ in range(1200):  # more sessions than durable-rules keeps alive at once
        assert engine.run([dict(quiet)]) == []
    assert set(engine.run([dict(quiet), dict(quiet, a_ds=0), dict(quiet, fca=1)])) == {
        (1, "REC-ACCEPTANCE", "breached"), (2, "SLA-FIRST-CONTACT", "late")}


def test_findings_across_batch_boundaries_keep_their_cases():
    """More facts than one batch: every firing is mapped back to its own case."""
    from rules.engine import BATCH

    now = T0 + 100 * H
    cases = [case(case_no=f"B{i:05d}", description=None if i % 7 == 0 else "x",
                  contacts=[(T0 + (30 if i % 5 == 0 else 1) * H, "first")]) for i in range(BATCH + 300)]
    flagged = {(f.case_no, f.rule_id) for f in evaluate(cases, now) if f.status}
    expected = {(c["case_no"], rule) for c in cases for rule, (outcome, _due) in reference(c, now).items()
                if outcome in ("late", "missed", "at_risk", "breached", "review")}
    assert flagged == expected
    assert ("B00000", "REC-ACCEPTANCE") in flagged and ("B05005", "SLA-FIRST-CONTACT") in flagged
