"""Quality inspection (6.3): sampling, scorecards, scoring, concurrency, results and calibration."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import func, select

from db.audit import search
from db.inspection import (Population, StaleAssessment, AssessmentRefused, assessment_rows, assignments,
                           calibration_rows, create_plan, ensure_default_scorecard, item_rows, load_item, plans,
                           population, redraw, save_assessment, save_scorecard)
from db.models import Assessment, SampleItem
from db.queries import case_obligations, case_record
from domain import clock
from rules.applies import applicable_checks
from rules.catalogue import BY_ID
from db.seed import seed
from db.calibration import close_session, sessions
from db.session import session_scope
from domain.quality import agreement, by_group, cohen_kappa, disagreements, pareto
from domain.sampling import Method, SampleInvalid, allocate, assign, draw
from domain.scorecard import (DEFAULT_ITEMS, ScorecardInvalid, engine_verdict, form_items, overrides, score,
                                validate_items)

NOW = clock.now()
YEAR = Population(start=NOW - timedelta(days=400), end=NOW + timedelta(days=1))


def frame(n: int, flagged_every: int = 10, handlers: int = 4) -> pd.DataFrame:
    return pd.DataFrame({"case_id": range(1, n + 1), "case_no": [f"C{i}" for i in range(1, n + 1)],
                         "team": [f"T{i % 3}" for i in range(n)], "handler": [f"H{i % handlers}" for i in range(n)],
                         "category": ["network"] * n, "channel": ["phone"] * n,
                         "month": ["2026-10" if i % 2 else "2026-11" for i in range(n)],
                         "flagged": [i % flagged_every == 0 for i in range(n)]})


# ---------------------------------------------------------------- sampling

def test_the_same_seed_draws_the_same_sample_and_another_seed_another():
    pop = frame(500)
    a = draw(pop, Method("random", size=40), 7)
    b = draw(pop.sample(frac=1, random_state=3), Method("random", size=40), 7)  # row order does not matter
    c = draw(pop, Method("random", size=40), 8)
    assert len(a) == 40 and a["case_id"].tolist() == b["case_id"].tolist()
    assert a["case_id"].tolist() != c["case_id"].tolist()
    assert a["case_id"].is_unique


def test_percent_size_and_bad_sizes():
    assert len(draw(frame(200), Method("random", percent=5), 1)) == 10
    with pytest.raises(SampleInvalid, match="size or a percent"):
        draw(frame(10), Method("random"), 1)
    with pytest.raises(SampleInvalid, match="percent must be"):
        draw(frame(10), Method("random", percent=150), 1)


def test_proportional_allocation_with_a_minimum_per_stratum():
    # 20 over 80/15/5: quotas 16, 3, 1; the small stratum is raised to the minimum of 2.
    assert allocate({"a": 80, "b": 15, "c": 5}, 20, 2) == {"a": 16, "b": 3, "c": 2}
    # a stratum smaller than the minimum is taken whole (quotas 9.89 and 0.11: the remainder goes to a)
    assert allocate({"a": 90, "b": 1}, 10, 3) == {"a": 10, "b": 1}
    # largest remainder: 10 over 3 equal strata gives 4/3/3, ties broken by name
    assert allocate({"x": 5, "y": 5, "z": 5}, 10, 0) == {"x": 4, "y": 3, "z": 3}


def test_stratified_sample_keeps_every_stratum_minimum():
    pop = frame(300)
    pop.loc[pop["case_id"] <= 3, "team"] = "Tiny"
    sample = draw(pop, Method("stratified", size=30, strata=["team"], minimum=2), 5)
    counts = sample["team"].value_counts()
    assert counts["Tiny"] == 2 and set(counts.index) == {"T0", "T1", "T2", "Tiny"}
    assert (sample["stratum"] == sample["team"]).all()


def test_a_sample_larger_or_smaller_than_asked_says_why():
    from domain.i18n import t
    from domain.sampling import size_note

    pop = frame(300)
    pop.loc[pop["case_id"] <= 3, "team"] = "Tiny"
    m = Method("stratified", size=10, strata=["team"], minimum=2)
    sample = draw(pop, m, 5)
    key, values = size_note(len(pop), m, len(sample))
    assert key == "qa.size.minimum" and values["asked"] == 10 and values["drawn"] == len(sample) > 10
    assert f"实际抽取 {len(sample)} 件" in t(key, "zh", **values) and f"{len(sample) - 10}" in t(key, "en", **values)
    small = Method("random", size=500)
    key, values = size_note(len(pop), small, len(draw(pop, small, 5)))
    assert key == "qa.size.population_smaller" and "只有 300 件" in t(key, "zh", **values)
    assert size_note(len(pop), Method("random", size=20), 20) is None
    assert size_note(len(pop), Method("quota", per_handler=5), 70) is None  # no single size was asked for


def test_quota_takes_k_per_handler_and_month_or_all_when_fewer():
    pop = frame(60, handlers=3)
    pop = pd.concat([pop, pd.DataFrame([{"case_id": 999, "case_no": "C999", "team": "T0", "handler": "Solo",
                                         "category": "network", "channel": "phone", "month": "2026-11",
                                         "flagged": False}])])
    sample = draw(pop, Method("quota", per_handler=4), 2)
    per = sample.groupby(["handler", "month"]).size()
    assert per[("Solo", "2026-11")] == 1
    assert all(per[(h, m)] == 4 for h in ("H0", "H1", "H2") for m in ("2026-10", "2026-11"))


def test_risk_weights_raise_the_share_of_flagged_cases():
    pop = frame(2000, flagged_every=10)  # 10 % flagged
    plain = [draw(pop, Method("risk", size=200, weight=1), s)["flagged"].mean() for s in range(5)]
    weighted = [draw(pop, Method("risk", size=200, weight=5), s)["flagged"].mean() for s in range(5)]
    assert 0.05 < sum(plain) / 5 < 0.15
    assert sum(weighted) / 5 > 0.3  # about 5 × 10 % / (1 + 4 × 10 %) ≈ 36 %
    with pytest.raises(SampleInvalid, match="weight"):
        draw(pop, Method("risk", size=10, weight=0.5), 1)


def test_assignment_is_even_and_calibration_goes_to_everyone():
    sample = draw(frame(30), Method("random", size=10), 1)
    pairs = assign(sample, ["b", "a", "c"], 1)
    per = pd.Series([who for _, who in pairs]).value_counts()
    assert sorted(per.tolist()) == [3, 3, 4]
    assert sorted(cid for cid, _ in pairs) == sorted(sample["case_id"])
    assert len(assign(sample, ["a", "b"], 1, calibration=True)) == 20


# ---------------------------------------------------------------- scorecards and scoring

ITEMS = [
    {"key": "a", "clause": "8.2.1", "title_zh": "甲", "title_en": "A", "weight": 30, "critical": False, "rules": [], "fields": []},
    {"key": "b", "clause": "8.3.5", "title_zh": "乙", "title_en": "B", "weight": 50, "critical": True, "rules": [], "fields": []},
    {"key": "c", "clause": "9.1", "title_zh": "丙", "title_en": "C", "weight": 20, "critical": False, "rules": [], "fields": []},
]


def test_score_is_the_weighted_share_of_applicable_items():
    assert score(ITEMS, {"a": "pass", "b": "pass", "c": "pass"}, 80).score == 100
    r = score(ITEMS, {"a": "fail", "b": "pass", "c": "pass"}, 80)
    assert r.score == 70 and not r.passed and not r.critical_failed
    r = score(ITEMS, {"a": "pass", "b": "pass", "c": "na"}, 80)  # 80 of 80 applicable
    assert r.score == 100 and r.passed
    assert score(ITEMS, {"a": "na", "b": "na", "c": "na"}, 80).score is None


def test_a_failed_critical_item_fails_the_case_with_zero():
    r = score(ITEMS, {"a": "pass", "b": "fail", "c": "pass"}, 10)
    assert r.score == 0 and r.critical_failed and not r.passed


def test_an_override_of_the_engine_needs_a_reason():
    engine = {"a": "pass", "b": None, "c": "fail"}
    assert overrides(ITEMS, {"a": "fail", "b": "pass", "c": "fail"}, engine, {}) == ["a"]
    assert overrides(ITEMS, {"a": "fail", "b": "pass", "c": "fail"}, engine, {"a": "录音显示未问原因"}) == []
    assert overrides(ITEMS, {"a": "pass", "b": "fail", "c": "fail"}, engine, {}) == []  # b: engine had no verdict


def ob(rule_id, state, status=None, missing=None):
    return {"rule_id": rule_id, "clause": "x", "state": state, "status": status, "due_at": None, "warn_at": None,
            "fulfilled_at": None, "outcome": "breached" if status == "breached" else "met",
            "evidence": {"missing": missing} if missing else {}}


def test_engine_verdicts_from_stored_obligations():
    items = {i["key"]: i for i in DEFAULT_ITEMS}
    say = lambda o: o["rule_id"]  # noqa: E731
    missing_promise = [ob("REC-ACCEPTANCE", "breached", "breached", ["promised_reply_at"])]
    # the acceptance rule failed only on the promise: 8.2.2 fails, 8.2.1 (reason and demand) passes
    assert engine_verdict(items["confirm_promise"], missing_promise, say).verdict == "fail"
    assert engine_verdict(items["reason_demand"], missing_promise, say).verdict == "pass"
    assert engine_verdict(items["timeliness"], [ob("SLA-FIRST-CONTACT", "met"), ob("SLA-FINAL-RESULT", "met")],
                          say).verdict == "pass"
    assert engine_verdict(items["timeliness"], [ob("SLA-FIRST-CONTACT", "met"),
                                                ob("SLA-FINAL-RESULT", "breached", "breached")], say).verdict == "fail"
    # a review leaves it to the inspector; a rule that does not apply says nothing
    assert engine_verdict(items["rejection"], [ob("SCOPE-REJECTED", "review", "review")], say).verdict is None
    assert engine_verdict(items["transfer_record"], [], say).verdict == "na"
    # a check rule that applies but stored nothing has passed (only breaches and reviews are stored)
    assert engine_verdict(items["decision"], [], say, {"REC-DECISION"}).verdict == "pass"
    assert engine_verdict(items["decision"], [ob("REC-DECISION", "breached", "breached")], say,
                          {"REC-DECISION"}).verdict == "fail"
    assert engine_verdict(items["communication"], [], say).verdict is None
    rows = form_items(DEFAULT_ITEMS, missing_promise, {"communication": {"verdict": "fail", "comment": "语气生硬"}}, say)
    by = {r["key"]: r for r in rows}
    assert by["confirm_promise"]["initial"] == "fail" and by["confirm_promise"]["evidence"] == "REC-ACCEPTANCE: REC-ACCEPTANCE"
    assert by["communication"]["initial"] == "fail" and by["communication"]["comment"] == "语气生硬"


def test_edited_scorecards_are_checked_row_by_row():
    assert validate_items(DEFAULT_ITEMS, BY_ID)[0]["key"] == "reason_demand"
    with pytest.raises(ScorecardInvalid, match="row 2: field weight"):
        validate_items([DEFAULT_ITEMS[0], {**DEFAULT_ITEMS[1], "weight": "heavy"}], BY_ID)
    with pytest.raises(ScorecardInvalid, match="unknown rule SLA-NOPE"):
        validate_items([{**DEFAULT_ITEMS[0], "rules": "REC-ACCEPTANCE, SLA-NOPE"}], BY_ID)
    with pytest.raises(ScorecardInvalid, match="used twice"):
        validate_items([DEFAULT_ITEMS[0], DEFAULT_ITEMS[0]], BY_ID)


# ---------------------------------------------------------------- agreement and results

def test_cohen_kappa_on_a_hand_worked_example():
    # 50 cases: both pass 20, A pass/B fail 5, A fail/B pass 10, both fail 15.
    # p_o = 35/50 = 0.7; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; kappa = (0.7 − 0.5) / (1 − 0.5) = 0.4
    a = ["pass"] * 20 + ["pass"] * 5 + ["fail"] * 10 + ["fail"] * 15
    b = ["pass"] * 20 + ["fail"] * 5 + ["pass"] * 10 + ["fail"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(["pass"] * 4, ["pass"] * 4) is None  # undefined: no variation at all
    assert cohen_kappa(["pass", "fail"], ["fail", "pass"]) == pytest.approx(-1.0)


def test_agreement_and_disagreements_per_item():
    cal = pd.DataFrame([
        {"case_no": f"K{i}", "inspector": who, "item_key": "a", "clause": "8.2.1", "verdict": v}
        for i, (x, y) in enumerate([("pass", "pass"), ("pass", "fail"), ("fail", "fail"), ("fail", "fail")])
        for who, v in (("li", x), ("wang", y))])
    rep = agreement(cal)
    assert rep.loc[0, "pair"] == "li × wang" and rep.loc[0, "cases"] == 4 and rep.loc[0, "agreement"] == 75.0
    # p_o 0.75; li pass .5, wang pass .25: p_e = .5·.25 + .5·.75 = .5; kappa = .5
    assert rep.loc[0, "kappa"] == pytest.approx(0.5)
    diff = disagreements(cal)
    assert diff["case_no"].tolist() == ["K1"] and diff.loc[0, "li"] == "pass" and diff.loc[0, "wang"] == "fail"


def test_results_per_handler_and_pareto():
    assessed = pd.DataFrame([
        {"id": 1, "handler": "李娜", "team": "一组", "month": "2026-10", "score": 90.0, "passed": True},
        {"id": 2, "handler": "李娜", "team": "一组", "month": "2026-10", "score": 60.0, "passed": False},
        {"id": 3, "handler": "张伟", "team": "二组", "month": "2026-11", "score": 0.0, "passed": False}])
    items = pd.DataFrame([
        {"assessment_id": 2, "item_key": "timeliness", "clause": "8.3.5", "verdict": "fail"},
        {"assessment_id": 3, "item_key": "timeliness", "clause": "8.3.5", "verdict": "fail"},
        {"assessment_id": 3, "item_key": "survey", "clause": "9.1", "verdict": "fail"},
        {"assessment_id": 1, "item_key": "survey", "clause": "9.1", "verdict": "pass"}])
    h = by_group(assessed, items, "handler", titles={"timeliness": "时效"})
    li = h[h["handler"] == "李娜"].iloc[0]
    assert li["assessed"] == 2 and li["mean_score"] == 75.0 and li["pass_rate"] == 50.0 and li["top_failed"] == "时效 ×1"
    p = pareto(items)
    assert p["item_key"].tolist() == ["timeliness", "survey"] and p["cumulative"].tolist() == [66.7, 100.0]


# ---------------------------------------------------------------- stored plans and assessments

@pytest.fixture
def seeded(db_url):
    seed(250, 3, NOW, db_url)
    with session_scope(db_url) as s:
        card = ensure_default_scorecard(s)
    return db_url, card


def draw_plan(url, card, purpose="regular", inspectors=("insp-a", "insp-b"), method=None, pop=YEAR, seed_value=11):
    with session_scope(url) as s:
        return create_plan(s, "十一月抽检", purpose, method or Method("random", size=12), pop, seed_value,
                           list(inspectors), card, "insp-a", NOW)


def first_item(url, card) -> int:
    """Draw the standard test plan and return its first sample item's id."""
    plan_id, _ = draw_plan(url, card)
    with session_scope(url) as s:
        return assignments(s, plan_id=plan_id)[0]["id"]


