"""Main journeys in a real headless Chromium (Debian's package, driven by Playwright)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from db.models import Case
from db.seed import seed
from db.session import session_scope
from tests.browser import CHROMIUM, FLAGS, streamlit_server, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "complaints.sqlite3"
    url = f"sqlite:///{path}"
    from db.migrate import upgrade

    upgrade(url)
    seed(400, 4, datetime.now(timezone.utc), url)
    with session_scope(url) as s:
        case_no = s.scalar(select(Case.case_no).order_by(Case.received_at.desc()).limit(1))
    with streamlit_server(url) as base:
        yield base, case_no


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def test_search_a_case_and_open_its_detail(server, browser, tmp_path):
    base, case_no = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(base + "/")
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
