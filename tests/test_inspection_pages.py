"""The inspection pages in Streamlit's AppTest: drawing a sample, assessing a case (and the refusal of a
second, outdated save), results, scorecard versions, and who may open what."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from db.inspection import assignments, ensure_default_scorecard, load_item, scorecard_versions
from db.models import Assessment, SamplingPlan
from db.seed import seed
from db.session import session_scope
from db.users import create_user
from domain import clock
from tests.apptest import refused_directly, signed_in
from tests.test_inspection import draw_plan

NOW = clock.now()


@pytest.fixture
def inspected(sqlite_url):
    seed(250, 5, NOW, sqlite_url)
    with session_scope(sqlite_url) as s:
        for name in ("insp-a", "insp-b"):
            create_user(s, name, name, "inspector", "pw-123456789", actor="test")
        card = ensure_default_scorecard(s)
    return sqlite_url, card


def page(path: str, role: str = "inspector", username: str = "insp-a", **state):
    at = signed_in(role, username=username, **state)
    at.run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def test_an_inspector_previews_and_draws_a_stratified_sample(inspected):
    url, _card = inspected
    local = NOW + timedelta(hours=8)
    at = page("pages/sampling.py", smp_period=((local - timedelta(days=400)).date(), local.date()))
    at.selectbox(key="smp_method").set_value("stratified").run()
    at.number_input(key="smp_size").set_value(10).run()
    at.multiselect(key="smp_inspectors").set_value(["insp-a", "insp-b"]).run()
    at.button(key="smp_preview").click().run()
    assert not at.exception, at.exception
    assert at.info[0].value.startswith("总体 ") and "样本" in at.info[0].value
    sampled = int(at.info[0].value.split("样本 ")[1].split(" 件")[0])
    assert sampled > 10  # seven teams, at least one case each: the small ones are raised to the minimum ...
    assert any(f"要求抽取 10 件，实际抽取 {sampled} 件" in c.value for c in at.caption)  # ... and the page says so
    at.button(key="smp_draw").click().run()
    assert at.warning[-1].value.startswith("确定按当前条件抽取")  # a bulk action asks first
    at.button(key="smp_draw_yes").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("已保存抽检计划 #1")
    with session_scope(url) as s:
        plan = s.scalar(select(SamplingPlan))
        assert plan.method == "stratified" and plan.created_by == "insp-a"
        items = assignments(s, plan_id=plan.id)
    assert len(items) >= 10 and {i["assignee"] for i in items} == {"insp-a", "insp-b"}


def test_a_sample_with_no_population_is_explained(inspected):
    local = NOW + timedelta(hours=8)
    at = page("pages/sampling.py", smp_period=((local + timedelta(days=5)).date(), (local + timedelta(days=6)).date()))
    at.button(key="smp_draw").click().run()
    assert at.warning[-1].value.startswith("确定按当前条件抽取")  # a bulk action asks first
    at.button(key="smp_draw_yes").click().run()
    assert not at.exception, at.exception
    assert "总体为空" in at.error[0].value


def fill_and_save(at, item_id, overrides=None):
    """Judge every item the engine left open as passed (plus any overrides), then save."""
    for radio in at.radio:
        if radio.key and radio.key.startswith(f"as_{item_id}_") and radio.value is None:
            radio.set_value("pass")
    for key, value in (overrides or {}).items():
        at.radio(key=f"as_{item_id}_{key}_v").set_value(value)
    at.run()
    at.button(key="assess_save").click().run()
    assert not at.exception, at.exception
    return at


def test_assessing_a_case_with_prefilled_verdicts_and_a_refused_second_save(inspected):
    url, card = inspected
    plan_id, _ = draw_plan(url, card, inspectors=("insp-a",))
    with session_scope(url) as s:
        item_id = assignments(s, plan_id=plan_id)[0]["id"]
    first = page("pages/assess.py", username="insp-a", assess_item=item_id)
    second = page("pages/assess.py", username="insp-b", assess_everyone=True, assess_item=item_id)
    # items the rule engine can judge arrive pre-filled, with their evidence
    assert any(c.value.startswith("规则引擎判定：") for c in first.caption)
    prefilled = [r for r in first.radio if r.key.startswith(f"as_{item_id}_") and r.value is not None]
    assert prefilled
    fill_and_save(first, item_id, {"communication": "fail"})
    assert any(s.value.startswith("评分已保存") for s in first.success)
    fill_and_save(second, item_id)
    shown = second.error[0].value.replace("\\", "")  # the message is Markdown-escaped on the page
    assert shown.startswith("未保存：您打开后，") and "已对工单" in shown and "您的评分未保存" in shown
    with session_scope(url) as s:
        saved = load_item(s, item_id)["assessment"]
        assert saved["inspector"] == "insp-a" and saved["items"]["communication"]["verdict"] == "fail"
        assert s.scalar(select(func.count()).select_from(Assessment)) == 1
    # the second inspector reloads: the form now shows the saved verdicts and the current version
    second.button(key="assess_reload").click().run()
    assert not second.exception, second.exception
    assert second.radio(key=f"as_{item_id}_communication_v").value == "fail"
    assert any("已由 insp-a" in c.value for c in second.caption)


def test_results_page_shows_the_handler_and_the_failed_clause(inspected):
    url, card = inspected
    plan_id, _ = draw_plan(url, card, inspectors=("insp-a",))
    with session_scope(url) as s:
        item = assignments(s, plan_id=plan_id)[0]
    at = page("pages/assess.py", assess_item=item["id"])
    fill_and_save(at, item["id"], {"communication": "fail"})
    res = page("pages/quality.py", role="team_lead")
    assert res.metric[0].value == "1"
    with session_scope(url) as s:
        from db.queries import team_names

        elsewhere = [t for t in team_names(s) if t != item["team"]][:1]
    other = page("pages/quality.py", role="team_lead", app_teams=elsewhere)  # the sidebar's team filter
    assert other.metric[0].value == "0"
    same = page("pages/quality.py", role="team_lead", app_teams=[item["team"]])
    assert same.metric[0].value == "1"
    handlers = res.dataframe[0].value
    assert item["handler"] in handlers["处理人"].tolist()
    pareto = res.dataframe[2].value
    assert "6.1.2, 4.3" in pareto["条款"].tolist()
    assert res.get("download_button")


def test_admin_saves_a_new_scorecard_version_and_inspectors_only_read(inspected):
    url, _card = inspected
    admin = page("pages/scorecards.py", role="admin", username="boss")
    admin.number_input(key="sc_pass_mark").set_value(70.0).run()
    admin.button(key="sc_save").click().run()
    assert not admin.exception, admin.exception
    assert admin.success[0].value == "已保存 投诉处理质检评分表 v2。"
    with session_scope(url) as s:
        versions = scorecard_versions(s, "投诉处理质检评分表")
    assert [v["version"] for v in versions] == [2, 1] and versions[0]["pass_mark"] == 70.0
    reader = page("pages/scorecards.py")
    card = reader.dataframe[0].value  # inspectors read the card in their language, rules by title ...
    assert "24小时内联系、48小时内答复、按期告知进度" in card["评分项"].tolist() and "代码" not in card.columns
    assert "24小时内首次联系客户" in "、".join(card["引擎规则"])
    assert not reader.get("arrow_data_editor") and not reader.button  # ... and cannot change it


@pytest.mark.parametrize("role, path, allowed", [
    ("trainer", "pages/sampling.py", False), ("team_lead", "pages/assess.py", False),
    ("team_lead", "pages/quality.py", True), ("manager", "pages/quality.py", True),
    ("inspector", "pages/assess.py", True), ("manager", "pages/scorecards.py", False),
])
def test_inspection_pages_check_the_role(inspected, role, path, allowed):
    assert refused_directly(path, role) is (not allowed)


def test_the_handler_filter_applies_to_every_table_and_chart(inspected):
    url, card = inspected
    plan_id, _ = draw_plan(url, card, inspectors=("insp-a",))
    with session_scope(url) as s:
        items = assignments(s, plan_id=plan_id)
    first = items[0]
    other = next(i for i in items if i["handler"] != first["handler"])
    for item in (first, other):
        fill_and_save(page("pages/assess.py", assess_item=item["id"]), item["id"], {"communication": "fail"})
    res = page("pages/quality.py", role="team_lead")
    assert res.metric[0].value == "2"
    assert set(res.dataframe[0].value["处理人"]) == {first["handler"], other["handler"]}
    both = res.dataframe[2].value.set_index("评分项")["不符合次数"]
    assert both[next(k for k in both.index if "沟通表达" in k)] == 2
    res.multiselect(key="qr_handlers").set_value([first["handler"]]).run()
    assert not res.exception, res.exception
    assert res.metric[0].value == "1"  # the figures ...
    assert res.dataframe[0].value["处理人"].unique().tolist() == [first["handler"]]  # ... the handler table ...
    teams_shown = res.dataframe[1].value  # ... the team table ...
    assert teams_shown["质检件数"].sum() == 1 and teams_shown["班组"].tolist() == [first["team"]]
    # ... and the failed items: both failed communication; the engine-filled items depend on the case's
    # dates against today, so only the inspector's own verdict is counted here
    failed = res.dataframe[2].value.set_index("评分项")["不符合次数"]
    assert failed[next(k for k in failed.index if "沟通表达" in k)] == 1


def test_the_assessment_page_shows_the_case_text_whole_and_de_identified(inspected):
    from db.models import Case
    from domain.deid import scrub_text

    url, card = inspected
    plan_id, _ = draw_plan(url, card, inspectors=("insp-a",))
    with session_scope(url) as s:
        item = assignments(s, plan_id=plan_id)[0]
        case = s.scalar(select(Case).where(Case.case_no == item["case_no"]))
        expected = scrub_text(case.description, [case.customer_name] if case.customer_name else [])
        name = case.customer_name
    at = page("pages/assess.py", assess_item=item["id"])
    texts = [m.value.replace("\\", "") for m in at.markdown]
    assert expected and expected in texts
    grids = " ".join(d.value.to_string() for d in at.dataframe)
    assert expected[:12] not in grids and (not name or name not in " ".join(texts))


def test_the_assignment_list_names_inspectors_and_shows_no_none(inspected):
    from sqlalchemy import update

    from db.models import User

    url, card = inspected
    draw_plan(url, card, inspectors=("insp-a",))
    at = page("pages/assess.py")  # signs insp-a in (the account exists from here on)
    with session_scope(url) as s:
        s.execute(update(User).where(User.username == "insp-a").values(display_name="李质检"))
    at.run()
    listing = at.dataframe[0].value
    assert set(listing["质检员"]) == {"李质检"}  # the name people know, not the account name
    assert "None" not in listing.astype(str).to_string() and set(listing["得分"]) == {"—"}
