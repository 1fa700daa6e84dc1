"""Stored import profiles (#21): saved, versioned and audited.

    save_profile(session, profile, actor="wang", role="admin", note="回复时间 is a final contact")

Every save writes a new version (the previous ones stay readable and can be restored); a save names the
version it edited, and a save over someone else's newer version is refused rather than silently lost.
Team leads and administrators, who run imports, may save; deleting is for administrators. The audit
trail records who saved which version of which profile and what the change touched (fields, value maps,
times, contacts), not the whole document.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.audit import record
from db.models import ImportProfile, ImportProfileVersion
from domain import clock
from domain.i18n import Said
from domain.importprofile import Profile, ProfileError, from_dict, to_dict
from domain.roles import require

NOTE_MAX = 500


class ProfileRefused(ValueError):
    """A profile action that cannot be done (the message says why)."""


@dataclass(frozen=True)
class StoredProfile:
    profile: Profile
    version: int
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class ProfileVersion:
    version: int
    saved_by: str
    saved_at: datetime
    note: str
    profile: Profile


def _body(profile: Profile) -> str:
    return json.dumps(to_dict(profile), ensure_ascii=False, sort_keys=True)


def _load(body: str) -> Profile:
    return from_dict(json.loads(body))


def list_profiles(session: Session) -> list[StoredProfile]:
    rows = session.scalars(select(ImportProfile).order_by(ImportProfile.name)).all()
    return [StoredProfile(_load(r.body), r.version, r.updated_by, r.updated_at) for r in rows]


def get_profile(session: Session, name: str) -> StoredProfile:
    row = session.scalar(select(ImportProfile).where(ImportProfile.name == (name or "").strip()))
    if row is None:
        raise ProfileRefused(Said("err.profile.unknown", name=name))
    return StoredProfile(_load(row.body), row.version, row.updated_by, row.updated_at)


def versions(session: Session, name: str) -> list[ProfileVersion]:
    rows = session.scalars(select(ImportProfileVersion).where(ImportProfileVersion.profile_name == name)
                           .order_by(ImportProfileVersion.version.desc())).all()
    return [ProfileVersion(r.version, r.saved_by, r.saved_at, r.note, _load(r.body)) for r in rows]


def _what_changed(before: dict | None, after: dict) -> list[str]:
    if before is None:
        return ["created"]
    out = []
    for part in ("description", "times", "cases", "contacts"):
        if before.get(part) != after.get(part):
            if part in ("cases",) and isinstance(before.get(part), dict):
                out += [f"cases.{k}" for k in ("fields", "values", "separator", "encoding", "header_row", "sheet")
                        if before[part].get(k) != after[part].get(k)]
            else:
                out.append(part)
    return out or ["unchanged"]


def save_profile(session: Session, profile: Profile, *, actor: str, role: str | None, note: str = "",
                 expected_version: int | None = None, now: datetime | None = None) -> int:
    """Store the profile as a new version (creating it with version 1); returns the version saved.

    `expected_version` is the version the editor started from (None: a new profile); a name already
    taken by another profile, or a version saved by someone else meanwhile, is refused."""
    require(role, "edit_import_profile")
    now = now or clock.now_precise()
    if len(note or "") > NOTE_MAX:
        raise ProfileRefused(Said("err.profile.note_long", limit=NOTE_MAX))
    try:
        profile = from_dict(to_dict(profile))  # the stored document must read back as it is
    except ProfileError as exc:
        raise ProfileRefused(exc.said) from None
    row = session.scalar(select(ImportProfile).where(ImportProfile.name == profile.name).with_for_update())
    body = _body(profile)
    if row is None:
        if expected_version is not None:
            raise ProfileRefused(Said("err.profile.gone", name=profile.name))
        before = None
        version = (session.scalar(select(func.max(ImportProfileVersion.version))
                                  .where(ImportProfileVersion.profile_name == profile.name)) or 0) + 1
        row = ImportProfile(name=profile.name, body=body, version=version, updated_by=actor, updated_at=now)
        session.add(row)
    else:
        if expected_version is None:
            raise ProfileRefused(Said("err.profile.exists", name=profile.name))
        if row.version != expected_version:
            raise ProfileRefused(Said("err.profile.stale", name=profile.name, version=row.version,
                                      by=row.updated_by))
        before = json.loads(row.body)
        if row.body == body:
            return row.version  # nothing changed: no new version
        version = row.version + 1
        row.body, row.version, row.updated_by, row.updated_at = body, version, actor, now
    session.add(ImportProfileVersion(profile_name=profile.name, version=version, body=body, saved_by=actor,
                                     saved_at=now, note=(note or "").strip()))
    session.flush()
    record(session, actor, "profile_save", "import_profile", profile.name, None,
           {"version": version, "changed": _what_changed(before, json.loads(body)), "note": (note or "").strip()})
    return version


def restore_version(session: Session, name: str, version: int, *, actor: str, role: str | None,
                    expected_version: int, now: datetime | None = None) -> int:
    """Save an earlier version again as the newest one (the history keeps both)."""
    require(role, "edit_import_profile")
    old = next((v for v in versions(session, name) if v.version == version), None)
    if old is None:
        raise ProfileRefused(Said("err.profile.no_version", name=name, version=version))
    return save_profile(session, old.profile, actor=actor, role=role, note=f"↺ v{version}",
                        expected_version=expected_version, now=now)


def delete_profile(session: Session, name: str, *, actor: str, role: str | None) -> None:
    """Remove a profile from use; its versions stay for the audit trail."""
    require(role, "delete_import_profile")
    row = session.scalar(select(ImportProfile).where(ImportProfile.name == name))
    if row is None:
        raise ProfileRefused(Said("err.profile.unknown", name=name))
    version = row.version
    session.execute(delete(ImportProfile).where(ImportProfile.id == row.id))
    record(session, actor, "profile_delete", "import_profile", name, {"version": version}, None)
