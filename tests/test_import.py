"""Importing into a real database (SQLite and PostgreSQL): all-or-nothing, partial, idempotent."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from db.importer import import_files
from db.models import Case, Contact, Handler, Obligation, Team
from db.session import session_scope
from tests.helpers import case_row, contact_row, to_chinese, write_csv, write_xlsx

UTC = timezone.utc
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def snapshot(url):
    """Everything a bad import could touch, to compare before and after."""
    with session_scope(url) as s:
        cases = s.execute(select(Case.case_no, Case.handler_id, Case.description, Case.version).order_by(Case.case_no)).all()
        contacts = s.execute(select(Contact.case_id, Contact.contact_at, Contact.kind).order_by(Contact.id)).all()
        obligations = s.execute(select(Obligation.case_id, Obligation.rule_id, Obligation.state).order_by(Obligation.id)).all()
        handlers = s.scalar(select(func.count()).select_from(Handler))
    return cases, contacts, obligations, handlers


def count(url, model):
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.fixture
def populated(db_url, tmp_path):
    """A database with two cases and a contact already in it."""
    cases = write_csv(tmp_path / "base_cases.csv", [case_row("C001"), case_row("C002", handler="张伟", team="资费争议组")])
    contacts = write_csv(tmp_path / "base_contacts.csv", [contact_row("C001")])
    report = import_files(cases, contacts, now=NOW)
    assert report.ok and report.written
    return db_url


def test_a_clean_import_writes_cases_contacts_teams_and_obligations(db_url, tmp_path):
    cases = write_csv(tmp_path / "cases.csv", [case_row("C001"), case_row("C002", acceptance="rejected",
                                                                          rejection_reason="past_time_limit")])
    contacts = write_csv(tmp_path / "contacts.csv", [contact_row("C001"), contact_row("C001", "2026-03-02 10:00", "final")])
    report = import_files(cases, contacts, now=NOW)
    assert report.ok and report.written
    assert (report.cases_added, report.cases_updated, report.contacts_added) == (2, 0, 2)
    with session_scope(db_url) as s:
        case = s.scalar(select(Case).where(Case.case_no == "C001"))
        assert case.received_at == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
        assert case.handler.name == "李娜" and case.team.name == "网络投诉一组"
        assert [c.kind for c in case.contacts] == ["first", "final"]
        rules = set(s.scalars(select(Obligation.rule_id).where(Obligation.case_id == case.id)))
        assert {"SLA-FIRST-CONTACT", "SLA-FINAL-RESULT", "SLA-PROMISED-REPLY"} <= rules
    assert count(db_url, Team) == 1


def test_reimporting_the_same_files_changes_nothing_and_duplicates_nothing(populated, tmp_path):
    before = snapshot(populated)
    cases = write_csv(tmp_path / "base_cases.csv", [case_row("C001"), case_row("C002", handler="张伟", team="资费争议组")])
    contacts = write_csv(tmp_path / "base_contacts.csv", [contact_row("C001")])
    report = import_files(cases, contacts, now=NOW)
    assert report.ok
    assert (report.cases_added, report.cases_updated, report.cases_unchanged) == (0, 0, 2)
    assert (report.contacts_added, report.contacts_unchanged) == (0, 1)
    assert snapshot(populated) == before  # not even the version moved: nothing was rewritten


def test_reimport_updates_only_the_columns_the_file_has(populated, tmp_path):
    rows = [{"case_no": "C001", "received_at": "2026-03-01 09:00", "channel": "online", "category": "network",
             "handler": "李娜", "acceptance": "accepted"}]
    report = import_files(write_csv(tmp_path / "update.csv", rows), now=NOW)
    assert report.ok and report.cases_updated == 1
    with session_scope(populated) as s:
        case = s.scalar(select(Case).where(Case.case_no == "C001"))
        assert case.channel == "online"
        assert case.description == "家中信号弱"  # not in the file: kept
        assert case.version == 2


# The good row C009 is line 2, so the bad rows start on line 3.
BAD_CASE_FILES = {
    "bad time": ([case_row("C003", received_at="soon")], "line 3, column received_at: not a time"),
    "unknown enum": ([case_row("C003", category="天气")], "line 3, column category: unknown value '天气'"),
    "bad number": ([case_row("C003", progress_interval_hours="0")], "line 3, column progress_interval_hours: must be a number greater than 0"),
    "bad boolean": ([case_row("C003", typical="sometimes")], "line 3, column typical: not a yes/no value"),
    "missing value": ([case_row("")], "line 3, column case_no: required value is empty"),
    "closed before received": ([case_row("C003", closed_at="2026-02-28 09:00")], "line 3, column closed_at: closed_at is before received_at"),
    "duplicate in file": ([case_row("C003"), case_row("C003")], "line 4, column case_no: case_no C003 already appears on line 3"),
}


@pytest.mark.parametrize("name", sorted(BAD_CASE_FILES))
def test_one_bad_case_row_refuses_the_whole_file_and_keeps_the_database(populated, tmp_path, name):
    bad_rows, message = BAD_CASE_FILES[name]
    before = snapshot(populated)
    path = write_csv(tmp_path / "cases.csv", [case_row("C009")] + bad_rows)
    report = import_files(path, now=NOW)
    assert not report.written
    texts = [str(p) for p in report.problems]
    assert len(texts) == 1 and texts[0].startswith("cases.csv, " + message), texts
    assert snapshot(populated) == before


BAD_CONTACTS = {
    "unknown case": ([contact_row("C404")], "unknown case C404: not in this import nor in the database"),
    "before received": ([contact_row("C002", "2026-03-01 08:00")], "contact_at is before the case's received_at"),
    "unknown kind": ([contact_row("C002", kind="visit")], "column kind: unknown value 'visit'"),
    "bad time": ([contact_row("C002", "later")], "column contact_at: not a time"),
}


@pytest.mark.parametrize("name", sorted(BAD_CONTACTS))
def test_one_bad_contact_refuses_cases_and_contacts_alike(populated, tmp_path, name):
    rows, message = BAD_CONTACTS[name]
    before = snapshot(populated)
    cases = write_csv(tmp_path / "cases.csv", [case_row("C010")])
    contacts = write_csv(tmp_path / "contacts.csv", [contact_row("C010")] + rows)
    report = import_files(cases, contacts, now=NOW)
    assert not report.written
    texts = [str(p) for p in report.problems]
    assert len(texts) == 1 and texts[0].startswith("contacts.csv, line 3, column ") and message in texts[0], texts
    assert snapshot(populated) == before


def test_a_contact_may_name_a_case_already_in_the_database(populated, tmp_path):
    contacts = write_csv(tmp_path / "contacts.csv", [contact_row("C002", "2026-03-01 11:00")])
    report = import_files(None, contacts, now=NOW)
    assert report.ok and report.contacts_added == 1


def test_missing_column_refuses_the_file_with_its_name(populated, tmp_path):
    before = snapshot(populated)
    row = case_row("C011")
    del row["acceptance"]
    report = import_files(write_csv(tmp_path / "cases.csv", [row]), now=NOW)
    assert [str(p) for p in report.problems] == ["cases.csv, line 1: required column missing: acceptance (受理结果)"]
    assert snapshot(populated) == before


def test_the_reject_file_keeps_formulas_as_text(populated, tmp_path):
    """#28 L3: a rejected row's cells are written as every other export writes them, formulas neutralised."""
    cases = write_csv(tmp_path / "cases.csv", [case_row("C030"), case_row("=HYPERLINK(\"http://x\")", channel="fax"),
                                               case_row("C032", channel="@SUM(A1)")])
    report = import_files(cases, partial=True, now=NOW)
    text = report.reject_files[0].read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text
    assert not any(cell.startswith(("=", "@", "+")) for line in text.splitlines() for cell in line.split(","))


