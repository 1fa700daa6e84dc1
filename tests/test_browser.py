"""Main journeys in a real headless Chromium (Debian's package, driven by Playwright)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from db.models import Case, User
from db.seed import seed
from db.session import session_scope
from domain import clock
from tests.browser import CHROMIUM, FLAGS, add_user, sign_in, streamlit_server, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "complaints.sqlite3"
    url = f"sqlite:///{path}"
    from db.migrate import upgrade

    upgrade(url)
    # seeded as of 30 hours ago: the open cases then owe overdue and nearly-due deadlines now, whatever the
    # time of day (seeded as of now, the board's queue was empty at 11:37 in Shanghai and the journeys failed)
    seed(400, 4, clock.now() - timedelta(hours=30), url)
    add_user(url)
    with session_scope(url) as s:
        case_no = s.scalar(select(Case.case_no).order_by(Case.received_at.desc()).limit(1))
    with streamlit_server(url) as base:
        yield base, case_no, url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def test_search_a_case_and_open_its_detail(server, browser, tmp_path):
    base, case_no, _url = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, base)
    page.get_by_role("link", name="工单查询").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="工单查询")).to_be_visible()
    page.get_by_role("textbox", name="工单号").fill(case_no)
    page.get_by_role("button", name="查询").click()
    wait_idle(page)
    expect(page.get_by_text("共 1 件")).to_be_visible()
    page.get_by_role("button", name="打开详情").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="工单详情")).to_be_visible()
    expect(page.get_by_text(case_no).first).to_be_visible()
    expect(page.get_by_role("heading", name="处理流程进度（附录A）")).to_be_visible()
    assert "case=" + case_no in page.url
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=str(tmp_path / "detail.png"), full_page=True)
    page.close()


def test_board_drops_a_case_from_the_queue_on_the_next_refresh(tmp_path, browser):
    """A team lead sees an at-risk case; a contact arrives (an import from the work-order system); the
    case leaves the act-now queue at the next automatic refresh, without reloading the page."""
    from datetime import timedelta

    from db.importer import import_files
    from db.migrate import upgrade
    from tests.helpers import case_row, contact_row, write_csv

    url = f"sqlite:///{tmp_path / 'board.sqlite3'}"
    upgrade(url)
    sh = timezone(timedelta(hours=8))
    now = clock.now().astimezone(sh)
    received = (now - timedelta(hours=21)).strftime("%Y-%m-%d %H:%M:%S")
    cases = write_csv(tmp_path / "cases.csv", [case_row("WALL-001", received_at=received, promised_reply_at="")])
    assert import_files(cases, url=url).ok
    add_user(url)
    with streamlit_server(url, {"COMPLAINTS_BOARD_REFRESH": "3", "COMPLAINTS_DEMO_CASES": "0"}) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        sign_in(page, base)  # the board is a team lead's landing page
        expect(page.get_by_role("heading", name="实时督办看板")).to_be_visible()
        # The grid paints on a canvas; its cells are mirrored in an accessible (visually hidden) table.
        expect(page.locator("[role=gridcell]", has_text="WALL-001")).to_have_count(1, timeout=30000)
        expect(page.locator("[data-testid=stMetric]", has_text="即将超时")).to_contain_text("1")
        page.evaluate("window.__notReloaded = true")
        contact_time = (clock.now().astimezone(sh) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
        contacts = write_csv(tmp_path / "contacts.csv", [contact_row("WALL-001", contact_time)])
        assert import_files(None, contacts, url=url).contacts_added == 1
        expect(page.get_by_text("没有即将超时或已超时的待办。")).to_be_visible(timeout=30000)
        expect(page.locator("[role=gridcell]", has_text="WALL-001")).to_have_count(0)
        expect(page.locator("[data-testid=stMetric]", has_text="即将超时")).to_contain_text("0")
        assert page.evaluate("window.__notReloaded === true")
        page.close()


def test_inspector_draws_a_sample_assesses_a_case_and_sees_the_handler_score(server, browser, tmp_path):
    """6.3 end to end: draw a sample, score one case (engine verdicts pre-filled), see the handler's result."""
    from db.inspection import assessment_rows

    base, _case_no, url = server
    add_user(url, "insp", role="inspector", name="质检员小周")
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    sign_in(page, base, "insp")
    page.get_by_role("link", name="质检结果").click()
    wait_idle(page)
    expect(page.locator("[data-testid=stMetric]", has_text="已质检件数")).to_contain_text("0")
    page.get_by_role("link", name="抽检计划").click()
    wait_idle(page)
    page.get_by_label("抽取件数").fill("3")
    page.get_by_label("抽取件数").press("Enter")
    wait_idle(page)
    page.locator("[data-testid=stMultiSelect]", has_text="分派给质检员").click()
    page.get_by_role("option", name="质检员小周").click()  # colleagues by name, not by account
    page.keyboard.press("Escape")
    wait_idle(page)
    page.get_by_role("button", name="抽取并保存").click()
    wait_idle(page)
    page.get_by_role("button", name="确认").click()  # a bulk action asks first
    wait_idle(page)
    expect(page.get_by_text("已保存抽检计划")).to_be_visible()
    page.get_by_role("link", name="质检评分").click()
    wait_idle(page)
    expect(page.get_by_text("规则引擎判定：").first).to_be_visible()
    for group in page.locator("[data-testid=stRadio]").all():  # judge what the engine left open as passed
        if group.locator("input:checked").count() == 0:
            group.get_by_text("符合", exact=True).click()
            wait_idle(page)
    page.get_by_role("button", name="保存评分").click()
    wait_idle(page)
    expect(page.get_by_text("评分已保存").first).to_be_visible()
    with session_scope(url) as s:
        scored = assessment_rows(s)
    assert len(scored) == 1
    page.get_by_role("link", name="质检结果").click()
    wait_idle(page)
    expect(page.locator("[data-testid=stMetric]", has_text="已质检件数")).to_contain_text("1")
    expect(page.locator("[role=gridcell]", has_text=scored.loc[0, "handler"]).first).to_have_count(1)
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=str(tmp_path / "quality.png"), full_page=True)
    page.close()


