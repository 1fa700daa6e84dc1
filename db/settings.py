"""Changing rule thresholds: save the new values and re-evaluate every case in the same transaction."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from db.audit import record
from db.locks import exclusive
from db.obligations import reevaluate_all, save_thresholds, thresholds
from db.session import session_scope, settle_after_bulk
from rules.thresholds import Thresholds


def apply_thresholds(new: Thresholds, now: datetime | None = None, url: str | None = None,
                     progress: Callable[[int, int], None] | None = None, actor: str = "cli") -> int:
    """All or nothing: if the bulk re-evaluation fails half-way, the old thresholds and obligations stay."""
    with session_scope(url) as session:
        exclusive(session, "import")
        record(session, actor, "set_thresholds", "thresholds", None, thresholds(session).as_dict(), new.as_dict())
        save_thresholds(session, new)
        stored = reevaluate_all(session, now, new, progress=progress)
    settle_after_bulk(url)
    return stored