def test_a_file_name_of_240_characters_imports_alike_on_both_databases(populated, tmp_path):
    """#28 M12: PostgreSQL refused the audit entry of a file name over 200 characters (SQLite took it)."""
    from db.audit import search

    name = "工单导出_" + "x" * 230 + ".csv"
    cases = write_csv(tmp_path / name, [case_row("C040")])
    report = import_files(cases, now=NOW)
    assert report.ok and report.written
    with session_scope(populated) as s:
        assert s.scalar(select(Case.case_no).where(Case.case_no == "C040")) == "C040"
        keys = [e["key"] for e in search(s, action="import")]
    long_keys = [k for k in keys if k and k.startswith("工单导出_xxx")]
    assert long_keys and all(len(k) <= 200 and "…#" in k for k in long_keys)


def test_partial_import_writes_good_rows_and_a_reject_file_with_reasons(populated, tmp_path):
    cases = write_csv(tmp_path / "cases.csv", [case_row("C020"), case_row("C021", channel="fax"), case_row("C022")])
    contacts = write_csv(tmp_path / "contacts.csv", [contact_row("C020"), contact_row("C021"), contact_row("C404")])
    report = import_files(cases, contacts, partial=True, now=NOW)
    assert report.written and len(report.problems) == 3
    with session_scope(populated) as s:
        nos = set(s.scalars(select(Case.case_no)))
    assert {"C020", "C022"} <= nos and "C021" not in nos
    rejects = {p.name: p.read_text(encoding="utf-8-sig") for p in report.reject_files}
    assert set(rejects) == {"cases.rejects.csv", "contacts.rejects.csv"}
    assert "C021" in rejects["cases.rejects.csv"] and "unknown value 'fax'" in rejects["cases.rejects.csv"]
    assert rejects["cases.rejects.csv"].splitlines()[0].endswith(",reason")
    contacts_rejects = rejects["contacts.rejects.csv"]
    assert "case C021 was rejected in the cases file" in contacts_rejects
    assert "unknown case C404" in contacts_rejects
    assert "C020" not in contacts_rejects


