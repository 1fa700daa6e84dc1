"""Handlers acknowledge or dispute their assessments (#19 item 1): the window's edges, the state rules,
rescoring on acceptance with the earlier version kept, rejection with a reason, roles; both databases."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from db.disputes import DisputeRefused, acknowledge, decide, dispute_queue, my_assessments, open_dispute, outcomes
from db.inspection import load_item, save_assessment
from db.models import Assessment, AssessmentVersion
from db.session import session_scope
from domain.roles import Forbidden
from tests.test_inspection import NOW, first_item, seeded, verdicts_for  # noqa: F401 - seeded is a fixture

COMMUNICATION = "communication"  # an item the inspector judges (the engine does not)


@pytest.fixture
def assessed(seeded):  # noqa: F811
    url, card = seeded
    item_id = first_item(url, card)
    _item, verdicts, engine = verdicts_for(url, item_id)
    # everything passed (engine failures overridden with a reason) except the inspector's own item
    verdicts = {**{k: "pass" for k in verdicts}, COMMUNICATION: "fail"}
    reasons = {k: "复核录音后改判" for k, v in engine.items() if v is not None and v != verdicts[k]}
    with session_scope(url) as s:
        result = save_assessment(s, item_id, 0, verdicts, engine, {}, reasons, {COMMUNICATION: "语气生硬"}, "",
                                 "insp-a", NOW)
    with session_scope(url) as s:
        a = s.scalar(select(Assessment).where(Assessment.sample_item_id == item_id))
        return url, a.id, a.handler_id, result.score


def test_a_handler_sees_the_assessment_of_her_case_with_items_and_comments(assessed):
    url, aid, handler, _score = assessed
    with session_scope(url) as s:
        (mine,) = my_assessments(s, handler, NOW)
        assert mine["id"] == aid and mine["open"]
        failed = [i for i in mine["items"] if i["verdict"] == "fail"]
        assert any(i["key"] == COMMUNICATION and i["comment"] == "语气生硬" for i in failed)
        assert my_assessments(s, handler + 1000, NOW) == []


def test_the_dispute_window_is_open_to_its_last_second_and_closed_after(assessed):
    url, aid, handler, _score = assessed
    with pytest.raises(DisputeRefused, match="72 h window"):
        with session_scope(url) as s:
            open_dispute(s, aid, {COMMUNICATION: "已按规范致歉"}, handler, "h", "handler",
                         NOW + timedelta(hours=72, seconds=1))
    with session_scope(url) as s:
        assert open_dispute(s, aid, {COMMUNICATION: "已按规范致歉"}, handler, "h", "handler", NOW + timedelta(hours=72))


@pytest.mark.parametrize("reasons, message", [({}, "at least one"), ({COMMUNICATION: " "}, "a reason is required"),
                                              ({"reason_demand": "x"}, "only failed items")])
def test_a_dispute_names_failed_items_each_with_a_reason(assessed, reasons, message):
    url, aid, handler, _score = assessed  # every item but the inspector's own one passed
    with pytest.raises(DisputeRefused, match=message):
        with session_scope(url) as s:
            open_dispute(s, aid, reasons, handler, "h", "handler", NOW)


def test_an_accepted_dispute_rescores_keeps_the_old_version_and_counts_the_final_score(assessed):
    url, aid, handler, before = assessed
    with session_scope(url) as s:
        did = open_dispute(s, aid, {COMMUNICATION: "录音显示已致歉"}, handler, "h", "handler", NOW)
    with pytest.raises(DisputeRefused, match="only insp-a"):
        with session_scope(url) as s:
            decide(s, did, True, "", "insp-b", "inspector", NOW)
    with session_scope(url) as s:
        assert [d["id"] for d in dispute_queue(s, NOW + timedelta(hours=5))] == [did]
        decide(s, did, True, "复听录音属实", "insp-a", "inspector", NOW)
    with session_scope(url) as s:
        a = s.get(Assessment, aid)
        assert a.score > before
        (old,) = s.scalars(select(AssessmentVersion).where(AssessmentVersion.assessment_id == aid)).all()
        assert f'"score": {before}' in old.snapshot
        assert my_assessments(s, handler, NOW)[0]["dispute"]["status"] == "accepted"
        assert outcomes(s) == [{"inspector": "insp-a", "status": "accepted", "n": 1}]
        from db.inspection import assessment_rows

        assert assessment_rows(s).set_index("id").loc[aid, "score"] == a.score  # results use the final score


def test_a_rejected_dispute_needs_a_reason_and_keeps_the_score(assessed):
    url, aid, handler, before = assessed
    with session_scope(url) as s:
        did = open_dispute(s, aid, {COMMUNICATION: "不认可"}, handler, "h", "handler", NOW)
    with pytest.raises(DisputeRefused, match="needs a reason"):
        with session_scope(url) as s:
            decide(s, did, False, " ", "insp-a", "inspector", NOW)
    with session_scope(url) as s:
        decide(s, did, False, "录音中确有不当用语", "boss", "admin", NOW)
    with session_scope(url) as s:
        assert s.get(Assessment, aid).score == before
    with pytest.raises(DisputeRefused, match="already been disputed"):
        with session_scope(url) as s:
            open_dispute(s, aid, {COMMUNICATION: "再申诉"}, handler, "h", "handler", NOW)


def test_an_acknowledged_assessment_cannot_be_disputed_and_others_cannot_act(assessed):
    url, aid, handler, _score = assessed
    with pytest.raises(DisputeRefused, match="not of one of your cases"):
        with session_scope(url) as s:
            acknowledge(s, aid, handler + 1, "other", "handler", NOW)
    with pytest.raises(Forbidden):
        with session_scope(url) as s:
            acknowledge(s, aid, handler, "lead", "team_lead", NOW)
    with session_scope(url) as s:
        acknowledge(s, aid, handler, "h", "handler", NOW)
    with pytest.raises(DisputeRefused, match="acknowledged"):
        with session_scope(url) as s:
            open_dispute(s, aid, {COMMUNICATION: "x"}, handler, "h", "handler", NOW)
    with pytest.raises(Forbidden):
        with session_scope(url) as s:
            decide(s, 1, True, "", "lead", "team_lead", NOW)


def test_the_handler_disputes_on_her_page_and_the_inspector_accepts_on_his(assessed):
    from tests.apptest import refused_directly, signed_in

    url, aid, handler, before = assessed
    h = signed_in("handler", username="h-1")
    h.session_state["auth_user"] = {**h.session_state["auth_user"], "handler_id": handler}
    h.run()
    h.switch_page("pages/myqa.py").run()
    assert not h.exception
    key = next(w.key for w in h.text_input if w.key.endswith(f"_{COMMUNICATION}"))
    h.text_input(key=key).input("录音显示已按规范致歉")
    h.form_submit_button[0].click().run()
    assert not h.exception and any("申诉已提交" in s.value for s in h.success)
    i = signed_in("inspector", username="insp-a")
    i.run()
    i.switch_page("pages/disputes.py").run()
    assert not i.exception
    i.text_input[0].input("复听属实")
    i.form_submit_button[0].click().run()
    assert not i.exception and any("申诉已采纳" in s.value for s in i.success)
    with session_scope(url) as s:
        assert s.get(Assessment, aid).score > before
    assert refused_directly("pages/myqa.py", "inspector") and not refused_directly("pages/disputes.py", "inspector")