def test_trainer_searches_the_library_in_chinese_opens_a_case_and_exports_a_pack(server, browser, tmp_path):
    """6.2/10.1.2 end to end: a Chinese query, the case's story, a Word pack without personal data."""
    from docx import Document

    from db.library import LibraryFilters, search_library

    base, _case_no, url = server
    add_user(url, "trainer1", role="trainer")
    with session_scope(url) as s:
        entry = next(e for e in search_library(s, LibraryFilters()) if e["subcategory"])
        customer = s.execute(select(Case.customer_name, Case.customer_phone).where(Case.case_no == entry["case_no"])).one()
    page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    sign_in(page, base, "trainer1")  # the library is a trainer's landing page
    expect(page.get_by_role("heading", name="典型案例库")).to_be_visible()
    page.get_by_role("textbox", name="全文检索").fill(entry["subcategory"])
    page.get_by_role("textbox", name="全文检索").press("Enter")
    wait_idle(page)
    expect(page.get_by_text("按相关度排序")).to_be_visible()
    # the ranked list replaces the unranked one; until the run ends both may be on screen
    opener = page.locator(f".st-key-lib_open_{entry['case_no']} button")
    expect(opener).to_have_count(1)
    wait_idle(page)
    opener.click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="处理经过（按附录A流程）")).to_be_visible()
    page.get_by_role("button", name="加入培训包").click()
    wait_idle(page)
    page.get_by_role("button", name="返回案例列表").click()
    wait_idle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 Word 讲义").click()
    path = tmp_path / "pack.docx"
    download.value.save_as(path)
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert entry["case_no"] in text and "处理经过" in text
    assert customer.customer_phone not in text and customer.customer_name not in text
    assert page.locator("[data-testid=stException]").count() == 0
    page.close()