def test_chinese_headers_and_values_in_xlsx_import(db_url, tmp_path):
    rows = to_chinese([case_row("C030", channel="面谈", category="服务", acceptance="不予受理",
                                rejection_reason="超出服务范围", items_confirmed="否")])
    report = import_files(write_xlsx(tmp_path / "工单.xlsx", rows), now=NOW)
    assert report.ok, [str(p) for p in report.problems]
    with session_scope(db_url) as s:
        case = s.scalar(select(Case).where(Case.case_no == "C030"))
        assert (case.channel, case.category, case.acceptance, case.rejection_reason, case.items_confirmed) == (
            "face_to_face", "service", "rejected", "outside_service_scope", False)


def test_a_failure_while_writing_leaves_the_database_as_it_was(populated, tmp_path, monkeypatch):
    before = snapshot(populated)
    import db.importer as importer

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "reevaluate", explode)
    cases = write_csv(tmp_path / "cases.csv", [case_row("C040"), case_row("C001", description="changed")])
    with pytest.raises(RuntimeError, match="disk full"):
        import_files(cases, now=NOW)
    assert snapshot(populated) == before


def test_two_imports_at_once_do_not_interleave(populated, tmp_path):
    rows = [case_row(f"P{i:04d}") for i in range(300)]
    paths = [write_csv(tmp_path / f"cases{k}.csv", rows) for k in range(2)]
    reports, errors = [], []

    def run(path):
        try:
            reports.append(import_files(path, now=NOW))
        except Exception as exc:  # pragma: no cover - shown in the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r.cases_added for r in reports) == [0, 300]
    assert count(populated, Case) == 302


def _stored_outcomes(url):
    from db.models import DeadlineEpisode, DeadlineHour

    with session_scope(url) as s:
        obligations = s.execute(
            select(Case.case_no, Obligation.rule_id, Obligation.state, Obligation.due_at, Obligation.warn_at,
                   Obligation.fulfilled_at, Obligation.detail, Obligation.evidence, Obligation.team_id,
                   Obligation.handler_id, Obligation.category, Obligation.channel)
            .join(Case, Case.id == Obligation.case_id).order_by(Case.case_no, Obligation.rule_id)).all()
        episodes = s.execute(select(Case.case_no, DeadlineEpisode.rule_id, DeadlineEpisode.active_from,
                                    DeadlineEpisode.due_at, DeadlineEpisode.pending_until, DeadlineEpisode.open_until)
                             .join(Case, Case.id == DeadlineEpisode.case_id)
                             .order_by(Case.case_no, DeadlineEpisode.rule_id, DeadlineEpisode.active_from)).all()
        hours = s.execute(select(DeadlineHour.hour, DeadlineHour.rule_id, DeadlineHour.state, DeadlineHour.team_id,
                                 DeadlineHour.category, DeadlineHour.channel, DeadlineHour.n)
                          .order_by(DeadlineHour.hour, DeadlineHour.rule_id, DeadlineHour.state,
                                    DeadlineHour.team_id, DeadlineHour.category, DeadlineHour.channel)).all()
    return obligations, episodes, hours


