"""Every page, as every role, in both languages: nothing a user reads is an internal code, and the
Chinese UI has no English words (and the English UI no Chinese labels) outside short allow-lists.

Runs on the first-start demo database (the README's first command), so that every table, chart and
option list has content; pages are opened through the app's own navigation as a signed-in user.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import Case, Handler, Setting, Team, User
from db.session import dispose_engine, session_scope
from domain.notice import DEFAULTS as NOTICE_DEFAULTS
from domain.roles import ROLES, may_open
from services.bootstrap import ensure_database
from tests.apptest import APP, session_user
from tests.uiscan import findings, visible
from ui.menu import PAGES

from streamlit.testing.v1 import AppTest

DEMO_USERS = {"team_lead": "lead", "inspector": "inspector", "trainer": "trainer", "manager": "manager",
              "admin": "admin", "handler": "handler"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    url = f"sqlite:///{tmp_path_factory.mktemp('scan') / 'demo.sqlite3'}"
    mp.setenv("COMPLAINTS_DB_URL", url)
    ensure_database(url, demo_cases=800, demo=True)
    with session_scope(url) as s:
        case_no = s.scalar(select(Case.case_no).where(Case.closed_at.is_not(None)).order_by(Case.id).limit(1))
        accounts = set(s.scalars(select(User.username)))
        # what the demo data itself holds in Chinese: names, teams, subcategories, the notice's letterhead
        data = (set(s.scalars(select(User.display_name))) | set(s.scalars(select(Handler.name)))
                | set(s.scalars(select(Team.name))) | set(s.scalars(select(Case.subcategory).distinct()))
                | {v for v in s.scalars(select(Setting.value)) if v and len(v) < 60}
                | {v for v in NOTICE_DEFAULTS.values() if v})  # the public notice is a Chinese document
    yield url, case_no, accounts, data
    mp.undo()
    dispose_engine(url)


def scan(role: str, lang: str, case_no: str, accounts: set[str], data: set[str]) -> tuple[list[str], int]:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["auth_user"] = session_user(role, DEMO_USERS[role])
    at.session_state["app_lang"] = lang
    at.run()
    assert not at.exception, at.exception
    found, opened = [], 0
    for _section, key, path, _title, _icon in PAGES:
        if not may_open(role, key):
            continue
        if key == "detail":
            at.query_params["case"] = case_no
        at.switch_page(path)
        at.run()
        assert not at.exception, (key, at.exception)
        seen = visible(at)
        assert len(seen) >= 2, f"{key}: the scan read almost nothing"
        opened += 1
        # account names are what the users and audit pages are about; a card's other-language titles are
        # edited side by side on the scorecard editor
        allowed = (accounts if key in ("users", "audit") else set()) | (data if lang == "en" else set())
        if key == "library":
            allowed |= {"信号弱 基站"}  # the search hint's example words: the case texts are Chinese
        free = {"名称（英文）", "Title (Chinese)"} if key == "scorecards" else set()
        found += [f"{key}: {line}" for line in findings(seen, lang, allowed, free)]
    return found, opened


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_no_page_shows_codes_or_the_other_language(demo, role, lang):
    _url, case_no, accounts, data = demo
    found, opened = scan(role, lang, case_no, accounts, data)
    assert opened == sum(may_open(role, key) for _s, key, *_ in PAGES)
    assert found == [], "\n".join(found)


def test_the_scan_finds_what_it_is_meant_to_find():
    """The detector itself: each kind of leftover is caught, and ordinary content is not."""
    from tests.uiscan import Seen

    bad = findings([Seen("cell", "SLA-FIRST-CONTACT 24小时内首次联系客户"), Seen("cell", "None"),
                    Seen("column", "username"), Seen("option", "face_to_face"), Seen("tooltip", "event"),
                    Seen("cell", "NaT")], "zh")
    assert len(bad) == 6
    assert findings([Seen("title", "Live SLA board"), Seen("label", "处理人")], "en") == ["label: '处理人' (Chinese)"]
    assert findings([Seen("cell", "TZ20261129010000001"), Seen("caption", "导出 `manage.py export` 的 CSV"),
                     Seen("cell", "138****5678"), Seen("cell", "张伟", "处理人")], "zh") == []
