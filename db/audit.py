"""The audit trail: one row per write, with who, when, what, and the values before and after."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db.models import AuditEntry


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def record(session: Session, actor: str, action: str, entity: str, key: str | None = None,
           before: Any = None, after: Any = None) -> None:
    """Append an entry inside the caller's transaction: it is kept exactly when the change itself is."""
    session.execute(insert(AuditEntry).values(actor=actor, action=action, entity=entity, entity_key=key,
                                              before=_json(before), after=_json(after)))


def search(session: Session, actor: str = "", action: str = "", key: str = "",
           since: datetime | None = None, until: datetime | None = None, limit: int = 500) -> list[dict[str, Any]]:
    q = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if actor:
        q = q.where(AuditEntry.actor.contains(actor, autoescape=True))
    if action:
        q = q.where(AuditEntry.action == action)
    if key:
        q = q.where(AuditEntry.entity_key.contains(key, autoescape=True))
    if since is not None:
        q = q.where(AuditEntry.at >= since)
    if until is not None:
        q = q.where(AuditEntry.at < until)
    return [{"at": e.at, "actor": e.actor, "action": e.action, "entity": e.entity, "key": e.entity_key,
             "before": e.before, "after": e.after} for e in session.scalars(q)]