def test_new_cases_evaluated_from_the_rows_store_exactly_what_the_database_path_stores(db_url, monkeypatch):
    """An import evaluates new cases from its parsed rows, in worker processes while it writes (a small
    chunk size here forces the workers). Re-evaluating every case from the database afterwards must change
    nothing: same obligations, episodes and hourly counts. Some columns are left out of the 'file' (they
    are then stored, and must be evaluated, as empty)."""
    from db.importer import write_and_evaluate
    from db.obligations import reevaluate_all
    from db.seed import generate
    from domain.vocab import CASE_COLUMNS

    monkeypatch.setenv("COMPLAINTS_BULK_CHUNK", "700")
    cases, contacts = generate(2500, 3, NOW)
    contacts += contacts[:50]  # the same contact twice in one file is stored, and counted, once
    present = [c for c in CASE_COLUMNS if c not in ("typical", "typical_summary", "alternatives")]
    with session_scope(db_url) as s:
        written = write_and_evaluate(s, cases, present, contacts, NOW)
    assert written.cases_added == 2500
    imported = _stored_outcomes(db_url)
    with session_scope(db_url) as s:
        reevaluate_all(s, NOW)
    assert _stored_outcomes(db_url) == imported
    # On SQLite the workers make the rows themselves (instants already as text); the generic path must
    # store the very same values.
    monkeypatch.setattr("db.obligations.row_maker", lambda *args: None)
    with session_scope(db_url) as s:
        reevaluate_all(s, NOW)
    assert _stored_outcomes(db_url) == imported
    obligations, episodes, hours = imported
    assert len(obligations) > 9000 and len(episodes) > 8000 and sum(h.n for h in hours) > 8000
    assert {o.state for o in obligations} >= {"met", "open", "breached", "review"}


def test_a_large_seed_generates_in_a_second_process_exactly_the_cases_of_one_generator(db_url, monkeypatch):
    """Seeds above one chunk generate the next chunk in a forked process while this one writes: the stored
    cases and contacts must be exactly those of one generator, and their obligations those a full
    re-evaluation gives."""
    import db.seed as seed_module
    from db.obligations import reevaluate_all

    monkeypatch.setattr(seed_module, "SEED_CHUNK", 300)
    cases, contacts = seed_module.generate(1000, 4, NOW)
    assert seed_module.seed(1000, 4, NOW, db_url) == (1000, len(contacts))
    with session_scope(db_url) as s:
        stored = s.execute(select(Case.case_no, Case.description, Case.closed_at).order_by(Case.case_no)).all()
        stored_contacts = s.scalar(select(func.count()).select_from(Contact))
    assert [tuple(r) for r in stored] == sorted((c["case_no"], c["description"], c["closed_at"]) for c in cases)
    assert stored_contacts == len(contacts)
    seeded = _stored_outcomes(db_url)
    with session_scope(db_url) as s:
        reevaluate_all(s, NOW)
    assert _stored_outcomes(db_url) == seeded and len(seeded[0]) > 3000


@pytest.mark.parametrize("when", ["0001-01-01 00:00", "9999-12-31 23:59", "0001-01-01T00:00:00+14:00"])
def test_a_time_at_the_ends_of_the_calendar_is_refused_with_its_place(populated, tmp_path, when):
    """#28 M7: a row in year 0001 raised OverflowError out of the import (UTC+8 midnight of 1 January 0001
    lies before the first instant a datetime holds); 9999 overflowed once deadlines were added."""
    cases = write_csv(tmp_path / "cases.csv", [case_row("C050"), case_row("C051", received_at=when)])
    report = import_files(cases, now=NOW)
    assert not report.ok and not report.written
    (problem,) = report.problems
    assert (problem.file, problem.line, problem.column) == ("cases.csv", 3, "received_at")
    with session_scope(populated) as s:
        assert s.scalar(select(Case.id).where(Case.case_no == "C050")) is None


def test_the_command_line_refuses_an_instant_outside_the_products_years(capsys):
    import manage

    for text in ("9999-12-31T00:00", "0001-01-01T00:00"):
        with pytest.raises(SystemExit) as stop:
            manage.main(["evaluate", "--now", text])
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert "--now" in err and "Traceback" not in err