def verdicts_for(url, item_id, now=NOW):
    """The engine's pre-filled verdicts, the inspector judging the undecided items as passed."""
    from services.views import flag_detail

    with session_scope(url) as s:
        item = load_item(s, item_id)
        obligations = case_obligations(s, item["case_id"], now)
        record = case_record(s, item["case_no"])
    rows = form_items(item["scorecard"]["items"], obligations, None, lambda o: flag_detail(o, now), "zh",
                      applicable_checks(record, now))
    engine = {r["key"]: r["engine"] for r in rows}
    return item, {k: v or "pass" for k, v in engine.items()}, engine


def test_a_plan_is_stored_with_its_seed_and_can_be_drawn_again(seeded):
    url, card = seeded
    plan_id, n = draw_plan(url, card)
    assert n == 12
    with session_scope(url) as s:
        again, same = redraw(s, plan_id)
        stored = assignments(s, plan_id=plan_id)
        assert same and sorted(again["case_no"]) == sorted(r["case_no"] for r in stored)
        assert {r["assignee"] for r in stored} == {"insp-a", "insp-b"}
        assert plans(s)[0]["population"] > 12
        assert search(s, action="draw_sample")[0]["key"] == str(plan_id)


def test_assessed_cases_are_left_out_of_later_samples_unless_asked(seeded):
    url, card = seeded
    plan_id, _ = draw_plan(url, card)
    with session_scope(url) as s:
        first = assignments(s, plan_id=plan_id)[0]
    item, verdicts, engine = verdicts_for(url, first["id"])
    with session_scope(url) as s:
        save_assessment(s, first["id"], 0, verdicts, engine, {}, {}, {}, "", "insp-a", NOW)
    later = NOW + timedelta(minutes=1)
    with session_scope(url) as s:
        assert item["case_id"] not in population(s, YEAR, later)["case_id"].tolist()
        assert item["case_id"] in population(s, Population(**{**YEAR.__dict__, "include_assessed": True}),
                                             later)["case_id"].tolist()


