"""First start: create or upgrade the schema, and fill a brand-new demo database.

Demo data and the demo accounts (with their public password) appear only on an explicit demo start: the
README's first command, which starts the app on the embedded default SQLite file, or any database when
`COMPLAINTS_DEMO=1` is set. In both cases the database must be brand new (no schema before this start).
A database that was initialised before (`manage.py init-db`, a production PostgreSQL), or any other URL
without the flag, never gets them, whether or not it holds cases. A demo database says so on every page.
"""
from __future__ import annotations

import os

from db.migrate import is_initialised, upgrade
from db.models import Setting
from db.session import session_scope
from domain.config import database_url, default_database_url

ENV_DEMO = "COMPLAINTS_DEMO"  # 1: demo start on a new database of any URL; 0: never
ENV_DEMO_CASES = "COMPLAINTS_DEMO_CASES"  # how many demo cases (0: a demo start with no cases at all)
DEMO_MARK = "demo_accounts"


def demo_wanted(url: str | None = None) -> bool:
    flag = os.environ.get(ENV_DEMO)
    if flag is not None and flag.strip() != "":
        return flag.strip().lower() in ("1", "true", "yes")
    return database_url(url) == default_database_url()


def ensure_database(url: str | None = None, demo_cases: int | None = None, demo: bool | None = None) -> bool:
    """Upgrade the schema; on a demo start of a brand-new database, add demo data. True if it did."""
    fresh = not is_initialised(url)
    upgrade(url)
    if not fresh or not (demo_wanted(url) if demo is None else demo):
        return False
    if demo_cases is None:
        demo_cases = int(os.environ.get(ENV_DEMO_CASES, "5000"))
    if demo_cases <= 0:
        return False
    from db.seed import seed
    from db.users import create_demo_accounts
    from services.demo import seed_demo_notice, seed_demo_quality

    seed(demo_cases, 1, url=url)
    with session_scope(url) as session:
        create_demo_accounts(session)
        session.merge(Setting(key=DEMO_MARK, value="1"))
        seed_demo_quality(session)
        seed_demo_notice(session)
    return True


def demo_accounts_enabled(url: str | None = None) -> bool:
    """Is this the demo database (demo accounts, generated cases)? Pages show a banner when it is."""
    with session_scope(url) as session:
        return session.get(Setting, DEMO_MARK) is not None
