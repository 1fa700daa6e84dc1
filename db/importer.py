"""Import of work-order exports (interchange.md, "Import rules").

    report = import_files("cases.csv", "contacts.xlsx", partial=False)

All or nothing by default: one bad row and nothing is written. With `partial=True` the good rows are written
and the bad ones go, with a `reason` column, into `<input>.rejects.csv` beside each input. The whole write,
including the re-evaluation of the imported cases, is one transaction under the `import` lock, so two runs
(say a cron job and a user in the app) never interleave and an interrupted run leaves the database as it was.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from db import interchange as ix
from db.audit import record
from db.bulk import insert_tuples
from db.locks import exclusive
from db.models import Case, Contact, Handler, Obligation, Team
from db.library import sync_imported
from db.obligations import (evaluation_input, known_case_numbers, live_status, reevaluate, row_maker, store,
                            thresholds)
from db.session import refresh_statistics, session_scope, settle_after_bulk
from domain import clock
from domain.i18n import Said
from domain.importprofile import Profile
from domain.vocab import CASE_COLUMNS, CONTACT_COLUMNS
from rules.evaluate import start_evaluation

Progress = Callable[[str, float], None]  # (stage, fraction done)
CHUNK = 5000
# An import that changes at least this many cases refreshes the planner statistics afterwards.
BULK_ANALYZE = 10_000


@dataclass
class ImportReport:
    cases_added: int = 0
    cases_updated: int = 0
    cases_unchanged: int = 0
    contacts_added: int = 0
    contacts_unchanged: int = 0
    problems: list[ix.Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reject_files: list[Path] = field(default_factory=list)
    # rejects of uploaded files (no path on disk): kept in memory for the page to offer as a download,
    # never written to a temporary folder where the customers' data would stay behind
    reject_downloads: list[tuple[str, bytes]] = field(default_factory=list)
    lang: str = "en"  # the language of the page's reject downloads
    written: bool = False
    cases_rows: int = 0
    contacts_rows: int = 0
    dry_run: bool = False  # everything was done, then rolled back: the report says what would change
    changed_fields: dict[str, list[str]] = field(default_factory=dict)  # case_no -> columns that would change
    flags_appear: list[tuple[str, str, str]] = field(default_factory=list)  # (case_no, rule_id, status)
    flags_clear: list[tuple[str, str, str]] = field(default_factory=list)
    profile: str | None = None  # the import profile the files were read through

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        head = (f"cases: {self.cases_added} added, {self.cases_updated} updated, {self.cases_unchanged} unchanged; "
                f"contacts: {self.contacts_added} added, {self.contacts_unchanged} already present")
        if not self.written:
            head = "nothing was written"
        return head


def _file_problem(name: str, exc: ix.FileProblem) -> ix.Problem:
    return ix.Problem(name, 1, "", exc.said)


def _lookup_ids(session: Session, model, names: set[str], extra: Callable[[str], dict] | None = None) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(sorted(names)):
        ids.update(session.execute(select(model.name, model.id).where(model.name.in_(chunk))).all())
    missing = [n for n in sorted(names) if n not in ids]
    if missing:
        session.execute(insert(model), [{"name": n, **(extra(n) if extra else {})} for n in missing])
        for chunk in _chunks(missing):
            ids.update(session.execute(select(model.name, model.id).where(model.name.in_(chunk))).all())
    return ids


def _chunks(seq: Sequence, size: int = CHUNK):
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def store_cases(session: Session, rows: list[dict[str, Any]], present: Sequence[str],
                owners: dict[str, tuple[int, int | None]] | None = None,
                changes: dict[str, list[str]] | None = None) -> tuple[dict[str, int], int, int, set[int]]:
    """Insert new case numbers, update known ones whose values differ (only the columns the file has).

    Returns case_no -> id, the numbers added and updated, and the ids of the cases that changed. A
    scheduler re-importing the latest export every few minutes mostly sends rows that are already stored
    as they are: those are neither rewritten nor re-evaluated. `owners` receives each new case's handler
    and team ids; `changes` receives, per updated case number, the columns whose values differ."""
    teams = _lookup_ids(session, Team, {r["team"] for r in rows if r.get("team")}) if "team" in present else {}
    handler_team: dict[str, int | None] = {}
    for r in rows:
        handler_team.setdefault(r["handler"], teams.get(r.get("team") or ""))
    handlers = _lookup_ids(session, Handler, set(handler_team), lambda n: {"team_id": handler_team[n]})
    data_cols = [c for c in present if c not in ("handler", "team")]
    compare = data_cols + ["handler_id"] + (["team_id"] if "team" in present else [])
    existing: dict[str, int] = {}
    stored: dict[str, tuple] = {}
    for chunk in _chunks([r["case_no"] for r in rows]):
        q = select(Case.case_no, Case.id, *[getattr(Case, c) for c in compare]).where(Case.case_no.in_(chunk))
        for row in session.execute(q):
            existing[row[0]] = row[1]
            stored[row[0]] = tuple(row[2:])
    now = clock.now_precise()

    def values(r: dict[str, Any]) -> dict[str, Any]:
        v = {c: r.get(c) for c in data_cols}
        v["handler_id"] = handlers[r["handler"]]
        if "team" in present:
            v["team_id"] = teams.get(r.get("team") or "")
        return v

    new_rows, upd_rows = [], []
    for r in rows:
        v = values(r)
        if r["case_no"] in existing:
            if tuple(v[c] for c in compare) == stored[r["case_no"]]:
                continue  # already stored exactly like this
            if changes is not None:
                changes[r["case_no"]] = [{"handler_id": "handler", "team_id": "team"}.get(c, c)
                                         for c, old in zip(compare, stored[r["case_no"]]) if v[c] != old]
            v["_id"] = existing[r["case_no"]]
            v["updated_at"] = now
            upd_rows.append(v)
        else:
            v.update(created_at=now, updated_at=now, version=1)
            new_rows.append(v)
            if owners is not None:
                owners[r["case_no"]] = (v["handler_id"], v.get("team_id"))
    table = Case.__table__
    if upd_rows:
        cols = [c for c in upd_rows[0] if c != "_id"]
        stmt = (update(table).where(table.c.id == bindparam("_id"))
                .values({**{c: bindparam(c) for c in cols}, "version": table.c.version + 1}))
        for chunk in _chunks(upd_rows):
            session.connection().execute(stmt, list(chunk))
    if new_rows:
        all_cols = [c.name for c in table.columns if c.name != "id"]
        insert_tuples(session, table, all_cols, [tuple(map(v.get, all_cols)) for v in new_rows])
        for chunk in _chunks([v["case_no"] for v in new_rows]):
            existing.update(session.execute(select(Case.case_no, Case.id).where(Case.case_no.in_(chunk))).all())
    changed = {v["_id"] for v in upd_rows} | {existing[v["case_no"]] for v in new_rows}
    return existing, len(new_rows), len(upd_rows), changed


def store_contacts(session: Session, rows: list[dict[str, Any]], ids: dict[str, int]) -> tuple[int, int, set[int]]:
    case_ids = sorted({ids[r["case_no"]] for r in rows})
    have: set[tuple[int, datetime, str]] = set()
    for chunk in _chunks(case_ids):
        q = select(Contact.case_id, Contact.contact_at, Contact.kind).where(Contact.case_id.in_(chunk))
        have.update(session.execute(q).all())
    new: list[tuple] = []
    for r in rows:
        key = (ids[r["case_no"]], r["contact_at"], r["kind"])
        if key in have:
            continue
        have.add(key)
        new.append(key + (r.get("channel"), r.get("note")))
    insert_tuples(session, Contact.__table__, ("case_id", "contact_at", "kind", "channel", "note"), new)
    return len(new), len(rows) - len(new), {n[0] for n in new}


def received_at_of(session: Session, case_nos: set[str]) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for chunk in _chunks(sorted(case_nos)):
        out.update(session.execute(select(Case.case_no, Case.received_at).where(Case.case_no.in_(chunk))).all())
    return out


@dataclass
class Written:
    cases_added: int = 0
    cases_updated: int = 0
    contacts_added: int = 0
    contacts_unchanged: int = 0
    touched: set[int] = field(default_factory=set)


def write_and_evaluate(session: Session, case_rows: list[dict[str, Any]], present: Sequence[str],
                       contact_rows: list[dict[str, Any]], now: datetime | None,
                       progress: Callable[[float], None] | None = None, hours: Counter | None = None,
                       changes: dict[str, list[str]] | None = None) -> Written:
    """Store checked case and contact rows and re-evaluate every case they changed, in the caller's
    transaction.

    Cases that are new to the database are evaluated from the rows in memory — all they are is in this
    import — and the evaluation runs in worker processes while the rows are written. Known cases that
    changed are evaluated from the database after the write (their other columns and contacts are there).
    """
    now = now or clock.now_precise()
    step = progress or (lambda frac: None)
    th = thresholds(session)
    known = known_case_numbers(session, [r["case_no"] for r in case_rows])
    fresh = [r for r in case_rows if r["case_no"] not in known]
    cases = evaluation_input(fresh, present, contact_rows)
    # 10k new cases or more: split between two workers even below the usual chunk (a seed sends 20k at a time)
    chunk = max(5000, -(-len(cases) // 2)) if len(cases) >= 10_000 else None
    pending = (start_evaluation(cases, now, th, chunk=chunk, with_spans=True, finish=row_maker(session, now, th))
               if cases else None)
    try:
        out = Written()
        ids: dict[str, int] = {}
        owners: dict[str, tuple[int, int | None]] = {}
        if case_rows:
            ids, out.cases_added, out.cases_updated, changed = store_cases(session, case_rows, present, owners, changes)
            out.touched.update(changed)
        step(0.3)
        if contact_rows:
            need = {r["case_no"] for r in contact_rows} - set(ids)
            for chunk in _chunks(sorted(need)):
                ids.update(session.execute(select(Case.case_no, Case.id).where(Case.case_no.in_(chunk))).all())
            out.contacts_added, out.contacts_unchanged, changed = store_contacts(session, contact_rows, ids)
            out.touched.update(changed)
        step(0.5)
        sync_imported(session, sorted(out.touched), now)
        fresh_ids = {ids[r["case_no"]] for r in fresh}
        if pending is not None:
            for c in cases:  # ids known from the write: no need to read them back
                c["id"] = ids[c["case_no"]]
                c["handler_id"], c["team_id"] = owners[c["case_no"]]
            store(session, cases, pending.result(), now, th, fresh=True, hours=hours)
            pending = None
        step(0.8)
        reevaluate(session, sorted(out.touched - fresh_ids), now, th)
        step(1.0)
        return out
    finally:
        if pending is not None:
            pending.cancel()


class _RejectsUnwritable(Exception):
    pass


def _keep_rejects(report: ImportReport, tables: dict[str, ix.Table], sources: dict[str, Any],
                  reject_dir: Path | None) -> None:
    for kind, src in sources.items():
        table = tables.get(kind)
        if table is None or table.derived or not any(p.file == table.name for p in report.problems):
            continue
        on_disk = isinstance(src, (str, Path))
        base = Path(src) if on_disk else Path(table.name)
        if not on_disk and reject_dir is None:  # the page's download, in the language of whoever imports
            data = ix.rejects_csv(table, report.problems, report.lang)
            report.reject_downloads.append((f"{base.stem}.rejects.csv", data))
            continue
        data = ix.rejects_csv(table, report.problems)
        target = (reject_dir or base.parent) / f"{base.stem}.rejects.csv"
        target.write_bytes(data)
        report.reject_files.append(target)


def import_files(cases_src: str | Path | bytes | None, contacts_src: str | Path | bytes | None = None, *,
                 partial: bool = False, url: str | None = None, zone: ZoneInfo | None = None,
                 cases_name: str | None = None, contacts_name: str | None = None,
                 reject_dir: Path | None = None, progress: Progress | None = None,
                 now: datetime | None = None, actor: str = "cli", lang: str = "en",
                 dry_run: bool = False, profile: Profile | None = None) -> ImportReport:
    """Check and import the files (see the module's docstring). `dry_run` does everything in the
    transaction — write, evaluate — then rolls it back: the report says which cases would be added or
    changed (and which fields), which rows would be rejected and why, and which flags would appear or clear;
    nothing is stored, audited or written to disk. `profile` reads another system's export (its columns,
    spellings, times and contact columns) instead of the product's own format."""
    report = ImportReport(lang=lang, dry_run=dry_run, profile=profile.name if profile else None)
    step = progress or (lambda stage, frac: None)
    step("read", 0.0)
    tables: dict[str, ix.Table] = {}
    if profile is not None:
        zone = profile.tz
    for kind, src, name, columns in (("cases", cases_src, cases_name, CASE_COLUMNS),
                                     ("contacts", contacts_src, contacts_name, CONTACT_COLUMNS)):
        if src is None:
            continue
        display = name or (Path(src).name if isinstance(src, (str, Path)) else kind)
        try:
            if profile is None:
                tables[kind] = ix.read_table(src, display, columns)
            elif kind == "contacts" and profile.contacts_mode != "file":
                raise ix.FileProblem(display, "ix.profile_no_contacts_file", profile=profile.name)
            else:
                tables[kind] = ix.read_profiled(src, display, profile, kind)
        except ix.FileProblem as exc:
            report.problems.append(_file_problem(display, exc))
    if report.problems:
        return report
    if profile is not None and profile.contacts_mode == "columns" and "cases" in tables:
        tables["contacts"] = ix.contacts_in_columns(tables["cases"], profile)
    for t in tables.values():
        report.warnings.extend(t.warnings)
    step("check", 0.2)
    cases_parsed = contacts_parsed = None
    if "cases" in tables:
        cases_parsed = ix.parse_rows(tables["cases"], CASE_COLUMNS, zone)
        ix.check_cases(tables["cases"], cases_parsed)
        report.cases_rows = len(tables["cases"].frame)
    if "contacts" in tables:
        contacts_parsed = ix.parse_rows(tables["contacts"], CONTACT_COLUMNS, zone)
        report.contacts_rows = len(tables["contacts"].frame)

    try:
        return _write(report, tables, cases_parsed, contacts_parsed, cases_src, contacts_src, partial, url,
                      reject_dir, step, now, actor, dry_run)
    except _RejectsUnwritable as exc:
        report.problems.insert(0, ix.Problem(next(iter(tables.values())).name, 0, "",
                                             Said("ix.rejects_unwritable", error=str(exc))))
        report.written = False
        report.reject_files.clear()
        report.reject_downloads.clear()
        report.cases_added = report.cases_updated = report.cases_unchanged = 0
        report.contacts_added = report.contacts_unchanged = 0
        return report