def test_population_filters_flags_and_closed_by_default(seeded):
    url, _card = seeded
    with session_scope(url) as s:
        closed = population(s, YEAR, NOW)
        flagged = population(s, Population(**{**YEAR.__dict__, "flags": "with"}), NOW)
        clean = population(s, Population(**{**YEAR.__dict__, "flags": "without"}), NOW)
        everything = population(s, Population(**{**YEAR.__dict__, "include_open": True}), NOW)
    assert len(flagged) + len(clean) == len(closed) > 0
    assert flagged["flagged"].all() and not clean["flagged"].any()
    assert len(everything) > len(closed)


def test_a_second_inspector_saving_the_same_item_is_refused_and_nothing_is_overwritten(seeded):
    url, card = seeded
    item_id = first_item(url, card)
    _item, verdicts, engine = verdicts_for(url, item_id)
    opened_by_a = opened_by_b = 0  # both opened the form before either saved
    with session_scope(url) as s:
        first = save_assessment(s, item_id, opened_by_a, verdicts, engine, {}, {}, {}, "甲的评语", "insp-a", NOW)
    other = {**verdicts, "communication": "fail"}
    with pytest.raises(StaleAssessment, match="assessed by insp-a after you opened it"):
        with session_scope(url) as s:
            save_assessment(s, item_id, opened_by_b, other, engine, {}, {}, {}, "乙的评语", "insp-b", NOW)
    with session_scope(url) as s:
        saved = load_item(s, item_id)["assessment"]
        assert saved["inspector"] == "insp-a" and saved["comment"] == "甲的评语" and saved["score"] == first.score
        assert s.scalar(select(func.count()).select_from(Assessment)) == 1
        assert [e["actor"] for e in search(s, action="assess")] == ["insp-a"]
    # reloading (version 1) does not let a colleague overwrite it (#12, item 19) ...
    with pytest.raises(AssessmentRefused, match="only they or an administrator"):
        with session_scope(url) as s:
            save_assessment(s, item_id, 1, other, engine, {}, {}, {}, "复核后修改", "insp-b", NOW)
    # ... the assessor herself may correct it, and an administrator may override it, audited as such
    with session_scope(url) as s:
        save_assessment(s, item_id, 1, verdicts, engine, {}, {}, {}, "甲修改", "insp-a", NOW)
    with session_scope(url) as s:
        save_assessment(s, item_id, 2, other, engine, {}, {}, {}, "管理员更正", "boss", NOW, role="admin")
    with session_scope(url) as s:
        saved = load_item(s, item_id)["assessment"]
        assert saved["inspector"] == "boss" and saved["items"]["communication"]["verdict"] == "fail"
        assert [e["actor"] for e in search(s, action="assess_override")] == ["boss"]


