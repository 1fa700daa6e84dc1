"""The public notice's settings (admin), stored in the settings table, audited."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from db.audit import record
from db.models import Setting
from domain.notice import DEFAULTS, clean
from domain.roles import require

KEY = "public_notice"


def load_notice(session: Session) -> dict[str, str]:
    row = session.get(Setting, KEY)
    stored = json.loads(row.value) if row is not None else {}
    return {**DEFAULTS, **{k: v for k, v in stored.items() if k in DEFAULTS}}


def save_notice(session: Session, values: dict[str, Any], actor: str, role: str | None) -> dict[str, str]:
    require(role, "edit_notice")
    before = load_notice(session)
    after = clean(values)
    session.merge(Setting(key=KEY, value=json.dumps(after, ensure_ascii=False)))
    record(session, actor, "edit_notice", "setting", KEY, before, after)
    return after
