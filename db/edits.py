"""Edits made in the app. Each is one transaction: the change, its audit row and the re-evaluation of the
case; and each checks the case's version so that a second writer working from an outdated page is told
instead of silently overwriting (an import, or a colleague, may have changed the case meanwhile)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.audit import record
from db.bulk import insert_rows
from db.models import Case, Contact
from db.obligations import reevaluate
from domain import clock
from domain.i18n import Said


class EditRefused(ValueError):
    """The edit was not made; the message says why."""


class StaleEdit(EditRefused):
    """The case changed after the editor loaded it."""


def add_contact(session: Session, case_no: str, expected_version: int, contact_at: datetime, kind: str,
                channel: str | None, note: str | None, actor: str, now: datetime | None = None) -> None:
    now = now or clock.now_precise()
    case = session.execute(select(Case.id, Case.version, Case.received_at).where(Case.case_no == case_no)).first()
    if case is None:
        raise EditRefused(Said("err.edits.1", case_no=case_no))
    if case.version != expected_version:
        raise StaleEdit(Said("err.edits.2", case_no=case_no, version=case.version, version2=expected_version))
    if contact_at < case.received_at:
        raise EditRefused(Said("err.edits.3"))
    if contact_at > now + timedelta(minutes=5):
        raise EditRefused(Said("err.edits.4"))
    exists = session.scalar(select(func.count()).select_from(Contact).where(
        Contact.case_id == case.id, Contact.contact_at == contact_at, Contact.kind == kind))
    if exists:
        raise EditRefused(Said("err.edits.5"))
    # The version check and the bump are one statement, so two writers cannot both pass the check.
    bumped = session.execute(update(Case).where(Case.id == case.id, Case.version == expected_version)
                             .values(version=Case.version + 1, updated_at=now)
                             .execution_options(synchronize_session=False))
    if bumped.rowcount != 1:
        raise StaleEdit(Said("err.edits.6", case_no=case_no))
    insert_rows(session, Contact.__table__, [{"case_id": case.id, "contact_at": contact_at, "kind": kind,
                                              "channel": channel, "note": note or None}])
    record(session, actor, "add_contact", "case", case_no, None,
           {"contact_at": contact_at, "kind": kind, "channel": channel, "note": note})
    reevaluate(session, [case.id], now)