def test_overriding_the_engine_without_a_reason_is_refused(seeded):
    url, card = seeded
    item_id = first_item(url, card)
    _item, verdicts, engine = verdicts_for(url, item_id)
    key = next(k for k, v in engine.items() if v is not None)
    flipped = {**verdicts, key: "fail" if engine[key] != "fail" else "pass"}
    with pytest.raises(AssessmentRefused, match=f"item {key}: .* needs a reason"):
        with session_scope(url) as s:
            save_assessment(s, item_id, 0, flipped, engine, {}, {}, {}, "", "insp-a", NOW)
    with session_scope(url) as s:
        assert s.scalar(select(SampleItem.version).where(SampleItem.id == item_id)) == 0
        save_assessment(s, item_id, 0, flipped, engine, {}, {key: "录音核实"}, {}, "", "insp-a", NOW)
    with session_scope(url) as s:
        stored = load_item(s, item_id)["assessment"]["items"][key]
        assert stored["reason"] == "录音核实" and stored["engine_verdict"] == engine[key]


def test_an_assessment_keeps_the_scorecard_version_it_used(seeded):
    url, card = seeded
    item_id = first_item(url, card)
    _item, verdicts, engine = verdicts_for(url, item_id)
    with session_scope(url) as s:
        save_assessment(s, item_id, 0, verdicts, engine, {}, {}, {}, "", "insp-a", NOW)
    with session_scope(url) as s:
        v2 = save_scorecard(s, "投诉处理质检评分表", DEFAULT_ITEMS[:3], 60, "admin")
    assert v2["version"] == 2
    with session_scope(url) as s:
        item = load_item(s, item_id)
        assert item["scorecard"]["version"] == 1 and len(item["scorecard"]["items"]) == len(DEFAULT_ITEMS)
        assert search(s, action="save_scorecard")[0]["key"] == "投诉处理质检评分表 v2"


