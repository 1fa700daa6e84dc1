"""The durable-rules engine against the plain reference on generated cases: missing fields, boundary
minutes, as-of instants before and after events, one thread and several at once."""
from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.engine import RuleEngine
from rules.evaluate import evaluate
from rules.reference import reference
from rules.thresholds import Thresholds

UTC = timezone.utc
T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
# Offsets (minutes) that sit on or next to every threshold the rules use, plus ordinary values.
EDGES = [0, 1, 60, 20 * 60 - 1, 20 * 60, 24 * 60 - 1, 24 * 60, 24 * 60 + 1, 44 * 60, 48 * 60 - 1, 48 * 60,
         48 * 60 + 1, 72 * 60, 96 * 60, 7 * 24 * 60, 7 * 24 * 60 + 1, 9 * 24 * 60]
offsets = st.one_of(st.sampled_from(EDGES), st.integers(min_value=0, max_value=12 * 24 * 60))
maybe_time = st.one_of(st.none(), offsets.map(lambda m: T0 + timedelta(minutes=m)))
maybe_text = st.sampled_from([None, "", " ", "有内容"])
maybe_bool = st.sampled_from([None, True, False])


# Threshold sets: the standard's, a stricter and a looser one, and any values an admin may save (fractions of
# an hour, no warning lead, long intervals). Due times are whole seconds: the product rounds a threshold to
# the nearest second (0.29 h is 1044 s, not 1043.99…), the reference adds it exactly, so they are drawn here
# as whole seconds.
seconds_as_hours = st.integers(min_value=60, max_value=400 * 3600).map(lambda s: s / 3600)
hours = st.one_of(st.sampled_from([0.29, 0.5, 1.0, 12.0, 24.0, 48.0, 72.0]), seconds_as_hours)
thresholds = st.one_of(
    st.sampled_from([Thresholds(), Thresholds(first_contact_hours=12, final_result_hours=24, warn_hours=2),
                     Thresholds(progress_interval_hours=24, archive_days=3, warn_hours=0)]),
    st.builds(Thresholds, first_contact_hours=hours, final_result_hours=hours, progress_interval_hours=hours,
              rejection_notice_hours=hours,
              archive_days=st.integers(min_value=60, max_value=30 * 86400).map(lambda s: s / 86400),
              warn_hours=st.one_of(st.just(0.0), st.integers(min_value=0, max_value=48 * 3600).map(lambda s: s / 3600))))


@st.composite
def cases(draw, i=0):
    contacts = draw(st.lists(st.tuples(offsets.map(lambda m: T0 + timedelta(minutes=m)),
                                       st.sampled_from(["first", "progress", "final", "survey", "other"])),
                             max_size=6))
    return {
        "case_no": f"G{draw(st.integers(0, 10**9)):010d}",
        "received_at": T0,
        "acceptance": draw(st.sampled_from(["accepted", "accepted", "rejected"])),
        "contacts": contacts,
        "promised_reply_at": draw(maybe_time),
        "rejection_reason": draw(st.sampled_from([None, "", "past_time_limit", "outside_service_scope",
                                                  "outside_business_scope"])),
        "rejection_informed_at": draw(maybe_time), "reviewed_at": draw(maybe_time),
        "transferred_to": draw(maybe_text), "event_restoration": draw(maybe_text),
        "existing_problem": draw(maybe_text), "solution_measures": draw(maybe_text),
        "dept_solution": draw(maybe_text), "long_running_since": draw(maybe_time),
        "progress_interval_hours": draw(st.sampled_from([None, 12.0, 24.0, 72.0])),
        "decision": draw(maybe_text), "survey_at": draw(maybe_time),
        "satisfaction": draw(st.sampled_from([None, "satisfied", "basically_satisfied", "dissatisfied"])),
        "dissatisfaction_cause": draw(maybe_text), "demand_excessive": draw(maybe_bool),
        "alternatives": draw(maybe_text), "closed_at": draw(maybe_time), "archived_at": draw(maybe_time),
        "typical": draw(maybe_bool), "typical_summary": draw(maybe_text), "description": draw(maybe_text),
        "true_reason": draw(maybe_text), "customer_demand": draw(maybe_text), "items_confirmed": draw(maybe_bool),
    }


def engine_view(findings):
    return {(f.case_no, f.rule_id): (f.outcome, f.due_at) for f in findings}


def reference_view(batch, now, th):
    out = {}
    for c in batch:
        for rule, (outcome, due) in reference(c, now, th).items():
            out[(c["case_no"], rule)] = (outcome, due)
    return out


def unique(batch):
    for i, c in enumerate(batch):
        c["case_no"] = f"G{i:05d}"
    return batch


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(cases(), min_size=1, max_size=40), now_min=offsets, th=thresholds)
def test_engine_matches_reference_on_generated_cases(batch, now_min, th):
    batch = unique(batch)
    now = T0 + timedelta(minutes=now_min)
    assert engine_view(evaluate(batch, now, th)) == reference_view(batch, now, th)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(cases(), min_size=1, max_size=25), received=st.lists(offsets, min_size=25, max_size=25),
       now_min=st.integers(min_value=-3 * 24 * 60, max_value=12 * 24 * 60), th=thresholds)
def test_engine_matches_reference_as_of_past_instants(batch, received, now_min, th):
    """Cases received at different times, evaluated as of instants before, between and after their
    events (and before some were received at all)."""
    batch = unique(batch)
    for c, minutes in zip(batch, received):
        c["received_at"] = T0 + timedelta(minutes=minutes)
    now = T0 + timedelta(minutes=now_min)
    assert engine_view(evaluate(batch, now, th)) == reference_view(batch, now, th)


