"""What the command line (manage.py) runs: each function takes plain arguments and the database URL and
returns plain data, so that manage.py only parses arguments, prints and chooses exit codes.

Failures the user must read arrive as the exceptions named in `USER_ERRORS`; manage.py prints their
message and exits with 1, never a traceback.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select

from db.audit import ChainReport, verify_chain
from db.backup import BackupProblem
from db.backup import backup as _backup
from db.backup import restore as _restore
from db import profiles
from db.importer import ImportReport, import_files
from db.locks import Busy, exclusive
from db.migrate import upgrade
from db.models import Case
from db.obligations import load_cases, reevaluate_all, thresholds
from db.seed import seed as _seed
from db.session import DatabaseUnavailable, session_scope, settle_after_bulk
from db.users import create_user as _create_user
from domain import clock
from domain.importprofile import Profile, ProfileError, from_yaml, to_yaml
from domain.timeutil import utcnow
from rules.evaluate import evaluate, flags
from services.flags import finding_flag

Progress = Callable[[float, float], None]


class CommandRefused(ValueError):
    """Bad input the user must correct; the message names it."""


USER_ERRORS = (DatabaseUnavailable, Busy, BackupProblem, CommandRefused)


def database_refusal(exc: BaseException) -> str | None:
    """What the command line says when the database refused a statement (read-only file or replica, disk
    full, a value too long): the driver's own first line, never the SQL or its parameters, which carry
    handler names and case numbers. None for anything that is not the database's refusal."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    said = str(getattr(exc, "orig", "") or "").strip().splitlines()
    reason = said[0] if said else type(exc).__name__
    if "readonly" in reason.replace("-", "").replace(" ", "").lower():
        return f"the database is read-only, nothing was written ({reason})"
    return f"the database refused the change, nothing was written ({reason})"


def init_db(url: str | None) -> None:
    upgrade(url)


def seed_cases(url: str | None, cases: int, seed: int, now: datetime | None, progress: Progress | None = None
               ) -> tuple[int, int]:
    upgrade(url)
    return _seed(cases, seed, now, url, progress=progress)


def import_exports(url: str | None, cases_file: str, contacts_file: str | None, partial: bool,
                   progress: Callable[[str, float], None] | None = None, dry_run: bool = False,
                   profile: str | None = None) -> ImportReport:
    upgrade(url)
    chosen = load_profile(url, profile) if profile else None
    return import_files(cases_file, contacts_file, partial=partial, url=url, progress=progress, dry_run=dry_run,
                        profile=chosen)


def watch_folder(url: str | None, folder: str, partial: bool, log: Callable[[str], None] = lambda line: None,
                 settle: float = 5.0, profile: str | None = None):
    """One pass of the watched folder (services/watch.py)."""
    from services.watch import watch_once

    if not Path(folder).is_dir():
        raise CommandRefused(f"{folder}: no such folder")
    upgrade(url)
    chosen = load_profile(url, profile) if profile else None
    return watch_once(Path(folder), url, partial, log, settle, profile=chosen)


# ---- import profiles -------------------------------------------------------------------------------
# The command line is run by whoever holds the server's shell: it acts as an administrator, as `cli`.

def load_profile(url: str | None, name: str) -> Profile:
    with session_scope(url) as session:
        try:
            return profiles.get_profile(session, name).profile
        except profiles.ProfileRefused as exc:
            raise CommandRefused(str(exc)) from None


def list_profiles(url: str | None) -> list[profiles.StoredProfile]:
    upgrade(url)
    with session_scope(url) as session:
        return profiles.list_profiles(session)


def profile_yaml(url: str | None, name: str) -> str:
    upgrade(url)
    with session_scope(url) as session:
        try:
            stored = profiles.get_profile(session, name)
        except profiles.ProfileRefused as exc:
            raise CommandRefused(str(exc)) from None
    return to_yaml(stored.profile, stored.version)


