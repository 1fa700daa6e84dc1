"""The watched folder (#21 item 4): every export imported once, moved to done/ or failed/ with a report,
also when two runs start at the same moment."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from db.audit import search
from db.models import Case, Contact
from db.session import session_scope
from services.watch import watch_once
from tests.helpers import case_row, contact_row, write_csv

ROOT = Path(__file__).resolve().parent.parent


def drop(folder: Path, n_files: int = 6, per_file: int = 40) -> int:
    for f in range(n_files):
        write_csv(folder / f"cases_{f}.csv", [case_row(f"W{f}-{i:03d}") for i in range(per_file)])
    write_csv(folder / "contacts_today.csv", [contact_row("W0-000", "2026-03-01 10:00")])
    write_csv(folder / "broken.csv", [case_row("BAD1", channel="fax")])
    (folder / "notes.txt").write_text("not an export")
    return n_files * per_file


def test_one_pass_imports_each_export_once_and_files_it(db_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    total = drop(inbox, 2, 5)
    assert watch_once(inbox, db_url).done == []  # just written: maybe still being copied in
    result = watch_once(inbox, db_url, settle=0)
    assert sorted(result.done) == ["cases_0.csv", "cases_1.csv", "contacts_today.csv"]  # contacts after cases
    assert result.failed == ["broken.csv"]
    assert sorted(p.name for p in (inbox / "done").iterdir()) == sorted(
        ["cases_0.csv", "cases_0.csv.report.txt", "cases_1.csv", "cases_1.csv.report.txt", "contacts_today.csv",
         "contacts_today.csv.report.txt"])
    assert "broken.csv, line 2, column channel: unknown value 'fax'" in (inbox / "failed" / "broken.csv.report.txt").read_text()
    assert (inbox / "notes.txt").exists() and not list((inbox / "processing").iterdir())
    with session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == total
        assert s.scalar(select(func.count()).select_from(Contact)) == 1
    assert watch_once(inbox, db_url, settle=0).done == []  # a second pass finds nothing new


def test_two_runs_at_once_import_every_file_exactly_once(db_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    total = drop(inbox)
    runs = [subprocess.Popen([sys.executable, "manage.py", "import", "--watch", str(inbox), "--settle", "0", "--db", db_url],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [r.communicate(timeout=300) for r in runs]
    lines = [line for out, _err in outputs for line in out.splitlines() if line.startswith(("done:", "failed:"))]
    assert sorted(lines) == sorted([f"done: cases_{f}.csv" for f in range(6)] + ["done: contacts_today.csv",
                                                                                 "failed: broken.csv"])
    assert {r.returncode for r in runs} <= {0, 1}
    with session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == total
        imports = search(s, action="import")
        assert len(imports) == 7  # six case files and one contacts file, each once
    assert len([p for p in (inbox / "done").iterdir() if p.suffix == ".csv"]) == 7


def test_watch_refuses_a_missing_folder_and_files_with_it(tmp_path, db_url):
    proc = subprocess.run([sys.executable, "manage.py", "import", "--watch", str(tmp_path / "nope"), "--db", db_url],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1 and "no such folder" in proc.stderr
    proc = subprocess.run([sys.executable, "manage.py", "import", "x.csv", "--watch", str(tmp_path), "--db", db_url],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "give no file" in proc.stderr


def test_a_contacts_file_waits_for_case_files_another_run_is_importing(db_url, tmp_path):
    """Two runs at once: the contacts file must not go in while the other run's case file is half in (its
    contacts would name cases not there yet). A file left by a dead run does not hold it up."""
    import time

    from services.watch import watch_once
    from tests.helpers import contact_row, write_csv

    inbox = tmp_path / "inbox"
    (inbox / "processing").mkdir(parents=True)
    write_csv(inbox / "contacts_now.csv", [contact_row("NOPE-1", "2026-03-01 10:00")])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (inbox / "processing" / f"cases_old.csv.{dead.pid}").write_text("x")  # a dead run's leftover
    started = time.time()
    watch_once(inbox, db_url, settle=0)
    assert time.time() - started < 5  # not held up by a dead run

    write_csv(inbox / "contacts_next.csv", [contact_row("NOPE-2", "2026-03-01 10:00")])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])  # "another run", importing
    (inbox / "processing" / f"cases_live.csv.{other.pid}").write_text("x")
    started = time.time()
    watch_once(inbox, db_url, settle=0)
    waited = time.time() - started
    other.wait()
    assert waited >= 2  # it waited for the other run's case file