def test_calibration_is_kept_apart_from_scores_and_compared(seeded):
    url, card = seeded
    plan_id, n = draw_plan(url, card, purpose="calibration", method=Method("random", size=2))
    assert n == 4  # two cases, each for both inspectors
    with session_scope(url) as s:
        items = assignments(s, plan_id=plan_id)
    for it in items:
        _i, verdicts, engine = verdicts_for(url, it["id"])
        if it["assignee"] == "insp-b":
            verdicts["communication"] = "fail"
        with session_scope(url) as s:
            save_assessment(s, it["id"], 0, verdicts, engine, {}, {}, {}, "", it["assignee"], NOW)
    with session_scope(url) as s:
        assert assessment_rows(s).empty  # calibration does not count towards handlers' results
        assert len(assessment_rows(s, purpose=None)) == 4
        assert calibration_rows(s, NOW).empty  # blind until the session closes
        close_session(s, sessions(s, NOW)[0]["id"], "insp-a", "inspector", NOW)
    with session_scope(url) as s:
        cal = calibration_rows(s, NOW)
    rep = agreement(cal)
    comm = rep[rep["item_key"] == "communication"].iloc[0]
    assert comm["cases"] == 2 and comm["agreement"] == 0.0
    assert set(disagreements(cal)["item_key"]) == {"communication"}
    with pytest.raises(SampleInvalid, match="at least two inspectors"):
        draw_plan(url, card, purpose="calibration", inspectors=("insp-a",))


