"""Starting the app as a real server and a headless Debian Chromium for the browser journeys."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(db_url: str, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "COMPLAINTS_DB_URL": db_url, **(extra_env or {})}
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("streamlit did not start: " + proc.stdout.read(4000).decode(errors="replace"))
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_idle(page, timeout: float = 60000) -> None:
    """Streamlit draws after `goto` returns: wait until the script has finished running."""
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)


PASSWORD = "browser-test-pw"


def add_user(url: str, username: str = "lead", role: str = "team_lead", handler: str | None = None,
             name: str = "测试班组长") -> None:
    from db.session import session_scope
    from db.users import create_user

    with session_scope(url) as s:
        create_user(s, username, name, role, PASSWORD, actor="test", handler=handler)


def sign_in(page, base: str, username: str = "lead") -> None:
    page.goto(base + "/")
    wait_idle(page)
    page.get_by_role("textbox", name="用户名").fill(username)
    page.get_by_role("textbox", name="密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    wait_idle(page)
    # the sign-in cookie is handed to the browser by a small component on the next run: wait for it, so
    # that a new tab or a goto right after signing in is already signed in
    for _ in range(100):
        if any(c["name"] == "tsdb_session" for c in page.context.cookies()):
            break
        page.wait_for_timeout(100)