def test_an_unattended_auto_refreshing_board_still_signs_out(tmp_path, browser):
    """#12 item 7: the board's automatic refresh is not activity; after the idle limit the screen shows
    the login form by itself."""
    from db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'idle.sqlite3'}"
    upgrade(url)
    add_user(url)
    env = {"COMPLAINTS_BOARD_REFRESH": "2", "COMPLAINTS_SESSION_MINUTES": "0.1"}  # 6 s idle limit
    with streamlit_server(url, env) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        sign_in(page, base)
        expect(page.get_by_role("heading", name="实时督办看板")).to_be_visible()
        # no input from here on: only the board's own refreshes run
        expect(page.get_by_role("textbox", name="密码")).to_be_visible(timeout=30000)
        expect(page.get_by_text("长时间未操作")).to_be_visible()
        assert page.locator("[data-testid=stException]").count() == 0
        page.close()


def test_one_click_on_the_queue_opens_the_most_urgent_case_in_the_same_session(server, browser):
    """#13 item 2: a row of the act-now queue opens its case here, signed in, without a new tab."""
    base, _case_no, url = server
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    sign_in(page, base)
    expect(page.get_by_role("heading", name="实时督办看板")).to_be_visible()
    grid = page.locator(".st-key-board_queue")
    # the grid paints on a canvas; its cells are mirrored in a visually hidden table
    expect(grid.locator("[role=gridcell]").first).to_be_attached(timeout=30000)
    link = grid.locator("[role=gridcell]").first.inner_text()
    case_no = link.split("case=", 1)[1]
    grid.locator("[data-testid=stDataFrameResizable]").click(position={"x": 14, "y": 54})  # row 1's selector
    wait_idle(page)
    expect(page.get_by_role("heading", name="工单详情")).to_be_visible(timeout=30000)
    assert "case=" + case_no in page.url
    expect(page.get_by_text(case_no).first).to_be_visible()
    assert page.get_by_role("textbox", name="密码").count() == 0
    page.close()


def test_a_reload_keeps_the_sign_in_and_the_language_and_a_shared_link_opens_the_case(server, browser):
    """#13 item 3: the sign-in survives a reload and a new tab; a signed-out colleague signs in and lands
    on the shared case; the language is the user's own preference."""
    base, case_no, url = server
    add_user(url, "lead2")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    sign_in(page, base, "lead2")
    expect(page.get_by_role("heading", name="实时督办看板")).to_be_visible()
    page.get_by_text("English").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Live SLA board")).to_be_visible()
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Live SLA board")).to_be_visible(timeout=30000)
    assert page.get_by_role("textbox", name="Password").count() == 0
    # a new tab of the same browser opens a shared link straight on the case
    tab = context.new_page()
    tab.goto(f"{base}/case?case={case_no}")
    wait_idle(tab)
    expect(tab.get_by_role("heading", name="Case detail")).to_be_visible(timeout=30000)
    expect(tab.get_by_text(case_no).first).to_be_visible()
    context.close()
    # a colleague who is not signed in gets the login form, then the case
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = other.new_page()
    page.goto(f"{base}/case?case={case_no}")
    wait_idle(page)
    page.get_by_role("textbox", name="用户名").fill("lead")
    page.get_by_role("textbox", name="密码").fill("browser-test-pw")
    page.get_by_role("button", name="登录").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="工单详情")).to_be_visible(timeout=30000)
    expect(page.get_by_text(case_no).first).to_be_visible()
    assert page.locator("[data-testid=stException]").count() == 0
    other.close()


def test_a_handler_answers_a_notice_and_the_team_lead_sees_the_answer(server, browser):
    """#13 item 4 end to end: a team lead sends a 督办 notice from the case page; the handler signs in to
    我的待办, sees it and answers; the team lead sees the answer on the case."""
    base, case_no, url = server
    from db.models import Handler

    with session_scope(url) as s:
        handler = s.scalar(select(Handler.name).join(Case, Case.handler_id == Handler.id).where(Case.case_no == case_no))
    add_user(url, "lead3")
    add_user(url, "handler1", role="handler", handler=handler)
    lead = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    sign_in(lead, base, "lead3")
    lead.goto(f"{base}/case?case={case_no}")
    wait_idle(lead)
    lead.get_by_text("督办 · " + handler).click()
    wait_idle(lead)
    lead.get_by_role("textbox", name="督办内容").fill("客户第二次来电，请今天内回复处理结果")
    lead.get_by_role("button", name="发出督办").click()
    wait_idle(lead)
    expect(lead.get_by_text("已向处理人").first).to_be_visible(timeout=30000)
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    sign_in(page, base, "handler1")
    expect(page.get_by_role("heading", name="我的待办")).to_be_visible(timeout=30000)
    expect(page.get_by_text("客户第二次来电，请今天内回复处理结果")).to_be_visible(timeout=30000)
    page.get_by_role("button", name="已阅").click()
    wait_idle(page)
    page.get_by_role("textbox", name="答复：已采取的措施").fill("已致电客户说明处理结果，客户认可")
    page.get_by_role("button", name="提交答复").click()
    wait_idle(page)
    expect(page.get_by_text("答复已提交").first).to_be_visible(timeout=30000)
    lead.reload()
    wait_idle(lead)
    expect(lead.get_by_text("已致电客户说明处理结果，客户认可")).to_be_visible(timeout=30000)
    assert lead.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stException]").count() == 0