def random_cases(n, seed):
    """Plain random generation for large batches (hypothesis is for shrinking, this is for volume)."""
    r = random.Random(seed)

    def t():
        return None if r.random() < 0.3 else T0 + timedelta(minutes=r.choice(EDGES) if r.random() < 0.5 else r.randint(0, 17280))

    def txt():
        return r.choice([None, "", "x", "x"])

    out = []
    for i in range(n):
        out.append({
            "case_no": f"R{seed}-{i:06d}", "received_at": T0, "acceptance": r.choice(["accepted"] * 4 + ["rejected"]),
            "contacts": [(T0 + timedelta(minutes=r.randint(0, 17280)), r.choice(["first", "progress", "final", "other"]))
                         for _ in range(r.randint(0, 5))],
            "promised_reply_at": t(), "rejection_reason": r.choice([None, "past_time_limit"]),
            "rejection_informed_at": t(), "transferred_to": txt(), "event_restoration": txt(),
            "existing_problem": txt(), "solution_measures": txt(), "dept_solution": txt(),
            "long_running_since": t(), "progress_interval_hours": r.choice([None, 24.0, 72.0]), "decision": txt(),
            "survey_at": t(), "satisfaction": r.choice([None, "dissatisfied", "satisfied"]),
            "dissatisfaction_cause": txt(), "demand_excessive": r.choice([None, True, False]),
            "alternatives": txt(), "closed_at": t(), "archived_at": t(), "typical": r.choice([None, True]),
            "typical_summary": txt(), "description": txt(), "true_reason": txt(), "customer_demand": txt(),
            "items_confirmed": r.choice([None, True, False]),
        })
    return out


def test_engine_matches_reference_on_five_thousand_cases_in_one_call():
    batch = random_cases(5000, 11)
    now = T0 + timedelta(days=5)
    engine = engine_view(evaluate(batch, now))
    assert len(engine) > 20000
    assert engine == reference_view(batch, now, Thresholds())


def test_engine_matches_reference_on_many_cases_at_many_instants_and_thresholds():
    """Volume: 30,000 cases with their own receipt times, at instants from before receipt to long after,
    under the threshold sets below (every threshold moved)."""
    sets = [Thresholds(), Thresholds(first_contact_hours=1.5, final_result_hours=30, progress_interval_hours=6,
                                     rejection_notice_hours=2, archive_days=0.5, warn_hours=0),
            Thresholds(first_contact_hours=72, final_result_hours=200, progress_interval_hours=100,
                       rejection_notice_hours=48, archive_days=20, warn_hours=24)]
    r = random.Random(5)
    for k in range(6):
        batch = random_cases(5000, 100 + k)
        for c in batch:
            c["received_at"] = T0 + timedelta(minutes=r.choice(EDGES) if r.random() < 0.5 else r.randint(0, 9000))
        now = T0 + timedelta(minutes=r.choice([-60, 0, 24 * 60, 48 * 60 + 1, 5 * 24 * 60, 20 * 24 * 60]))
        th = sets[k % len(sets)]
        assert engine_view(evaluate(batch, now, th)) == reference_view(batch, now, th)


def test_engine_is_correct_with_four_threads_sharing_it():
    shared = RuleEngine()
    batches = [random_cases(1500, seed) for seed in range(4)]
    small = [random_cases(3, 50 + seed) for seed in range(4)]  # the one-case path, interleaved
    now = T0 + timedelta(days=3)
    results, errors = {}, []

    def run(k):
        try:
            for _ in range(3):  # several rounds so the threads really overlap
                results[k] = engine_view(evaluate(batches[k], now, engine=shared))
                for c in small[k]:
                    assert engine_view(evaluate([c], now, engine=shared)) == reference_view([c], now, Thresholds())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k in range(4):
        assert results[k] == reference_view(batches[k], now, Thresholds())


def test_parallel_evaluation_gives_the_same_findings():
    from rules.evaluate import evaluate_parallel

    batch = random_cases(4000, 21)
    now = T0 + timedelta(days=4)

    def key(f):
        return (f.case_no, f.rule_id, f.outcome, f.due_at, f.warn_at, f.fulfilled_at, f.evidence)

    single = [key(f) for f in evaluate(batch, now)]
    assert [key(f) for f in evaluate_parallel(batch, now, workers=2, chunk=700)] == single


def test_evaluating_in_slices_changes_nothing(monkeypatch):
    """Large evaluations build and run their facts a slice of cases at a time (memory); the outcomes,
    evidence and episodes must be those of one slice."""
    import rules.evaluate as ev

    batch = random_cases(3000, 31)
    now = T0 + timedelta(days=4)
    whole = ev.evaluate_outcomes(batch, now, with_spans=True)
    monkeypatch.setattr(ev, "SLICE", 700)
    sliced = ev.evaluate_outcomes(batch, now, with_spans=True)
    for name in ev.Outcomes.COLUMNS:
        assert list(getattr(sliced, name)) == list(getattr(whole, name))
    assert sliced.evidence == whole.evidence and len(whole.evidence) > 50
    assert list(sliced.spans.due) == list(whole.spans.due) and list(sliced.spans.pos) == list(whole.spans.pos)
    assert engine_view(sliced.findings(batch)) == reference_view(batch, now, Thresholds())
