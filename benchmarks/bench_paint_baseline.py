#!/usr/bin/env python3
"""What Streamlit itself costs on this machine: sign in to a minimal app and wait for one metric and one
three-row table, in headless Chromium (same flags as the product's browser tests).

    python benchmarks/bench_paint_baseline.py

The minimal app has a login form without password hashing, then a page with a title, a metric and a
dataframe. It is the floor under the product's own "first paint after sign-in" (bench_board_paint.py).
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser import CHROMIUM, FLAGS, free_port, wait_idle  # noqa: E402

MINIMAL = '''
import streamlit as st
def login():
    with st.form("f"):
        st.text_input("用户名", key="u")
        if st.form_submit_button("登录"):
            st.session_state["ok"] = True
            st.rerun()
def board():
    st.title("看板")
    st.metric("即将超时", 3)
    st.dataframe({"a": [1, 2, 3]})
if not st.session_state.get("ok"):
    st.navigation([st.Page(login, title="登录")]).run()
    st.stop()
with st.sidebar:
    st.toggle("实时")
st.navigation({"班组长": [st.Page(board, title="看板")], "其他": [st.Page(lambda: st.write("x"), title="规则", url_path="r")]}).run()
'''


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "app.py"
        app.write_text(MINIMAL, encoding="utf-8")
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
                                 "--server.address", "127.0.0.1", "--server.port", str(port),
                                 "--browser.gatherUsageStats", "false"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(base + "/_stcore/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.3)
            metric, table = [], []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                for _ in range(5):
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    page.goto(base + "/")
                    wait_idle(page)
                    start = time.perf_counter()
                    page.get_by_role("button", name="登录").click()
                    page.wait_for_selector("[data-testid=stMetric]", timeout=60000)
                    metric.append(time.perf_counter() - start)
                    page.wait_for_selector("[role=gridcell]", state="attached", timeout=60000)
                    table.append(time.perf_counter() - start)
                    page.close()
                browser.close()
        finally:
            proc.terminate()
    print(f"minimal Streamlit app, after sign-in: metric median {statistics.median(metric):.2f} s, "
          f"three-row table median {statistics.median(table):.2f} s (worst {max(table):.2f} s)")


if __name__ == "__main__":
    main()