def test_replaying_a_past_instant_shows_a_deadline_fulfilled_since(tmp_path, browser):
    """#13 item 1: with the sidebar set to a past instant the board shows what was overdue then, including
    a final result given only afterwards, under a replay banner."""
    from db.importer import import_files
    from db.migrate import upgrade
    from tests.helpers import case_row, contact_row, write_csv

    url = f"sqlite:///{tmp_path / 'replay.sqlite3'}"
    upgrade(url)
    cases = write_csv(tmp_path / "c.csv", [case_row("REPLAY-1", received_at="2026-11-23 04:32", promised_reply_at="")])
    contacts = write_csv(tmp_path / "k.csv", [contact_row("REPLAY-1", "2026-11-23 05:00", "first"),
                                              contact_row("REPLAY-1", "2026-11-26 19:24", "final")])
    assert import_files(cases, contacts, url=url).ok
    add_user(url)
    with streamlit_server(url) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        sign_in(page, base)
        expect(page.get_by_text("没有即将超时或已超时的待办。")).to_be_visible(timeout=30000)
        page.locator("[data-testid=stSidebar] [data-testid=stCheckbox]", has_text="实时").click()
        wait_idle(page)
        day = page.locator("[data-testid=stSidebar] [data-testid=stDateInput] [role=spinbutton]")
        for i, value in enumerate(("2026", "11", "25")):  # year, month, day segments
            day.nth(i).click()
            page.keyboard.type(value)
        page.keyboard.press("Tab")
        wait_idle(page)
        segments = page.locator("[data-testid=stSidebar] [data-testid=stTimeInput] [role=spinbutton]")
        segments.nth(0).click()
        page.keyboard.type("10")
        segments.nth(1).click()
        page.keyboard.type("00")
        page.keyboard.press("Tab")
        wait_idle(page)
        expect(page.get_by_text("回放：2026-11-25 10:00 时的情况")).to_be_visible(timeout=30000)
        grid = page.locator(".st-key-board_queue")
        expect(grid.locator("[role=gridcell]", has_text="REPLAY-1").first).to_be_attached(timeout=30000)
        assert page.locator("[data-testid=stException]").count() == 0
        page.close()


