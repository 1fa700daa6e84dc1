"""Import dry run (#21 item 3): it says exactly what the real import then does, and writes nothing."""
from __future__ import annotations

import subprocess
import sys

from sqlalchemy import func, select

from db.importer import import_files
from db.models import AuditEntry, Case, Contact, Obligation
from db.session import session_scope
from tests.helpers import case_row, contact_row, write_csv



def counts(url):
    with session_scope(url) as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Case, Contact, Obligation, AuditEntry))


def test_a_dry_run_predicts_the_import_and_leaves_the_database_alone(db_url, tmp_path):
    from datetime import datetime, timezone

    now = datetime(2026, 3, 5, 12, 0, tzinfo=timezone.utc)
    first = write_csv(tmp_path / "first.csv", [case_row("D1"), case_row("D2"), case_row("D3")])
    contacts = write_csv(tmp_path / "c1.csv", [contact_row("D1", "2026-03-01 10:00")])
    assert import_files(first, contacts, url=db_url, now=now).written
    before = counts(db_url)
    # the next export: D1 gets its final reply and closes, D2 changes handler, D3 is as it was, D4 is new,
    # D5 is bad (unknown channel)
    rows = [case_row("D1", closed_at="2026-03-02 09:00"), case_row("D2", handler="张伟"), case_row("D3"),
            case_row("D4"), case_row("D5", channel="fax")]
    cases = write_csv(tmp_path / "next.csv", rows)
    more = write_csv(tmp_path / "c2.csv", [contact_row("D4", "2026-03-01 11:00"),
                                          contact_row("D1", "2026-03-02 08:00", kind="final")])
    dry = import_files(cases, more, partial=True, url=db_url, now=now, dry_run=True)
    assert counts(db_url) == before  # nothing stored, nothing audited
    assert not list(tmp_path.glob("*.rejects.csv"))  # nor a reject file
    assert dry.dry_run and not dry.written
    assert (dry.cases_added, dry.cases_updated, dry.cases_unchanged) == (1, 2, 1)
    assert dry.changed_fields == {"D1": ["closed_at"], "D2": ["handler"]}
    assert [(p.line, p.column) for p in dry.problems] == [(6, "channel")]
    from db.importer import _flags

    listed = ["D1", "D2", "D3", "D4", "D5"]
    with session_scope(db_url) as s:
        flags_before = _flags(s, listed, now)
    real = import_files(cases, more, partial=True, url=db_url, now=now)
    assert real.written
    assert (real.cases_added, real.cases_updated, real.cases_unchanged, real.contacts_added) == \
        (dry.cases_added, dry.cases_updated, dry.cases_unchanged, dry.contacts_added)
    assert [str(p) for p in real.problems] == [str(p) for p in dry.problems]
    # the flags the dry run announced are exactly the ones the import raised and cleared
    with session_scope(db_url) as s:
        flags_after = _flags(s, listed, now)
    assert dry.flags_appear == sorted(flags_after - flags_before)
    assert dry.flags_clear == sorted(flags_before - flags_after)
    assert dry.flags_appear and dry.flags_clear  # the scenario does move flags both ways


def test_a_dry_run_of_a_refused_import_says_so(db_url, tmp_path):
    cases = write_csv(tmp_path / "bad.csv", [case_row("R1"), case_row("R2", channel="fax")])
    dry = import_files(cases, url=db_url, dry_run=True)
    assert not dry.written and len(dry.problems) == 1 and dry.cases_added == 0
    assert counts(db_url)[0] == 0


def test_the_command_line_dry_run(db_url, tmp_path):
    from pathlib import Path

    cases = write_csv(tmp_path / "cli.csv", [case_row("K1"), case_row("K2")])
    proc = subprocess.run([sys.executable, "manage.py", "import", str(cases), "--dry-run", "--db", db_url],
                          capture_output=True, text=True, cwd=str(Path(__file__).resolve().parent.parent))
    assert proc.returncode == 0, proc.stderr
    assert "dry run, nothing written: cases 2 new, 0 changed, 0 unchanged" in proc.stdout
    assert counts(db_url)[0] == 0


def test_the_import_page_previews_without_writing(sqlite_url, tmp_path):
    from tests.apptest import signed_in

    data = write_csv(tmp_path / "page.csv", [case_row("P1"), case_row("P2", channel="fax")]).read_bytes()
    at = signed_in("team_lead", "lead")
    at.run()
    at.switch_page("pages/import_data.py").run()
    at.file_uploader(key="import_cases").set_value(("page.csv", data, "text/csv"))
    at.run()
    at.checkbox(key="import_partial").check()
    at.button(key="import_dry_run").click().run()
    assert not at.exception, at.exception
    assert any(i.value.startswith("预演结果（未写入任何数据）：新增 1 件") for i in at.info)
    problems = at.dataframe[-1].value
    assert problems.iloc[0]["列"] == "channel"
    flags = next(d.value for d in at.dataframe if "变化" in d.value.columns)
    assert set(flags["变化"]) == {"将出现"} and set(flags["工单号"]) == {"P1"}
    assert counts(sqlite_url)[0] == 0
