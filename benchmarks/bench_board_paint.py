#!/usr/bin/env python3
"""First paint of the live board in headless Chromium, on a large database.

    python benchmarks/bench_board_paint.py --db sqlite:///data/bench-1m.sqlite3

Starts the app on the database (built by bench_scale.py), signs in as a team lead, and times, five times
each: (1) from clicking "sign in" until the board's tiles and act-now queue are on screen (first paint: the
board draws them before it queries the period statistics), and until the whole page has finished (the last
chart drawn); (2) the same from clicking the board in the menu (coming from another page). Each run is a
fresh browser context (nothing cached in the browser); the server's 5-second query cache is cold on the
first run after sign-in only.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser import CHROMIUM, FLAGS, PASSWORD, streamlit_server, wait_idle  # noqa: E402


def painted(page) -> None:
    """The tiles and the act-now queue's cells are on the page."""
    page.wait_for_selector("[data-testid=stMetric]", timeout=60000)
    page.wait_for_selector("[role=gridcell]", state="attached", timeout=60000)


def timed_board(page, click) -> tuple[float, float]:
    start = time.perf_counter()
    click()
    painted(page)
    first = time.perf_counter() - start
    wait_idle(page)
    return first, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite:///data/bench-1m.sqlite3")
    args = ap.parse_args()
    from sqlalchemy import func, select

    from db.models import Case, User
    from db.session import session_scope
    from db.users import create_user

    with session_scope(args.db) as s:
        cases = s.scalar(select(func.count()).select_from(Case))
        if s.scalar(select(User.id).where(User.username == "bench")) is None:
            create_user(s, "bench", "基准测试", "team_lead", PASSWORD, actor="benchmark")
    login, menu, login_done, menu_done = [], [], [], []
    with streamlit_server(args.db, {"COMPLAINTS_DEMO_CASES": "0"}) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for _ in range(5):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(base + "/")
            wait_idle(page)
            page.get_by_role("textbox", name="用户名").fill("bench")
            page.get_by_role("textbox", name="密码").fill(PASSWORD)
            first, done = timed_board(page, page.get_by_role("button", name="登录").click)
            login.append(first)
            login_done.append(done)
            page.get_by_role("link", name="督办规则").click()
            wait_idle(page)
            first, done = timed_board(page, page.get_by_role("link", name="实时督办看板").click)
            menu.append(first)
            menu_done.append(done)
            page.close()
        browser.close()
    print(f"database: {cases:,} cases")
    print(f"after sign-in: first paint (tiles + queue) median {statistics.median(login):.2f} s, worst "
          f"{max(login):.2f} s, first (cold) {login[0]:.2f} s; whole page median {statistics.median(login_done):.2f} s")
    print(f"from the menu: first paint (tiles + queue) median {statistics.median(menu):.2f} s, worst "
          f"{max(menu):.2f} s; whole page median {statistics.median(menu_done):.2f} s")


if __name__ == "__main__":
    main()