def _flags(session: Session, case_nos: Sequence[str], now: datetime) -> set[tuple[str, str, str]]:
    """(case_no, rule_id, status) of every flag the given cases raise at `now`."""
    out = set()
    for chunk in _chunks(sorted(set(case_nos))):
        q = (select(Case.case_no, Obligation.rule_id, Obligation.state, Obligation.due_at, Obligation.warn_at)
             .join(Case, Case.id == Obligation.case_id).where(Case.case_no.in_(chunk)))
        for case_no, rule_id, state, due_at, warn_at in session.execute(q):
            status = live_status(state, due_at, warn_at, now)
            if status is not None:
                out.add((case_no, rule_id, status))
    return out


def _write(report: ImportReport, tables: dict[str, ix.Table], cases_parsed, contacts_parsed, cases_src,
           contacts_src, partial: bool, url: str | None, reject_dir: Path | None, step, now, actor,
           dry_run: bool = False) -> ImportReport:
    with session_scope(url) as session:
        exclusive(session, "import")
        if contacts_parsed is not None:
            good = {r["case_no"]: r["received_at"] for r in (cases_parsed.rows if cases_parsed else [])}
            bad_cases = {p.case_no for p in (cases_parsed.problems if cases_parsed else []) if p.case_no} - set(good)
            wanted = {r["case_no"] for r in contacts_parsed.rows} - set(good) - bad_cases
            received = {**received_at_of(session, wanted), **good}
            ix.check_contacts(tables["contacts"], contacts_parsed, received, bad_cases)
        for parsed in (cases_parsed, contacts_parsed):
            if parsed is not None:
                report.problems.extend(parsed.problems)
        report.problems.sort(key=lambda p: (p.file != (tables.get("cases").name if "cases" in tables else ""), p.line))
        if report.problems and not partial:
            session.rollback()
            return report
        step("write", 0.4)
        present = list(tables["cases"].frame.columns) if "cases" in tables else []
        in_files = ([r["case_no"] for r in cases_parsed.rows] if cases_parsed is not None else []) + \
            ([r["case_no"] for r in contacts_parsed.rows] if contacts_parsed is not None else [])
        flag_time = now or clock.now_precise()
        before = _flags(session, in_files, flag_time) if dry_run else set()
        written = write_and_evaluate(session, cases_parsed.rows if cases_parsed is not None else [], present,
                                     contacts_parsed.rows if contacts_parsed is not None else [], now,
                                     lambda frac: step("evaluate", 0.4 + 0.5 * frac),
                                     changes=report.changed_fields)
        report.cases_added, report.cases_updated = written.cases_added, written.cases_updated
        report.cases_unchanged = len(cases_parsed.rows) - written.cases_added - written.cases_updated \
            if cases_parsed is not None else 0
        report.contacts_added, report.contacts_unchanged = written.contacts_added, written.contacts_unchanged
        touched = written.touched
        if dry_run:
            after = _flags(session, in_files, flag_time)
            report.flags_appear, report.flags_clear = sorted(after - before), sorted(before - after)
            session.rollback()
            step("done", 1.0)
            return report
        if len(touched) >= BULK_ANALYZE:
            refresh_statistics(session)
        record(session, actor, "import", "cases",
               ", ".join(dict.fromkeys(t.name for t in tables.values())), None,
               {**({"profile": report.profile} if report.profile else {}), "cases_added": report.cases_added, "cases_updated": report.cases_updated,
                "cases_unchanged": report.cases_unchanged,
                "contacts_added": report.contacts_added, "rejected_rows": len(report.problems),
                "partial": partial})
        if partial and report.problems:
            # written before the commit: if a reject file cannot be written, the import rolls back
            # instead of keeping the good rows with their bad companions lost
            try:
                _keep_rejects(report, tables, {"cases": cases_src, "contacts": contacts_src}, reject_dir)
            except OSError as exc:
                raise _RejectsUnwritable(f"{exc.filename or ''}: {exc.strerror or exc}") from exc
        step("commit", 0.95)
    report.written = True
    if len(touched) >= BULK_ANALYZE:
        settle_after_bulk(url)
    step("done", 1.0)
    return report