def import_profile(url: str | None, path: str, note: str = "") -> tuple[str, int]:
    """Save a YAML profile document: a new profile, or a new version of the one with its name."""
    upgrade(url)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CommandRefused(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise CommandRefused(f"{path}: not UTF-8 text") from None
    try:
        profile = from_yaml(text)
    except ProfileError as exc:
        raise CommandRefused(f"{path}: {exc}") from None
    with session_scope(url) as session:
        current = next((p.version for p in profiles.list_profiles(session) if p.profile.name == profile.name), None)
        try:
            version = profiles.save_profile(session, profile, actor="cli", role="admin",
                                            note=note or f"imported from {Path(path).name}",
                                            expected_version=current)
        except profiles.ProfileRefused as exc:
            raise CommandRefused(f"{path}: {exc}") from None
    return profile.name, version


def dry_run_lines(report: ImportReport, limit: int = 50) -> list[str]:
    """What a dry run found, as the lines the command line prints (every change, up to `limit` per kind)."""
    head = (f"dry run, nothing written: cases {report.cases_added} new, {report.cases_updated} changed, "
            f"{report.cases_unchanged} unchanged; contacts {report.contacts_added} new, "
            f"{report.contacts_unchanged} already present; {len(report.problems)} problem(s); "
            f"flags {len(report.flags_appear)} would appear, {len(report.flags_clear)} would clear")
    if report.problems and not report.cases_added + report.cases_updated + report.contacts_added:
        head += " (the import would be refused: use --partial to import the good rows)"
    lines = [head]
    for case_no, fields in sorted(report.changed_fields.items())[:limit]:
        lines.append(f"changed {case_no}: {', '.join(fields)}")
    for sign, raised in (("+", report.flags_appear), ("-", report.flags_clear)):
        for case_no, rule_id, status in raised[:limit]:
            lines.append(f"flag {sign} {case_no} {rule_id} {status}")
    return lines


def evaluate_flags(url: str | None, now: datetime | None, case_no: str | None, lang: str
                   ) -> tuple[datetime, list[dict[str, Any]]]:
    """Every flag as of `now` (default: this second), evaluated afresh by the rule engine."""
    now = now or clock.now()
    with session_scope(url) as session:
        th = thresholds(session)
        if case_no:
            case_id = session.scalar(select(Case.id).where(Case.case_no == case_no))
            if case_id is None:
                raise CommandRefused(f"no case with case_no {case_no!r}")
            cases = load_cases(session, [case_id])
        else:
            cases = load_cases(session, received_until=now)
    return now, [finding_flag(f, now, lang) for f in flags(evaluate(cases, now, th))]


def reevaluate(url: str | None, progress: Progress | None = None) -> int:
    with session_scope(url) as session:
        exclusive(session, "import")
        stored = reevaluate_all(session, progress=progress)
    settle_after_bulk(url)
    return stored


def create_user(url: str | None, username: str, name: str, role: str, password: str, actor: str,
                handler: str | None = None) -> None:
    upgrade(url)
    try:
        with session_scope(url) as session:
            _create_user(session, username, name, role, password, actor=actor, handler=handler)
    except ValueError as exc:
        raise CommandRefused(str(exc)) from None


def audit_verify(url: str | None) -> ChainReport:
    """Walk the audit log's hash chain; the report names the first row whose link or content is wrong."""
    with session_scope(url) as session:
        return verify_chain(session)


def make_report(url: str | None, period: str, day, team: str | None, out: str, now: datetime | None = None) -> str:
    """Write a daily or weekly supervision report (PDF or XLSX by the file's ending)."""
    from services import reports

    now = now or clock.now_precise()
    if not out.lower().endswith((".pdf", ".xlsx")):
        raise CommandRefused(f"{out}: the file must end in .pdf or .xlsx")
    parent = Path(out).resolve().parent
    if not parent.is_dir():
        raise CommandRefused(f"{out}: the folder {parent} does not exist")
    try:
        with session_scope(url) as session:
            report = reports.build(session, reports.period_of(period, day), team, now)
        return reports.write(report, out)
    except reports.ReportRefused as exc:
        raise CommandRefused(str(exc)) from None


def backup(url: str | None, target: str) -> Path:
    return _backup(url, target)


def restore(url: str | None, source: str) -> None:
    _restore(url, source)


# ---- improvement loop (10.2) --------------------------------------------------------------------------------


def cluster_run(url: str | None, now: datetime | None = None) -> dict[str, int]:
    """Cluster every category's complaints again (cron, e.g. nightly); ids are kept from run to run."""
    from db.clusters import run

    upgrade(url)
    with session_scope(url) as session:
        return run(session, actor="cli", role="admin", now=now or utcnow())


def cluster_assign(url: str | None, now: datetime | None = None) -> int:
    """Assign complaints imported since the last run to their nearest cluster (cron, after each import)."""
    from db.clusters import assign_new

    upgrade(url)
    with session_scope(url) as session:
        return assign_new(session, now or utcnow())


def verify(url: str | None, now: datetime | None = None) -> dict[str, int]:
    """Run the data checks; returns the open findings per check."""
    from db.verification import run_checks

    upgrade(url)
    with session_scope(url) as session:
        return run_checks(session, actor="cli", role="admin", now=now or utcnow())
