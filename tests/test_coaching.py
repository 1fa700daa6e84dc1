"""Coaching (#19 item 4): created from a handler's weak items, acknowledged and worked through by her, a
follow-up comparing before and after, and a training record when it closes (6.2)."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from db.audit import search
from db.coaching import (CoachingRefused, acknowledge_coaching, close_coaching, coachings, complete_action,
                         create_coaching, follow_up, weak_items)
from db.inspection import assignments, load_item, save_assessment
from db.library import mark_typical, trainings
from db.models import Case, Handler
from db.session import session_scope
from domain.quality import coaching_follow_up
from domain.roles import Forbidden
from domain.sampling import Method
from tests.apptest import refused_directly, signed_in
from tests.test_inspection import NOW, draw_plan, seeded, verdicts_for  # noqa: F401 - fixture


def test_the_follow_up_arithmetic():
    t = pd.Timestamp(NOW)
    frame = pd.DataFrame({
        "item_key": ["timeliness"] * 7 + ["communication"],
        "verdict": ["fail", "pass", "fail", "pass", "na", "pass", "pass", "fail"],
        "assessed_at": [t - timedelta(days=d) for d in (40, 30, 20, 10, 5)] + [t + timedelta(days=3), t + timedelta(days=9),
                                                                             t - timedelta(days=1)],
    })
    out = coaching_follow_up(frame, ["timeliness", "communication", "survey"], t, t + timedelta(days=30)).set_index("item_key")
    assert out.loc["timeliness", "before_n"] == 4 and out.loc["timeliness", "before_fail"] == 50.0  # 不适用 left out
    assert out.loc["timeliness", "after_n"] == 2 and out.loc["timeliness", "after_fail"] == 0.0
    assert out.loc["timeliness", "change"] == -50.0
    assert out.loc["communication", "after_n"] == 0 and pd.isna(out.loc["communication", "change"])
    assert out.loc["survey", "before_n"] == 0
    # `until` bounds the "after" side
    assert coaching_follow_up(frame, ["timeliness"], t, t + timedelta(days=5)).iloc[0]["after_n"] == 1


def assess(url, item, when, fail=("communication",)):
    _i, verdicts, engine = verdicts_for(url, item["id"])
    reasons = {}
    for key in fail:
        if engine.get(key) not in (None, "fail"):
            reasons[key] = "质检员复核认定"
        verdicts[key] = "fail"
    with session_scope(url) as s:
        save_assessment(s, item["id"], 0, verdicts, engine, reasons, {}, {}, "", item["assignee"], when)


@pytest.fixture
def coached(seeded):
    """A handler with two regular assessments failing 沟通表达, one typical case on the same clause."""
    url, card = seeded
    plan_id, _n = draw_plan(url, card, method=Method("random", size=12))
    with session_scope(url) as s:
        items = assignments(s, plan_id=plan_id)
    handler = items[0]["handler"]
    mine = [i for i in items if i["handler"] == handler][:2]
    for n, it in enumerate(mine):
        assess(url, it, NOW - timedelta(days=10 - n))
    with session_scope(url) as s:
        case_no = load_item(s, items[-1]["id"])["case_no"]
        version = s.scalar(select(Case.version).where(Case.case_no == case_no))
        mark_typical(s, case_no, version, "沟通中先致歉再说明原因，客户接受", "先共情后解释", ["沟通"], ["6.1.2"], "good",
                     "insp-a", NOW - timedelta(days=20))
        handler_id = s.scalar(select(Handler.id).where(Handler.name == handler))
    return url, handler, handler_id, case_no, mine


def plan(who, case_no, **kw):
    args = dict(handler=who, items=["communication"], note="先致歉，再说明原因与时限", case_nos=[case_no],
                actions=[("复听本月三通录音并写出改进点", NOW + timedelta(days=7))],
                follow_up_at=NOW + timedelta(days=30), actor="lead", role="team_lead", now=NOW)
    args.update(kw)
    return args


def test_coaching_is_checked_acknowledged_worked_through_and_closed_into_training(coached):
    url, handler, handler_id, case_no, mine = coached
    with session_scope(url) as s:
        assert "communication" in weak_items(s, handler)  # failed in both assessments
        for bad, message in ((dict(items=[]), "at least one item"), (dict(note=" "), "write what"),
                             (dict(follow_up_at=NOW), "follow-up must lie ahead"), (dict(actions=[("", NOW)]), "at least one action"),
                             (dict(actions=[("x", NOW - timedelta(hours=1))]), "due date ahead"),
                             (dict(handler="无此人"), "no handler named"), (dict(case_nos=[mine[0]["case_no"]]), "not in the typical-case library")):
            with pytest.raises(CoachingRefused, match=message):
                create_coaching(s, **plan(handler, case_no, **bad))
        with pytest.raises(Forbidden):
            create_coaching(s, **plan(handler, case_no, role="trainer"))
        cid = create_coaching(s, **plan(handler, case_no))
    with session_scope(url) as s:
        (row,) = coachings(s, handler_id)
        assert row["items"] == ["communication"] and row["case_nos"] == [case_no] and row["acknowledged_at"] is None
        with pytest.raises(CoachingRefused, match="not addressed to you"):
            acknowledge_coaching(s, cid, handler_id + 1000, "someone", "handler", NOW)
        with pytest.raises(Forbidden):
            acknowledge_coaching(s, cid, handler_id, "lead", "team_lead", NOW)
        acknowledge_coaching(s, cid, handler_id, "h", "handler", NOW + timedelta(hours=1))
        with pytest.raises(CoachingRefused, match="already acknowledged"):
            acknowledge_coaching(s, cid, handler_id, "h", "handler", NOW + timedelta(hours=2))
        complete_action(s, row["actions"][0]["id"], handler_id, "h", "handler", NOW + timedelta(days=2))
    # after the coaching the handler passes 沟通表达 once (a third sample of her cases)
    plan_id, _n = draw_plan(url, seeded_card(url), method=Method("random", size=40), seed_value=99)
    with session_scope(url) as s:
        later = [i for i in assignments(s, plan_id=plan_id) if i["handler"] == handler
                 and i["case_no"] not in {m["case_no"] for m in mine}][:1]
    assert later, "the seeded data gives the handler another case"
    assess(url, later[0], NOW + timedelta(days=5), fail=())
    with session_scope(url) as s:
        compared = follow_up(s, cid, NOW + timedelta(days=6)).set_index("item_key")
        assert compared.loc["communication", "before_fail"] == 100.0 and compared.loc["communication", "after_fail"] == 0.0
        assert compared.loc["communication", "change"] == -100.0
        with pytest.raises(CoachingRefused, match="outcome"):
            close_coaching(s, cid, " ", "班组长甲", "lead", "team_lead", NOW + timedelta(days=31))
        training_id = close_coaching(s, cid, "沟通项已改善，继续观察", "班组长甲", "lead", "team_lead", NOW + timedelta(days=31))
    with session_scope(url) as s:
        (session_row,) = [t for t in trainings(s) if t["id"] == training_id]
        assert session_row["attendees"] == [handler] and session_row["case_nos"] == [case_no]
        assert coachings(s, handler_id)[0]["closed_at"] is not None
        with pytest.raises(CoachingRefused, match="closed"):
            complete_action(s, row["actions"][0]["id"], handler_id, "h", "handler", NOW + timedelta(days=32))
        actions = [e["action"] for e in search(s, key=str(cid))]
        assert {"create_coaching", "acknowledge_coaching", "close_coaching"} <= set(actions)


def seeded_card(url):
    from db.inspection import ensure_default_scorecard

    with session_scope(url) as s:
        return ensure_default_scorecard(s)


def test_the_handler_sees_her_coaching_and_the_leads_see_the_comparison(coached):
    url, handler, handler_id, case_no, _mine = coached
    with session_scope(url) as s:
        create_coaching(s, **plan(handler, case_no))
        from db.users import create_user

        create_user(s, "coached-h", handler, "handler", "long-password-1", actor="admin", handler=handler)
    me = signed_in("handler", "coached-h")
    me.run()
    me.switch_page("pages/myqa.py").run()
    assert not me.exception, me.exception
    assert any("复听本月三通录音" in t.value for t in me.text)
    assert [b.label for b in me.get("download_button")] == ["下载学习材料（Word，已去标识）"]
    me.button(key=next(b.key for b in me.button if b.key.startswith("myqa_coach_ack_"))).click().run()
    assert not me.exception, me.exception
    me.button(key=next(b.key for b in me.button if b.key.startswith("myqa_act_"))).click().run()
    assert not me.exception, me.exception
    with session_scope(url) as s:
        (row,) = coachings(s, handler_id)
        assert row["acknowledged_at"] is not None and row["actions"][0]["done_at"] is not None
    lead = signed_in("team_lead", "lead")
    lead.run()
    lead.switch_page("pages/coaching.py").run()
    assert not lead.exception, lead.exception
    listed = next(d.value for d in lead.dataframe if "辅导人" in d.value.columns)
    assert listed.iloc[0]["处理人"] == handler and listed.iloc[0]["已完成事项"] == "1/1"
    compare = next(d.value for d in lead.dataframe if "辅导前不符合（%）" in d.value.columns)
    assert compare.iloc[0]["辅导前不符合（%）"] == "100.0"
    assert "下载学习材料（Word，已去标识）" in [b.label for b in lead.get("download_button")]
    assert refused_directly("pages/coaching.py", "trainer") and not refused_directly("pages/coaching.py", "manager")