def test_an_empty_population_stores_nothing(seeded):
    url, card = seeded
    empty = Population(start=NOW + timedelta(days=10), end=NOW + timedelta(days=11))
    with pytest.raises(SampleInvalid, match="population is empty"):
        draw_plan(url, card, pop=empty)
    with session_scope(url) as s:
        assert plans(s) == []
        assert item_rows(s, []).empty


@pytest.mark.parametrize("include_open", [False, True])
def test_population_flags_and_filters_equal_a_case_by_case_check(seeded, include_open):
    """The population reads flags as two index ranges; each case's flag must still be what its own stored
    obligations say at `now` (a breach or review, or an open deadline past its warning time), and the
    'with flags' / 'without' filters must split the population exactly."""
    from sqlalchemy import select

    from db.models import Case, Obligation

    url, _card = seeded
    pop = Population(start=YEAR.start, end=YEAR.end, include_open=include_open)
    with session_scope(url) as s:
        frame = population(s, pop, NOW)
        rows = s.execute(select(Obligation.case_id, Obligation.state, Obligation.warn_at)).all()
        basis = Case.received_at if include_open else Case.closed_at
        expected_ids = set(s.scalars(select(Case.id).where(basis >= YEAR.start, basis < YEAR.end, basis <= NOW,
                                                           Case.received_at <= NOW)))
        with_flags = population(s, Population(start=YEAR.start, end=YEAR.end, include_open=include_open,
                                              flags="with"), NOW)
        without = population(s, Population(start=YEAR.start, end=YEAR.end, include_open=include_open,
                                           flags="without"), NOW)
    flagged = {cid for cid, state, warn in rows
               if state in ("breached", "review") or (state == "open" and warn is not None and warn <= NOW)}
    assert set(frame["case_id"]) == expected_ids and len(frame) > 100
    assert frame["case_id"].is_monotonic_increasing
    assert {cid for cid, f in zip(frame["case_id"], frame["flagged"]) if f} == expected_ids & flagged
    assert 0 < frame["flagged"].sum() < len(frame)
    assert set(with_flags["case_id"]) == expected_ids & flagged
    assert set(without["case_id"]) == expected_ids - flagged
    assert frame["team"].notna().all() and frame["handler"].notna().all()
    assert "case_no" not in frame and frame["month"].str.match(r"^\d{4}-\d{2}$").all()


def test_rows_added_in_the_scorecard_editor_get_free_item_keys():
    from domain.scorecard import with_item_keys

    items = with_item_keys([{"key": "item1"}, {"key": ""}, {"key": None}, {"key": "timeliness"}])
    assert [i["key"] for i in items] == ["item1", "item2", "item3", "timeliness"]
    with pytest.raises(ScorecardInvalid) as refused:
        validate_items([{**DEFAULT_ITEMS[0], "title_zh": ""}], BY_ID)
    assert refused.value.args[0].text("zh") == "第 1 行：“名称（中文）”为空"  # told in the editor's words