def test_a_handler_disputes_an_item_the_inspector_accepts_and_her_result_changes(server, browser):
    """#19 item 1 end to end in Chromium: an assessment with a failed item; the handler disputes it on 我的质检,
    the inspector accepts it on 质检申诉, and the handler sees the new score."""
    from db.inspection import assignments, create_plan, ensure_default_scorecard, save_assessment
    from db.models import Assessment, Handler
    from domain.sampling import Method
    from tests.test_inspection import YEAR, verdicts_for

    base, _case_no, url = server
    with session_scope(url) as s:
        card = ensure_default_scorecard(s)
        plan_id, _n = create_plan(s, "申诉演示", "regular", Method("random", size=1), YEAR, 3, ["insp9"], card,
                                  "insp9", clock.now())
        item_id = assignments(s, plan_id=plan_id)[0]["id"]
    _item, verdicts, engine = verdicts_for(url, item_id, clock.now())
    verdicts = {**{k: "pass" for k in verdicts}, "communication": "fail"}
    reasons = {k: "复核改判" for k, v in engine.items() if v is not None and v != verdicts[k]}
    with session_scope(url) as s:
        save_assessment(s, item_id, 0, verdicts, engine, {}, reasons, {"communication": "语气生硬"}, "", "insp9")
    with session_scope(url) as s:
        a = s.scalar(select(Assessment).where(Assessment.sample_item_id == item_id))
        before, handler = a.score, s.scalar(select(Handler.name).where(Handler.id == a.handler_id))
    add_user(url, "h9", role="handler", handler=handler)
    add_user(url, "insp9", role="inspector")
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    sign_in(page, base, "h9")
    page.get_by_role("link", name="我的质检").click()
    wait_idle(page)
    expect(page.get_by_text("语气生硬").first).to_be_visible(timeout=30000)
    page.locator("[data-testid=stTextInput] input").first.fill("录音显示已按规范致歉")
    page.get_by_role("button", name="提交申诉").click()
    wait_idle(page)
    expect(page.get_by_text("申诉已提交").first).to_be_visible(timeout=30000)
    inspector = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    sign_in(inspector, base, "insp9")
    inspector.get_by_role("link", name="质检申诉").click()
    wait_idle(inspector)
    expect(inspector.get_by_text("录音显示已按规范致歉")).to_be_visible(timeout=30000)
    inspector.get_by_role("button", name="采纳并改判").click()
    wait_idle(inspector)
    expect(inspector.get_by_text("申诉已采纳").first).to_be_visible(timeout=30000)
    page.reload()
    wait_idle(page)
    page.get_by_role("link", name="我的质检").click()
    wait_idle(page)
    with session_scope(url) as s:
        after = s.get(Assessment, a.id).score
    assert after > before
    expect(page.get_by_text(f"得分 {after:g}").first).to_be_visible(timeout=30000)
    assert page.locator("[data-testid=stException]").count() == 0
    assert inspector.locator("[data-testid=stException]").count() == 0


# ------------------------------------------------------------ #18 item 4: narrow windows and the wall display

def _not_cut(locator) -> bool:
    """The element's text fits its box (no ellipsis, no clipping)."""
    return locator.evaluate("e => e.scrollWidth <= e.clientWidth + 1 && !e.innerText.trim().endsWith('…')")


@pytest.mark.parametrize("width", [800, 1400])
def test_the_board_reads_whole_at_800_and_1400_px(server, browser, tmp_path, width):
    base, _case_no, _url = server
    page = browser.new_page(viewport={"width": width, "height": 1000})
    sign_in(page, base)
    expect(page.get_by_role("heading", name="实时督办看板")).to_be_visible()
    # narrow: the sidebar starts closed (once per tab; the user may open it again); wide: open
    page.wait_for_function("document.querySelector('[data-testid=stSidebar]')?.getAttribute('data-collapsed') "
                           f"=== '{'true' if width < 1100 else 'false'}'", timeout=15000)
    tiles = page.locator("[data-testid=stMetric]")
    expect(tiles).to_have_count(7, timeout=30000)  # the tiles arrive one by one while the script runs
    for i in range(7):
        box = tiles.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (i, box)  # tiles wrap, none off-screen
        label = tiles.nth(i).locator("[data-testid=stMetricLabel]")
        assert _not_cut(label), label.inner_text()
    grid = page.locator(".st-key-board_queue")
    expect(grid.locator("[role=columnheader]").first).to_be_attached(timeout=30000)
    headers = [h.inner_text().strip() for h in grid.locator("[role=columnheader]").all()]
    assert headers[:4] == ["工单号", "剩余/超时", "规则", "处理人"], headers  # first, and the case number pinned
    assert grid.bounding_box()["width"] >= 0.8 * (width - (0 if width < 1100 else 300)) - 100
    for button in page.locator("[data-testid=stDownloadButton] button").all():
        assert _not_cut(button), button.inner_text()  # not "导出…"
    chart = page.locator(".stVegaLiteChart").first
    chart.scroll_into_view_if_needed()
    assert chart.bounding_box()["width"] >= 300  # never the 30 px sliver
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=str(tmp_path / f"board_{width}.png"), full_page=True)
    page.close()


