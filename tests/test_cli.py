"""manage.py against real databases: exit codes, messages and what is stored afterwards."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

import manage
from db.models import Case
from db.session import session_scope
from tests.helpers import case_row, contact_row, write_csv

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    code = manage.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cases_in(url):
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(Case))


def test_init_db_is_idempotent(db_url, capsys):
    assert run(capsys, "init-db")[0] == 0
    code, out, _ = run(capsys, "init-db", "--db", db_url)
    assert code == 0 and "up to date" in out


def test_seed_adds_reproducible_cases(db_url, capsys):
    code, out, _ = run(capsys, "seed", "--cases", "50", "--seed", "3", "--now", "2026-06-01T10:00:00+08:00")
    assert code == 0 and "seeded 50 cases" in out
    with session_scope(db_url) as s:
        first = sorted(s.scalars(select(Case.case_no)))
    run(capsys, "seed", "--cases", "50", "--seed", "3", "--now", "2026-06-01T10:00:00+08:00")
    assert cases_in(db_url) == 50  # same seed, same cases: updated, not duplicated
    with session_scope(db_url) as s:
        assert sorted(s.scalars(select(Case.case_no))) == first


def test_import_good_files_exit_0_and_store_them(db_url, tmp_path, capsys):
    cases = write_csv(tmp_path / "cases.csv", [case_row("C1"), case_row("C2")])
    contacts = write_csv(tmp_path / "contacts.csv", [contact_row("C1")])
    code, out, err = run(capsys, "import", str(cases), "--contacts", str(contacts))
    assert code == 0, err
    assert "cases: 2 added, 0 updated, 0 unchanged; contacts: 1 added" in out
    assert cases_in(db_url) == 2


def test_import_bad_file_exits_1_names_the_problem_and_writes_nothing(db_url, tmp_path, capsys):
    cases = write_csv(tmp_path / "cases.csv", [case_row("C1"), case_row("C2", received_at="31/02/2026")])
    code, out, err = run(capsys, "import", str(cases))
    assert code == 1
    assert "error: cases.csv, line 3, column received_at: not a time: '31/02/2026'" in err
    assert "nothing was written" in err
    assert cases_in(db_url) == 0


def test_import_partial_writes_good_rows_and_a_reject_file(db_url, tmp_path, capsys):
    cases = write_csv(tmp_path / "cases.csv", [case_row("C1"), case_row("C2", acceptance="??")])
    code, out, err = run(capsys, "import", str(cases), "--partial")
    assert code == 1
    assert cases_in(db_url) == 1
    reject = tmp_path / "cases.rejects.csv"
    assert reject.exists() and f"rejected rows written to {reject}" in err
    assert "unknown value '??'" in reject.read_text(encoding="utf-8-sig")


def test_import_of_a_missing_file_is_a_message(db_url, tmp_path, capsys):
    code, _out, err = run(capsys, "import", str(tmp_path / "nope.csv"))
    assert code == 1 and "nope.csv, line 1: cannot be read" in err


def test_evaluate_json_is_sorted_and_shaped_as_the_spec_says(db_url, tmp_path, capsys):
    rows = [case_row("B2", items_confirmed="false"), case_row("A1", acceptance="rejected")]
    run(capsys, "import", str(write_csv(tmp_path / "cases.csv", rows)))
    code, out, _ = run(capsys, "evaluate", "--now", "2026-03-02T10:00:00+08:00", "--format", "json")
    assert code == 0
    flags = json.loads(out)
    assert [(f["case_no"], f["rule_id"]) for f in flags] == sorted((f["case_no"], f["rule_id"]) for f in flags)
    assert all(set(f) == {"case_no", "rule_id", "clause", "status", "due_at", "detail"} for f in flags)
    by_key = {(f["case_no"], f["rule_id"]): f for f in flags}
    assert by_key[("A1", "SCOPE-REJECTED")]["status"] == "review" and by_key[("A1", "SCOPE-REJECTED")]["due_at"] is None
    notice = by_key[("A1", "SCOPE-NOTICE")]
    assert notice["status"] == "breached" and notice["due_at"] == "2026-03-02T09:00:00+08:00"
    assert notice["clause"] == "4.1, 8.3.4"
    assert by_key[("B2", "REC-ACCEPTANCE")]["detail"] == "缺少：事项已确认"
    assert by_key[("B2", "SLA-FIRST-CONTACT")]["status"] == "breached"


def test_evaluate_as_of_a_past_instant_ignores_later_contacts(db_url, tmp_path, capsys):
    run(capsys, "import", str(write_csv(tmp_path / "c.csv", [case_row("C1")])),
        "--contacts", str(write_csv(tmp_path / "k.csv", [contact_row("C1", "2026-03-02 08:00")])))
    code, out, _ = run(capsys, "evaluate", "--now", "2026-03-02 07:00", "--case", "C1", "--format", "json", "--lang", "en")
    first = [f for f in json.loads(out) if f["rule_id"] == "SLA-FIRST-CONTACT"]
    assert first and first[0]["status"] == "at_risk" and first[0]["detail"].endswith("2h 00m left")
    code, out, _ = run(capsys, "evaluate", "--now", "2026-03-02 08:30", "--case", "C1", "--format", "json")
    assert not [f for f in json.loads(out) if f["rule_id"] == "SLA-FIRST-CONTACT"]


def test_evaluate_table_and_unknown_case(db_url, tmp_path, capsys):
    run(capsys, "import", str(write_csv(tmp_path / "c.csv", [case_row("C1", description="")])))
    code, out, _ = run(capsys, "evaluate", "--now", "2026-03-01 10:00", "--format", "table")
    assert code == 0 and "REC-ACCEPTANCE" in out and "1 flag(s) as of 2026-03-01 10:00:00" in out
    code, _out, err = run(capsys, "evaluate", "--case", "ZZZ")
    assert code == 1 and "no case with case_no 'ZZZ'" in err


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["evaluate", "--now", "tomorrow"], ["seed", "--cases", "0"],
                                  ["evaluate", "--format", "xml"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as err:
        manage.main(argv)
    assert err.value.code == 2


def test_every_command_is_documented_with_an_example(capsys):
    for name in manage.COMMANDS:
        with pytest.raises(SystemExit):
            manage.main([name, "--help"])
        out = capsys.readouterr().out
        assert "Example: python manage.py " + name in out, name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in manage.COMMANDS:
        assert f"manage.py {name}" in readme, f"README does not document {name}"


def test_unreachable_database_is_a_message_not_a_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "manage.py", "evaluate", "--db",
                           "postgresql+psycopg://nobody@127.0.0.1:1/none"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert "error: database postgresql+psycopg://nobody@127.0.0.1:1/none is unavailable" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_input_through_the_real_entry_point_has_no_traceback(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    bad = write_csv(tmp_path / "cases.csv", [case_row("C1", channel="fax")])
    proc = subprocess.run([sys.executable, "manage.py", "import", str(bad), "--db", db], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "cases.csv, line 2, column channel: unknown value 'fax'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv", [["import", "{cases}"], ["alerts"], ["seed", "--cases", "3"],
                                  ["clusters", "run"]])
def test_a_read_only_database_is_a_message_without_sql_or_parameters(db_url, tmp_path, argv):
    """#28 M13: import, alerts and the rest printed SQLAlchemy tracebacks with their parameter lists (handler
    names, case numbers) when the database could not be written."""
    import os

    cases = write_csv(tmp_path / "cases.csv", [case_row("RO-1", handler="王小明处理")])
    env = dict(os.environ)
    if db_url.startswith("sqlite"):
        url = f"sqlite:///file:{db_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    else:
        url, env["PGOPTIONS"] = db_url, "-c default_transaction_read_only=on"
    env["COMPLAINTS_DB_URL"] = url
    proc = subprocess.run([sys.executable, "manage.py", *[a.format(cases=cases) for a in argv], "--db", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    if proc.returncode == 0:  # a command with nothing to write (an alert sweep with nothing due) may succeed
        assert argv == ["alerts"] and "Traceback" not in proc.stderr
        return
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "[SQL:" not in proc.stderr and "parameters" not in proc.stderr
    assert "王小明" not in proc.stderr and "RO-1" not in proc.stderr
    assert proc.stderr.startswith("error:") and ("read-only" in proc.stderr or "readonly" in proc.stderr)
    assert cases_in(db_url) == 0
