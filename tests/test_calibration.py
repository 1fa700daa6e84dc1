"""Blind calibration sessions (#19 item 2) and grading the graders (#19 item 3)."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from db.audit import search
from db.calibration import (CalibrationRefused, answers, close_session, consensus, progress, scores, sessions,
                            set_consensus)
from db.inspection import AssessmentRefused, assignments, calibration_rows, save_assessment
from db.session import session_scope
from domain import calibration as stats
from domain.roles import Forbidden
from domain.sampling import Method, SampleInvalid
from domain.scorecard import DEFAULT_ITEMS
from tests.apptest import refused_directly, signed_in
from tests.test_inspection import NOW, draw_plan, seeded, verdicts_for  # noqa: F401 - fixture

nan = np.nan


# ---------------------------------------------------------------- the arithmetic

def test_alpha_agrees_with_a_hand_worked_example_and_krippendorffs_own():
    """Two raters, four units: (a,a) (a,b) (b,b) (b,b). The coincidence matrix has o_aa = 2, o_ab = o_ba = 1,
    o_bb = 4, so n_a = 3, n_b = 5, n = 8; alpha = 1 - (n - 1) * (o_ab + o_ba) / (2 * n_a * n_b)
    = 1 - 7 * 2 / 30 = 8/15."""
    assert stats.alpha([[0, 0, 1, 1], [0, 1, 1, 1]], "nominal") == pytest.approx(8 / 15)
    # with missing ratings: three raters, units (a, a, —) (a, b, b) (b, —, b). A unit of m values adds
    # 1/(m - 1) per ordered pair: o_aa = 2, o_ab = o_ba = 2 * 1/2 = 1, o_bb = 1/2 * 2 + 2 = 3; n_a = 3, n_b = 4,
    # n = 7; alpha = 1 - 6 * 2 / (2 * 3 * 4) = 1/2
    assert stats.alpha([[0, 0, 1], [0, 1, nan], [nan, 1, 1]], "nominal") == pytest.approx(0.5)
    # the four coders and twelve units of Krippendorff's "Computing Krippendorff's Alpha-Reliability" (2011)
    data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan], [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    assert stats.alpha(data, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert stats.alpha(data, "interval") == pytest.approx(0.849, abs=5e-4)
    assert stats.alpha([[1, 1], [1, 1]], "nominal") == 1.0  # unanimous: no division by zero
    assert stats.alpha([[1, nan], [nan, 1]], "nominal") is None  # nothing pairable
    assert stats.alpha([[1, 2]], "nominal") is None  # one rater


def answers_frame(rows):
    return pd.DataFrame(rows, columns=["case_no", "inspector", "item_key", "verdict"])


def test_spread_agreement_and_the_items_to_discuss():
    rows = []
    for case in ("C1", "C2"):
        for who in ("a", "b", "c"):
            rows.append((case, who, "timeliness", "pass"))
            rows.append((case, who, "communication", "fail" if (case, who) == ("C1", "c") else "pass"))
    frame = answers_frame(rows)
    assert stats.spread(frame, "timeliness") == 0.0 and stats.percent_agreement(frame, "timeliness") == 100.0
    # C1: two pass, one fail -> population variance 2/9; C2: 0; mean 1/9
    assert stats.spread(frame, "communication") == pytest.approx(1 / 9)
    assert stats.percent_agreement(frame, "communication") == pytest.approx(100 * 4 / 6)
    items = [i for i in DEFAULT_ITEMS if i["key"] in ("timeliness", "communication")]
    table = stats.items_table(frame, items, threshold=0.1, consensus={("C1", "communication"): "pass"})
    row = table.set_index("item_key")
    assert bool(row.loc["communication", "discuss"]) and not bool(row.loc["timeliness", "discuss"])
    assert row.loc["communication", "off_consensus"] == 1 and row.loc["communication", "cases"] == 2
    assert stats.items_table(frame, items, threshold=0.2).set_index("item_key")["discuss"].sum() == 0
    pairs = stats.pairs_table(frame).set_index(["a", "b"])
    assert pairs.loc[("a", "b"), "agreement"] == 100.0 and pairs.loc[("a", "c"), "agreement"] == 75.0


def test_graders_lean_strict_or_lenient_against_the_engine_and_the_consensus():
    assessed = pd.DataFrame({"id": [1, 2, 3], "inspector": ["strict", "lenient", "fair"],
                             "month": ["2026-10", "2026-10", "2026-11"]})
    items = pd.DataFrame({"assessment_id": [1] * 4 + [2] * 4 + [3] * 4,
                          "verdict": ["fail", "fail", "pass", "pass"] + ["pass"] * 4 + ["pass", "fail", "pass", "na"],
                          "engine_verdict": ["pass", "fail", "pass", "pass"] + ["fail", "pass", "pass", "pass"]
                          + ["pass", "fail", "pass", "pass"]})
    agreed = pd.DataFrame(columns=["inspector", "assessed_at", "item_key", "verdict", "consensus"])
    table, trend = stats.graders(assessed, items, agreed)
    t = table.set_index("inspector")
    assert t.loc["strict", "engine_diff"] == -25.0 and t.loc["strict", "leaning"] == "strict"
    assert t.loc["lenient", "engine_diff"] == 25.0 and t.loc["lenient", "override_share"] == 25.0
    assert t.loc["fair", "engine_n"] == 3 and t.loc["fair", "leaning"] == "in_step"  # 不适用 does not compare
    assert set(trend["month"]) == {"2026-10", "2026-11"}
    # with five or more consensus answers the consensus decides
    agreed = pd.DataFrame({"inspector": ["fair"] * 5, "assessed_at": [None] * 5, "item_key": ["x"] * 5,
                           "verdict": ["pass"] * 5, "consensus": ["fail", "fail", "pass", "pass", "pass"]})
    table, _trend = stats.graders(assessed, items, agreed)
    assert table.set_index("inspector").loc["fair", "leaning"] == "lenient"


# ---------------------------------------------------------------- blind sessions, stored

def answer_all(url, plan_id, dissent=None):
    with session_scope(url) as s:
        items = assignments(s, plan_id=plan_id)
    for it in items:
        _item, verdicts, engine = verdicts_for(url, it["id"])
        reasons = {}
        if it["assignee"] == dissent:
            verdicts["communication"] = "fail"
        with session_scope(url) as s:
            save_assessment(s, it["id"], 0, verdicts, engine, reasons, {}, {}, "", it["assignee"], NOW)
    return items


def test_answers_stay_hidden_until_the_session_closes(seeded):
    url, card = seeded
    plan_id, n = draw_plan(url, card, purpose="calibration", method=Method("random", size=2))
    assert n == 4
    answer_all(url, plan_id, dissent="insp-b")
    with session_scope(url) as s:
        (row,) = sessions(s, NOW)
        assert row["lead"] == "insp-a" and not row["closed"] and row["deadline"] == NOW + timedelta(days=7)
        sid = row["id"]
        assert len(answers(s, sid, "insp-b", NOW, whose="insp-b")) > 0  # her own
        for viewer, whose in (("insp-b", "insp-a"), ("insp-b", None), ("admin", None), ("insp-a", "insp-b")):
            with pytest.raises(CalibrationRefused, match="hidden until the session closes"):
                answers(s, sid, viewer, NOW, whose=whose)
        with pytest.raises(CalibrationRefused):
            scores(s, sid, "insp-a", NOW)
        assert progress(s, sid)["answered"].tolist() == [2, 2]  # how many, never what
        assert calibration_rows(s, NOW).empty  # nor through the results page
        with pytest.raises(CalibrationRefused, match="only the lead"):
            close_session(s, sid, "insp-b", "inspector", NOW)
        with pytest.raises(Forbidden):
            close_session(s, sid, "lead", "team_lead", NOW)
        with pytest.raises(CalibrationRefused, match="once the session has closed"):
            set_consensus(s, sid, assignments(s, plan_id=plan_id)[0]["case_no"], "communication", "pass",
                          "insp-a", "inspector", NOW)
    later = NOW + timedelta(hours=1)
    with session_scope(url) as s:
        close_session(s, sid, "insp-a", "inspector", later)
    with session_scope(url) as s:
        everyone = answers(s, sid, "insp-b", later)
        assert set(everyone["inspector"]) == {"insp-a", "insp-b"}
        assert len(scores(s, sid, "insp-b", later)) == 4
        assert not calibration_rows(s, later).empty
        assert search(s, action="close_calibration")[0]["key"] == str(sid)
    # answers are frozen once closed
    with session_scope(url) as s:
        first = assignments(s, plan_id=plan_id)[0]
    _item, verdicts, engine = verdicts_for(url, first["id"])
    with session_scope(url) as s, pytest.raises(AssessmentRefused, match="frozen"):
        save_assessment(s, first["id"], 1, verdicts, engine, {}, {}, {}, "", first["assignee"], later)
    # the lead sets the consensus; it is audited and counted against each inspector
    case_no = everyone["case_no"].iloc[0]
    with session_scope(url) as s:
        set_consensus(s, sid, case_no, "communication", "pass", "insp-a", "inspector", later)
    with session_scope(url) as s:
        set_consensus(s, sid, case_no, "communication", "fail", "admin", "admin", later)  # an admin may correct it
        assert consensus(s, sid) == {(case_no, "communication"): "fail"}
        assert [e["action"] for e in search(s, action="set_consensus")] == ["set_consensus", "set_consensus"]
        with pytest.raises(CalibrationRefused, match="not in this session"):
            set_consensus(s, sid, "NOPE", "communication", "pass", "insp-a", "inspector", later)


def test_a_session_closes_by_itself_at_its_deadline(seeded):
    url, card = seeded
    with session_scope(url) as s:
        from db.inspection import create_plan
        from tests.test_inspection import YEAR

        with pytest.raises(SampleInvalid, match="deadline must lie ahead"):
            create_plan(s, "校准", "calibration", Method("random", size=2), YEAR, 3, ["insp-a", "insp-b"], card,
                        "insp-a", NOW, deadline=NOW)
    with session_scope(url) as s:
        create_plan(s, "校准", "calibration", Method("random", size=2), YEAR, 3, ["insp-a", "insp-b"], card,
                    "insp-a", NOW, deadline=NOW + timedelta(hours=2), threshold=0.2)
    with session_scope(url) as s:
        (row,) = sessions(s, NOW)
        assert not row["closed"] and row["threshold"] == 0.2
        assert sessions(s, NOW + timedelta(hours=2))[0]["closed"]  # the deadline itself closes it
        assert answers(s, row["id"], "insp-b", NOW + timedelta(hours=2)).empty  # readable (nobody answered)


# ---------------------------------------------------------------- the page

def test_the_page_shows_progress_only_while_open_then_agreement(seeded):
    url, card = seeded
    plan_id, _n = draw_plan(url, card, purpose="calibration", method=Method("random", size=2))
    answer_all(url, plan_id, dissent="insp-b")
    at = signed_in("inspector", "insp-b")
    at.run()
    at.switch_page("pages/calibration.py").run()
    assert not at.exception, at.exception
    assert any(i.value.startswith("校准会结束前") for i in at.info)
    tables = [d.value for d in at.dataframe]
    assert all("insp-a" not in t.columns and "测试" not in list(t.columns)[1:] for t in tables)
    assert not at.metric  # no agreement figures before the close
    with session_scope(url) as s:
        close_session(s, sessions(s, NOW)[0]["id"], "insp-a", "inspector", NOW + timedelta(hours=1))
    at.run()
    assert not at.exception, at.exception
    labels = {m.label: m.value for m in at.metric}
    assert "评定一致性 α（名义）" in labels and labels["需讨论的评分项"] == "1"
    items = at.dataframe[1].value
    row = items[items["评分项"].str.contains("沟通")].iloc[0]
    assert row["讨论"] == "超过阈值，需讨论" and row["一致率（%）"] == "0.0"
    assert refused_directly("pages/calibration.py", "trainer") and refused_directly("pages/calibration.py", "team_lead")
    assert not refused_directly("pages/calibration.py", "admin")


def test_replaying_past_the_deadline_neither_opens_the_session_nor_dates_its_close(seeded):
    """#28 H1: the sidebar's replay instant chooses what is shown, never what may be seen; a close made
    while replaying is stamped with the server's time."""
    from datetime import time as wall

    from db.models import CalibrationSession
    from domain import clock
    from domain.config import local_zone

    url, card = seeded
    plan_id, _n = draw_plan(url, card, purpose="calibration", method=Method("random", size=2))
    answer_all(url, plan_id, dissent="insp-b")
    with session_scope(url) as s:
        (row,) = sessions(s, clock.now())
    past_deadline = (row["deadline"] + timedelta(days=3)).astimezone(local_zone())
    for viewer in ("insp-b", "insp-a"):
        at = signed_in("inspector", viewer, app_live=False, app_as_of_date=past_deadline.date(),
                       app_as_of_time=wall(past_deadline.hour, 0))
        at.run()
        at.switch_page("pages/calibration.py").run()
        assert not at.exception, at.exception
        assert any(i.value.startswith("校准会结束前") for i in at.info)  # still blind
        assert not at.metric
        # the open view: who answered how many, and the viewer's own verdicts only
        progress_table, mine = (d.value for d in at.dataframe[:2])
        assert list(progress_table["已评件数"]) == [2, 2]
        with session_scope(url) as s:
            own = answers(s, row["id"], viewer, clock.now(), whose=viewer)
        assert len(mine) == len(own) and set(mine["工单号"]) == set(own["case_no"])
    # the lead closes it while replaying a date three days past the deadline
    at.button(key="cal_close").click().run()
    at.button(key="cal_close_yes").click().run()
    assert not at.exception, at.exception
    with session_scope(url) as s:
        closed_at = s.get(CalibrationSession, row["id"]).closed_at
    assert abs(closed_at - clock.now()) < timedelta(minutes=1)
    assert closed_at < row["deadline"]