def test_the_case_timeline_is_large_with_numeric_local_axes_at_800_px(server, browser, tmp_path):
    base, case_no, _url = server
    page = browser.new_page(viewport={"width": 800, "height": 1000})
    sign_in(page, base)
    page.goto(f"{base}/case?case={case_no}")
    wait_idle(page)
    expect(page.get_by_role("heading", name="工单详情")).to_be_visible()
    chart = page.locator(".stVegaLiteChart").first
    chart.scroll_into_view_if_needed()
    expect(chart.locator("svg")).to_be_visible(timeout=30000)
    box = chart.bounding_box()
    assert box["width"] >= 600 and box["height"] >= 250, box  # full width when narrow, not its legend only
    labels = chart.locator("svg text").evaluate_all("nodes => nodes.map(n => n.textContent)")
    assert labels and not [x for x in labels if re.search(r"[A-Za-z]{3,}", x)], labels  # no "Nov", "Mon"
    page.screenshot(path=str(tmp_path / "timeline_800.png"), full_page=True)
    page.close()


def test_the_wall_display_fills_1920_by_1080_in_large_type_without_the_sidebar(server, browser, tmp_path):
    base, _case_no, _url = server
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    sign_in(page, base)
    page.goto(f"{base}/?screen=wall")  # the board is a team lead's first page; its own link is relative
    wait_idle(page)
    expect(page.get_by_role("heading", name="实时督办看板")).to_be_visible()
    expect(page.locator("[data-testid=stSidebar]")).to_be_hidden()
    tiles = page.locator("[data-testid=stMetric]")
    expect(tiles).to_have_count(6, timeout=30000)
    for i in range(6):
        box = tiles.nth(i).bounding_box()
        assert box["y"] + box["height"] <= 1080 and box["x"] + box["width"] <= 1920  # all on the first screen
        value = tiles.nth(i).locator("[data-testid=stMetricValue]")
        assert float(value.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 60  # ~ 5 m away
        assert _not_cut(tiles.nth(i).locator("[data-testid=stMetricLabel]"))
    table = page.locator("[data-testid=stTable] table")
    expect(table).to_be_visible()
    cell = table.locator("td").first
    assert float(cell.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 24
    assert 1 <= table.locator("tbody tr").count() <= 12
    assert page.locator("[data-testid=stDataFrame]").count() == 0  # nothing to scroll or click on a wall
    assert page.get_by_role("dialog").count() == 0
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=str(tmp_path / "wall_1920.png"))
    page.close()


ALLOWED_ON_SCREEN = {"MB", "CSV", "XLSX", "Excel", "PDF", "Word", "GBK", "UTF", "JSON", "UTC", "English", "SLA", "DB",
                     "cron", "manage", "py", "alerts", "loop", "streamlit", "secrets", "toml", "COMPLAINTS", "CONFIG"}


@pytest.mark.parametrize("path", ["/", "/import", "/case", "/sampling", "/alerts", "/library"])
def test_what_chromium_shows_in_chinese_has_no_english_outside_the_allow_list(server, browser, path):
    """The text as the browser lays it out, Streamlit's own widgets included. Icon ligatures (spans whose
    text is an icon name) and the visually hidden 'Skip to main content' link are not read by anyone."""
    base, case_no, url = server
    from db.session import session_scope as scope
    from db.users import create_user
    with scope(url) as s:
        if not s.scalar(select(User.id).where(User.username == "scan-admin")):
            create_user(s, "scan-admin", "扫描管理员", "admin", "browser-test-pw", actor="test")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, base, "scan-admin")
    page.goto(base + path + (f"?case={case_no}" if path == "/case" else ""))
    wait_idle(page)
    page.wait_for_timeout(800)
    text = page.evaluate("""() => {
        const skip = new Set(Array.from(document.querySelectorAll('[data-testid=stIconMaterial], .material-symbols-rounded,'
            + ' [data-testid=stSkipLink], a[href="#main"]')));
        const out = [];
        const walk = (node) => {
            if (node.nodeType === 3) { out.push(node.textContent); return; }
            if (node.nodeType !== 1 || skip.has(node)) return;
            const style = getComputedStyle(node);
            if (style.display === 'none' || style.visibility === 'hidden') return;
            if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEXTAREA'].includes(node.tagName)) return;  // not user text
            if (parseFloat(style.fontSize) === 0) return;  // a relabelled built-in (see ui/layout.py)
            if (node.getAttribute('role') === 'grid') return;  // the canvas grid's hidden mirror; AppTest reads it
            node.childNodes.forEach(walk);
        };
        walk(document.body);
        return out.join(' ');
    }""")
    words = set(re.findall(r"(?<![A-Za-z0-9_/.-])[A-Za-z]{2,}(?![A-Za-z0-9_])", text))
    leftover = sorted(words - ALLOWED_ON_SCREEN - {"Skip", "to", "main", "content"})
    assert leftover == [], leftover
    page.close()


