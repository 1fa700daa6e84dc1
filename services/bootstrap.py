"""First start: create the schema and, on an empty embedded database, demo data."""
from __future__ import annotations

import os

from sqlalchemy import func, select

from db.migrate import is_initialised, upgrade
from db.models import Case
from db.session import session_scope

ENV_DEMO = "COMPLAINTS_DEMO_CASES"


def ensure_database(url: str | None = None, demo_cases: int | None = None) -> bool:
    """Upgrade the schema; seed demo cases when the database has none. Returns True if it seeded."""
    fresh = not is_initialised(url)
    upgrade(url)
    if demo_cases is None:
        demo_cases = int(os.environ.get(ENV_DEMO, "5000"))
    if demo_cases <= 0:
        return False
    with session_scope(url) as session:
        empty = not session.scalar(select(func.count()).select_from(Case))
    if fresh or empty:
        from services.demo import seed_demo_quality
        from db.models import Setting
        from db.seed import seed
        from db.users import create_demo_accounts

        seed(demo_cases, 1, url=url)
        with session_scope(url) as session:
            create_demo_accounts(session)
            session.merge(Setting(key="demo_accounts", value="1"))
            seed_demo_quality(session)
        return True
    return False


def demo_accounts_enabled(url: str | None = None) -> bool:
    from db.models import Setting

    with session_scope(url) as session:
        return session.get(Setting, "demo_accounts") is not None
