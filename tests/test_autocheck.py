"""The automatic check of every closed case (#19 item 5): engine-only scores, shown apart, and sampling the
lowest of them."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from db.autocheck import auto_scores, closed_case_ids, reference_scores
from db.inspection import assessment_rows, assignments, create_plan, redraw, save_assessment, scorecard
from db.session import session_scope
from domain.quality import auto_summary
from domain.sampling import Method, draw
from domain.scorecard import score
from tests.apptest import signed_in
from tests.test_inspection import NOW, YEAR, seeded, verdicts_for  # noqa: F401 - fixture


def test_automatic_scores_are_the_engines_own_verdicts(seeded):
    url, card_id = seeded
    with session_scope(url) as s:
        card = scorecard(s, card_id)
        ids = closed_case_ids(s, YEAR.start, YEAR.end)
        auto = auto_scores(s, ids, card, NOW).set_index("case_id")
    assert len(auto) == len(ids) > 50
    assert auto["auto_score"].notna().all() and set(auto["month"]) != {""}
    plan_id, _n = _draw(url, card_id, Method("random", size=12))
    with session_scope(url) as s:
        items = assignments(s, plan_id=plan_id)
    for it in items:
        item, _verdicts, engine = verdicts_for(url, it["id"])  # what the assessment form pre-fills
        judged = {k: v for k, v in engine.items() if v is not None
                  and any(i["key"] == k and i.get("rules") for i in card["items"])}
        expected = score([i for i in card["items"] if i["key"] in judged], judged, card["pass_mark"])
        row = auto.loc[item["case_id"]]
        assert row["auto_score"] == pytest.approx(expected.score) and row["auto_passed"] == expected.passed
        assert sorted(row["failed"]) == sorted(k for k, v in judged.items() if v == "fail")
        assert "communication" not in judged  # the inspector's own item is never part of it


def _draw(url, card_id, method, seed_value=5):
    with session_scope(url) as s:
        return create_plan(s, "自动评分最低", "regular", method, YEAR, seed_value, ["insp-a"], card_id, "insp-a", NOW)


def test_the_lowest_automatic_scores_are_drawn_and_drawn_again_alike(seeded):
    url, card_id = seeded
    plan_id, n = _draw(url, card_id, Method("lowest_auto", size=10))
    assert n == 10
    with session_scope(url) as s:
        card = scorecard(s, card_id)
        auto = auto_scores(s, closed_case_ids(s, YEAR.start, YEAR.end), card, NOW)
        drawn = {r["case_no"] for r in assignments(s, plan_id=plan_id)}
        again, same = redraw(s, plan_id)
    assert same and set(again["case_no"]) == drawn
    worst = auto["auto_score"].sort_values().to_numpy()
    drawn_scores = auto[auto["case_no"].isin(drawn)]["auto_score"].sort_values().to_numpy()
    assert drawn_scores.tolist() == worst[:10].tolist()  # the ten lowest (ties broken by the seed)


def test_lowest_auto_puts_unscored_cases_last_and_breaks_ties_by_seed():
    pop = pd.DataFrame({"case_id": range(6), "auto_score": [50.0, np.nan, 10.0, 50.0, 50.0, 90.0],
                        "flagged": False})
    first = draw(pop, Method("lowest_auto", size=3), 1)
    assert 2 in first["case_id"].tolist() and 1 not in first["case_id"].tolist()
    assert first["case_id"].tolist() == draw(pop, Method("lowest_auto", size=3), 1)["case_id"].tolist()
    assert draw(pop, Method("lowest_auto", size=6), 9)["case_id"].tolist() == list(range(6))


def test_the_results_page_shows_the_automatic_check_apart_from_the_inspectors(seeded):
    url, card_id = seeded
    plan_id, _n = _draw(url, card_id, Method("random", size=3))
    with session_scope(url) as s:
        first = assignments(s, plan_id=plan_id)[0]
    _item, verdicts, engine = verdicts_for(url, first["id"])
    with session_scope(url) as s:
        save_assessment(s, first["id"], 0, verdicts, engine, {}, {}, {}, "", "insp-a", NOW)
        human = assessment_rows(s)
    at = signed_in("inspector", "insp-a")
    at.run()
    at.switch_page("pages/quality.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["自动评分工单数"] != "0" and "自动评分均值" in metrics
    assert metrics["平均得分"] == f"{human['score'].mean():.1f}"  # the human figure is the inspectors' alone
    side = next(d.value for d in at.dataframe if "自动评分均值" in d.value.columns)
    assert {"人工质检件数", "人工质检均值"} <= set(side.columns) and side["人工质检件数"].sum() == 1
    lowest = next(d.value for d in at.dataframe if "自动判为不符合的项目" in d.value.columns)
    assert len(lowest) == 20 and "timeliness" not in "".join(lowest["自动判为不符合的项目"])  # titles, not keys


def test_auto_summary_never_blends_the_two():
    auto = pd.DataFrame({"case_id": [1, 2, 3], "handler": ["甲", "甲", "乙"], "auto_score": [100.0, 50.0, None],
                         "auto_passed": [True, False, None]})
    assessed = pd.DataFrame({"id": [9], "handler": ["乙"], "score": [80.0]})
    out = auto_summary(auto, assessed).set_index("handler")
    assert out.loc["甲", "auto_mean"] == 75.0 and out.loc["甲", "auto_pass"] == 50.0 and out.loc["甲", "human_cases"] == 0
    assert out.loc["乙", "auto_cases"] == 0 and out.loc["乙", "human_mean"] == 80.0


@pytest.mark.parametrize("hours_later", [0, 30, 24 * 40])
def test_the_column_wise_check_agrees_with_the_form_on_every_case(seeded, hours_later):
    """Every seeded case (open ones too: deadlines not yet due, at risk, breached since), at three instants."""
    from datetime import timedelta

    from sqlalchemy import select

    from db.models import Case

    url, card_id = seeded
    now = NOW + timedelta(hours=hours_later)
    with session_scope(url) as s:
        card = scorecard(s, card_id)
        ids = list(s.scalars(select(Case.id)))
        fast = auto_scores(s, ids, card, now).set_index("case_id")
        slow = reference_scores(s, ids, card, now)
        sparse = auto_scores(s, ids[::3], card, now).set_index("case_id")  # read in IN (...) chunks
    assert sparse.index.tolist() == sorted(ids[::3])
    assert sparse["auto_score"].tolist() == fast.loc[sparse.index, "auto_score"].tolist()
    assert len(fast) == len(slow) == len(ids) > 200
    for case_id, (value, failed, judged) in slow.items():
        row = fast.loc[case_id]
        assert (row["auto_score"] is None and value is None) or row["auto_score"] == pytest.approx(value), case_id
        assert sorted(row["failed"]) == failed and row["judged"] == judged, case_id