def test_a_blind_calibration_session_hides_answers_until_the_lead_closes_it(server, browser):
    """#19 item 2: a participant sees only her own answers and progress; once the lead closes the session
    everyone sees the agreement figures and the items to discuss."""
    from datetime import timedelta

    from db.inspection import Population, create_plan, ensure_default_scorecard, load_item, save_assessment
    from db.queries import case_obligations, case_record
    from domain.sampling import Method
    from domain.scorecard import form_items
    from rules.applies import applicable_checks
    from services.views import flag_detail

    base, _case_no, url = server
    add_user(url, "cal-lead", role="inspector", name="校准主持人")
    add_user(url, "cal-b", role="inspector", name="校准参与人")
    now = clock.now()
    with session_scope(url) as s:
        card = ensure_default_scorecard(s)
        plan_id, _n = create_plan(s, "浏览器校准", "calibration", Method("random", size=2),
                                  Population(start=now - timedelta(days=400), end=now), 3, ["cal-lead", "cal-b"], card,
                                  "cal-lead", now)
        from db.inspection import assignments
        items = assignments(s, plan_id=plan_id)
    for it in items:
        with session_scope(url) as s:
            item = load_item(s, it["id"])
            rows = form_items(item["scorecard"]["items"], case_obligations(s, item["case_id"], now), None,
                              lambda o: flag_detail(o, now), "zh", applicable_checks(case_record(s, item["case_no"]), now))
            engine = {r["key"]: r["engine"] for r in rows}
            verdicts = {k: v or "pass" for k, v in engine.items()}
            if it["assignee"] == "cal-b":
                verdicts["communication"] = "fail"
            save_assessment(s, it["id"], 0, verdicts, engine, {}, {}, {}, "", it["assignee"], now)
    participant = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(participant, base, "cal-b")
    participant.goto(f"{base}/calibration")
    wait_idle(participant)
    expect(participant.get_by_text("校准会结束前，每位质检员只能看到自己的评定").first).to_be_visible()
    expect(participant.get_by_text("评定一致性 α（名义）")).to_have_count(0)
    lead = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(lead, base, "cal-lead")
    lead.goto(f"{base}/calibration")
    wait_idle(lead)
    lead.get_by_role("button", name="结束校准会并公布答案").click()
    wait_idle(lead)
    lead.get_by_role("button", name="确认").click()
    wait_idle(lead)
    expect(lead.get_by_text("评定一致性 α（名义）")).to_be_visible(timeout=30000)
    participant.reload()
    wait_idle(participant)
    expect(participant.get_by_text("已结束").first).to_be_visible(timeout=30000)
    expect(participant.get_by_text("需讨论的评分项")).to_be_visible()
    assert participant.locator("[data-testid=stException]").count() == 0
    participant.close()
    lead.close()


def test_a_team_lead_maps_an_unknown_export_saves_the_profile_dry_runs_and_imports_it(server, browser, tmp_path):
    """#21: an export of another work-order system, mapped by the assistant, then imported by the profile's name."""
    from pathlib import Path

    from db.profiles import get_profile

    base, _case_no, url = server
    export = Path(__file__).resolve().parent / "data" / "foreign" / "province" / "工单导出.csv"
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    sign_in(page, base)
    page.get_by_role("link", name="导入方案").click()
    wait_idle(page)
    page.locator("[data-testid=stFileUploader]", has_text="导出样本（工单）").locator("input[type=file]") \
        .set_input_files(str(export))
    wait_idle(page)
    expect(page.get_by_text("共 48 行、26 列")).to_be_visible()  # header found on line 3 below the title lines
    expect(page.get_by_text("前几行都能读取。")).to_be_visible()
    page.get_by_role("textbox", name="方案名称").fill("省客服系统")
    page.get_by_role("textbox", name="方案名称").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="保存方案").click()
    wait_idle(page)
    expect(page.get_by_text("导入方案“省客服系统”已保存为第 1 版").first).to_be_visible()
    with session_scope(url) as s:
        assert get_profile(s, "省客服系统").profile.cases.header_row == 3
    page.get_by_role("link", name="数据导入").click()
    wait_idle(page)
    page.locator("[data-testid=stSelectbox]", has_text="导入方案").click()
    page.get_by_role("option", name="省客服系统").click()
    wait_idle(page)
    page.locator("[data-testid=stFileUploader]", has_text="工单文件").locator("input[type=file]") \
        .set_input_files(str(export))
    wait_idle(page)
    page.get_by_role("button", name="预演（不写入）").click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"预演结果（未写入任何数据）：新增 48 件"))).to_be_visible()
    with session_scope(url) as s:
        assert s.scalar(select(Case.id).where(Case.case_no == "TZ-2026-000001")) is None
    page.get_by_role("button", name="开始导入").click()
    wait_idle(page)
    expect(page.get_by_text("导入完成：新增 48 件、更新 0 件工单；新增 72 条联系记录。")).to_be_visible()
    with session_scope(url) as s:
        assert s.scalar(select(Case.handler_id).where(Case.case_no == "TZ-2026-000001")) is not None
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=str(tmp_path / "profile-import.png"), full_page=True)
    page.close()


def test_a_manager_goes_from_a_cluster_to_a_new_problem_with_an_action(server, browser, tmp_path):
    """10.2 in Chromium: the manager lands on the clustered problem list, clusters the complaints, opens a
    cluster, registers it as a problem in one click, and gives the problem a corrective action with an owner;
    the problem counts the cluster's complaints and the action is stored."""
    from db.models import CaseCluster, Problem, ProblemAction, ProblemCase

    base, _case_no, url = server
    add_user(url, "manager1", role="manager", name="测试经理")
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    sign_in(page, base, "manager1")
    expect(page.get_by_role("heading", name="问题聚类")).to_be_visible()  # a manager's landing page
    page.get_by_role("button", name="重新聚类").click()
    wait_idle(page)
    expect(page.get_by_text("聚类完成").first).to_be_visible(timeout=60000)
    page.get_by_role("combobox", name="打开问题").click()
    page.get_by_role("option").first.click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="代表性投诉（已去除个人信息）")).to_be_visible()
    page.screenshot(path=str(tmp_path / "clusters.png"), full_page=True)
    page.get_by_role("button", name="登记到问题台账").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="问题台账")).to_be_visible()
    with session_scope(url) as s:
        problem = s.scalar(select(Problem))
        assert problem is not None and problem.scope_cluster_id is not None
        linked = set(s.scalars(select(ProblemCase.case_id).where(ProblemCase.problem_id == problem.id)))
        members = set(s.scalars(select(CaseCluster.case_id).where(CaseCluster.cluster_id == problem.scope_cluster_id)))
        assert linked and linked <= members
    expect(page.locator("h3", has_text=problem.title)).to_be_visible()
    expect(page.get_by_role("heading", name="整改措施", exact=True)).to_be_visible()
    page.get_by_label("责任人").fill("李组长")
    page.get_by_label("措施内容").fill("更换片区汇聚交换机")
    page.get_by_label("措施类型").click()
    page.get_by_role("option", name="纠正措施").click()
    page.get_by_role("button", name="添加措施").click()
    wait_idle(page)
    expect(page.get_by_text("措施已添加。").first).to_be_visible()
    expect(page.locator("[role=gridcell]", has_text="更换片区汇聚交换机")).to_have_count(1, timeout=30000)
    with session_scope(url) as s:
        action = s.scalar(select(ProblemAction).where(ProblemAction.problem_id == problem.id))
        assert (action.kind, action.owner, action.text) == ("corrective", "李组长", "更换片区汇聚交换机")
    assert page.locator("[data-testid=stException]").count() == 0
    page.screenshot(path=str(tmp_path / "problems.png"), full_page=True)
    page.close()
