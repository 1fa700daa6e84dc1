"""The hardening pass (#12): each test here failed before its fix. Database tests run on SQLite and
PostgreSQL."""
from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from db.audit import record, verify_chain
from db.models import User
from db.session import get_engine, session_scope
from db.users import LoginRefused, authenticate, create_user, set_active

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_user(url: str, username: str = "li", password: str = "s3cret-pass", role: str = "inspector") -> None:
    with session_scope(url) as s:
        create_user(s, username, "李", role, password, actor="t")


def try_login(username: str, password: str, **kw) -> str:
    try:
        authenticate(username, password, **kw)
        return "ok"
    except LoginRefused as exc:
        return str(exc)


# ------------------------------------------------------------ 2. lock-out under concurrency, throttling


def test_forty_parallel_wrong_passwords_lock_the_account(db_url):
    make_user(db_url)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: try_login("li", "wrong", now=NOW), range(40)))
    assert all(a != "ok" for a in answers)
    with session_scope(db_url) as s:
        user = s.scalar(select(User).where(User.username == "li"))
        # every failure before the lock took effect was counted (none lost to a race), and exactly one
        # attempt locked the account
        assert user.failed_logins >= 5
        assert user.locked_until is not None and user.locked_until > NOW
        assert s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'lockout'")).scalar() == 1
    # the right password is refused while the lock holds
    assert try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=1)) != "ok"
    assert try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=16)) == "ok"


class CountingChecks:
    """Counts the real password checks (bcrypt against an account's own hash; the dummy check that keeps
    refusals as slow as checks is not counted). It calls the real bcrypt: nothing is faked."""

    def __init__(self, monkeypatch):
        import threading

        import bcrypt

        from db import users

        self.real, self.n, self.lock, self.dummy = bcrypt.checkpw, 0, threading.Lock(), users._DUMMY_HASH
        monkeypatch.setattr(users.bcrypt, "checkpw", self)

    def __call__(self, password, hashed):
        if hashed != self.dummy:
            with self.lock:
                self.n += 1
        return self.real(password, hashed)


def in_one_wave(attempts):
    """Run every attempt at once (a barrier releases them together), as 40 parallel requests would."""
    import threading

    barrier = threading.Barrier(len(attempts))

    def go(attempt):
        barrier.wait()
        return attempt()
    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(go, attempts))


def test_thirty_nine_wrong_and_the_right_password_in_one_wave_check_at_most_five(db_url, monkeypatch):
    """#28 M1: the attempt takes its place before its password is checked, so a wave of guesses cannot
    all read "not locked yet"; once locked, the right password is refused too."""
    make_user(db_url)
    checks = CountingChecks(monkeypatch)
    wave = [lambda: try_login("li", "wrong", now=NOW, address="10.1.1.1")] * 39 + \
           [lambda: try_login("li", "s3cret-pass", now=NOW, address="10.1.1.1")]
    answers = in_one_wave(wave)
    assert checks.n <= 5
    with session_scope(db_url) as s:
        user = s.scalar(select(User).where(User.username == "li"))
        if answers[-1] != "ok":  # the right one came too late for a place: the wrong ones locked the account
            assert user.failed_logins == 5 and user.locked_until is not None and user.pending_logins == 0
            assert try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=1)) != "ok"
    assert try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=16)) == "ok"


def test_forty_wrong_in_one_wave_check_five_and_lock(db_url, monkeypatch):
    make_user(db_url)
    checks = CountingChecks(monkeypatch)
    answers = in_one_wave([lambda: try_login("li", "wrong", now=NOW)] * 40)
    assert all(a != "ok" for a in answers) and checks.n == 5
    with session_scope(db_url) as s:
        user = s.scalar(select(User).where(User.username == "li"))
        assert (user.failed_logins, user.pending_logins) == (5, 0) and user.locked_until > NOW
        assert s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'lockout'")).scalar() == 1
    checks.n = 0
    assert try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=1)) != "ok" and checks.n == 0


def test_one_address_gets_at_most_its_twenty_checks_in_one_wave(db_url, monkeypatch):
    for i in range(8):
        make_user(db_url, f"u{i}")
    checks = CountingChecks(monkeypatch)
    answers = in_one_wave([lambda i=i: try_login(f"u{i % 8}", "wrong", now=NOW, address="10.2.2.2")
                           for i in range(40)])
    assert checks.n <= 8 * 5 and checks.n <= 20  # the address's 20 places, whatever the accounts allow
    assert sum("此地址" in a for a in answers) >= 20
    assert "此地址" in try_login("u0", "s3cret-pass", now=NOW + timedelta(minutes=1), address="10.2.2.2")


def test_a_place_left_by_a_dead_attempt_is_free_again_after_a_minute(db_url):
    make_user(db_url)
    with session_scope(db_url) as s:
        s.execute(text("UPDATE users SET pending_logins = 5, pending_since = :t WHERE username = 'li'"),
                  {"t": NOW.replace(tzinfo=None)})
    assert try_login("li", "s3cret-pass", now=NOW + timedelta(seconds=30)) != "ok"  # five still in flight
    assert try_login("li", "s3cret-pass", now=NOW + timedelta(seconds=61)) == "ok"


def test_a_lock_that_ran_out_starts_the_count_afresh(db_url):
    make_user(db_url)
    for _ in range(5):
        try_login("li", "wrong", now=NOW)
    later = NOW + timedelta(minutes=20)
    assert try_login("li", "wrong", now=later) != "ok"
    assert try_login("li", "s3cret-pass", now=later) == "ok"  # one failure after expiry does not re-lock


def test_one_client_address_is_held_back_after_many_failures_across_names(db_url):
    make_user(db_url)
    for i in range(20):
        try_login(f"guess{i}", "x", now=NOW, address="10.9.8.7")
    held = try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=1), address="10.9.8.7")
    assert "此地址" in held
    # another address is not affected, and the address is free again after the window
    assert try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=1), address="10.9.8.8") == "ok"
    assert try_login("li", "s3cret-pass", now=NOW + timedelta(minutes=17), address="10.9.8.7") == "ok"


# ------------------------------------------------------------ 14. no user enumeration


def test_unknown_and_known_names_are_refused_alike_in_words_and_time(db_url):
    make_user(db_url)
    for _ in range(5):
        try_login("li", "wrong", now=NOW)  # li is now locked

    def timed(name: str) -> tuple[str, float]:
        t0 = time.perf_counter()
        answer = try_login(name, "wrong", now=NOW + timedelta(minutes=1))
        return answer, time.perf_counter() - t0

    unknown = [timed("nobody") for _ in range(3)]
    locked = [timed("li") for _ in range(3)]
    assert {a for a, _ in unknown} == {a for a, _ in locked}  # one message for all
    t_unknown = statistics.median(d for _, d in unknown)
    t_known = statistics.median(d for _, d in locked)
    assert t_unknown > 0.05 and t_known > 0.05  # both pay for a bcrypt check
    assert 0.5 < t_unknown / t_known < 2.0


# ------------------------------------------------------------ 6. a disabled account ends its session


def test_disabling_an_account_ends_its_open_session_on_the_next_run(db_url):
    from tests.apptest import signed_in

    at = signed_in("team_lead", username="lead-x")
    at.run()
    assert not at.exception and at.title[0].value == "实时督办看板"
    with session_scope(db_url) as s:
        set_active(s, "lead-x", False, actor="admin")
    at.run()
    assert not at.exception
    assert "实时督办看板" not in [t.value for t in at.title]  # the board is not shown any more
    assert "auth_user" not in at.session_state
    assert at.session_state["auth_expired"] == "changed"


def test_a_changed_role_ends_the_session_too(db_url):
    from tests.apptest import signed_in

    at = signed_in("team_lead", username="lead-y")
    at.run()
    with session_scope(db_url) as s:
        s.execute(text("UPDATE users SET role = 'trainer' WHERE username = 'lead-y'"))
    at.run()
    assert "实时督办看板" not in [t.value for t in at.title]
    assert "auth_user" not in at.session_state


# ------------------------------------------------------------ 13. the audit log cannot be rewritten


def test_the_audit_chain_links_every_row_and_verifies(db_url):
    with session_scope(db_url) as s:
        for i in range(5):
            record(s, "admin", "test", "thing", f"k{i}", None, {"n": i})
    with session_scope(db_url) as s:
        report = verify_chain(s)
    assert report.rows == 5 and report.broken_at is None and len(report.head) == 64


def test_truncate_and_replace_of_the_audit_log_are_refused(db_url):
    with session_scope(db_url) as s:
        record(s, "admin", "test", "thing", "k1", None, {"n": 1})
    engine = get_engine(db_url)
    if engine.dialect.name == "postgresql":
        statement = "TRUNCATE audit_log"
    else:
        statement = ("INSERT OR REPLACE INTO audit_log (id, at, actor, action, entity) "
                     "SELECT id, at, 'mallory', 'nothing', 'thing' FROM audit_log")
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(statement))
    with session_scope(db_url) as s:
        assert s.execute(text("SELECT actor FROM audit_log")).scalars().all() == ["admin"]


def test_a_row_changed_behind_the_triggers_breaks_the_chain_at_that_row(db_url):
    with session_scope(db_url) as s:
        for i in range(4):
            record(s, "admin", "test", "thing", f"k{i}", None, {"n": i})
    engine = get_engine(db_url)
    with engine.begin() as conn:  # someone with owner rights switches the guard off and edits row 2
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"))
            conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"))
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 2"))
    with session_scope(db_url) as s:
        report = verify_chain(s)
    assert report.broken_at == 2 and "changed" in report.reason


# ------------------------------------------------------------ 3. a killed import leaves no stuck lock


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_kill_9_of_an_import_mid_evaluation_leaves_no_orphan_and_no_lock(db_url, tmp_path):
    from tests.helpers import case_row, write_csv

    big = write_csv(tmp_path / "big.csv", [case_row(f"K{i:06d}") for i in range(8000)])
    small = write_csv(tmp_path / "small.csv", [case_row("AFTER-1")])
    env = {**os.environ, "COMPLAINTS_DB_URL": db_url, "COMPLAINTS_BULK_CHUNK": "500"}
    proc = subprocess.Popen([sys.executable, "manage.py", "import", str(big)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        if workers:
            break
        time.sleep(0.02)
    assert workers, "the import never forked its evaluation workers"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)
    assert [w for w in workers if _alive(w)] == []  # the workers died with their parent
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "manage.py", "import", str(small)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - t0 < 30  # not the 120 s lock wait
    with session_scope(db_url) as s:
        numbers = set(s.execute(text("SELECT case_no FROM cases")).scalars())
    assert "AFTER-1" in numbers and not any(n.startswith("K") for n in numbers)  # the killed import left nothing


# ------------------------------------------------------------ 10, 11, 18, 20: every bad file refused


def test_an_xlsx_zip_bomb_is_refused_before_it_is_parsed(tmp_path):
    import tracemalloc
    import zipfile

    import db.interchange as ix
    from tests.helpers import case_row, write_xlsx

    good = write_xlsx(tmp_path / "good.xlsx", [case_row("Z1")])
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/media/padding.bin", b"\0" * (300 * 1024 * 1024))  # 300 MB of zeros, ~300 KB packed
    assert bomb.stat().st_size < 2 * 1024 * 1024
    tracemalloc.start()
    with pytest.raises(ix.FileProblem, match="compressed .* times"):
        ix.read_table(bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 * 1024 * 1024  # refused without unpacking it


def test_a_sheet_declaring_too_many_rows_is_refused(tmp_path):
    import zipfile

    import db.interchange as ix
    from tests.helpers import case_row, write_xlsx

    good = write_xlsx(tmp_path / "good.xlsx", [case_row("Z1")])
    tall = tmp_path / "tall.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tall, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:O2"/>', b'<dimension ref="A1:O5000000"/>')
                assert b"5000000" in data
            dst.writestr(item, data)
    with pytest.raises(ix.FileProblem, match="5,000,000 rows"):
        ix.read_table(tall)


def test_mixed_gbk_and_utf8_is_refused_naming_the_first_bad_line(tmp_path):
    import db.interchange as ix
    from tests.helpers import case_row, write_csv

    head = write_csv(tmp_path / "a.csv", [case_row("M1"), case_row("M2", handler="张伟")]).read_bytes()
    gbk_line = "M3,2026-03-01 09:00,phone,network,,王芳,13800000000,陈静,,,,,,,accepted\n".encode("gbk")
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(head + gbk_line)
    with pytest.raises(ix.FileProblem, match=r"mixed.csv: line 4: the file mixes UTF-8 and GBK"):
        ix.read_table(mixed)


def test_big5_is_refused_and_ordinary_gbk_with_rare_names_is_accepted(tmp_path):
    import db.interchange as ix

    big5 = tmp_path / "big5.csv"
    big5.write_bytes("工單號,受理時間,處理人\nC1,2026-03-01 09:00,張偉\nC2,2026-03-01 09:00,陳靜\n".encode("big5"))
    with pytest.raises(ix.FileProblem, match="not GBK"):
        ix.read_table(big5)
    gbk = tmp_path / "gbk.csv"
    rows = "工单号,受理时间,受理渠道,投诉类别,处理人,受理结果\n" + "".join(
        f"G{i},2026-03-01 09:00,电话,网络,{name},受理\n" for i, name in enumerate(["张赟", "王喆", "李娜", "陈静", "刘洋"]))
    gbk.write_bytes(rows.encode("gbk"))
    assert list(ix.read_table(gbk).frame["handler"]) == ["张赟", "王喆", "李娜", "陈静", "刘洋"]


def test_duplicate_headers_and_late_nul_characters_are_refused(tmp_path):
    import db.interchange as ix
    from tests.helpers import case_row, write_csv

    path = write_csv(tmp_path / "dup.csv", [case_row("D1")])
    text_ = path.read_text(encoding="utf-8").replace("handler", "case_no", 1)
    path.write_text(text_, encoding="utf-8")
    with pytest.raises(ix.FileProblem, match=r"line 1: column 'case_no' appears twice \(columns 1 and \d+\)"):
        ix.read_table(path)
    rows = [case_row(f"N{i}") for i in range(80)]
    rows[60]["description"] = "信号差\0截断"
    nul = write_csv(tmp_path / "nul.csv", rows)
    assert nul.read_bytes().index(b"\0") > 4096
    with pytest.raises(ix.FileProblem, match="nul.csv: line 62: contains a NUL character"):
        ix.read_table(nul)


@pytest.mark.parametrize("column, value, reason", [
    ("received_at", "1900-01-01 09:00", "time out of range"),
    ("received_at", "2099-01-01 09:00", "time out of range"),
    ("promised_reply_at", "2026-02-28 09:00", "promised_reply_at is before received_at"),
    ("survey_at", "2026-02-28 09:00", "survey_at is before received_at"),
    ("archived_at", "2026-02-28 09:00", "archived_at is before received_at"),
    ("long_running_since", "2026-02-28 09:00", "long_running_since is before received_at"),
])
def test_impossible_times_are_refused_with_row_and_column(db_url, tmp_path, column, value, reason):
    from db.importer import import_files
    from tests.helpers import case_row, write_csv

    path = write_csv(tmp_path / "cases.csv", [case_row("T1"), case_row("T2", **{column: value})])
    report = import_files(path)
    assert not report.written
    assert [(p.line, p.column) for p in report.problems] == [(3, column)]
    assert reason in report.problems[0].reason


def test_the_cli_refuses_an_oversized_file_without_reading_it(tmp_path, capsys, monkeypatch, db_url):
    import builtins

    import manage

    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate(201 * 1024 * 1024)  # sparse: 201 MB on paper, nothing on disk
    opened = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda p, *a, **k: opened.append(str(p)) or real_open(p, *a, **k))
    code = manage.main(["import", str(big)])
    err = capsys.readouterr().err
    assert code == 1 and "larger than 200 MB" in err and "big.csv" in err
    assert str(big) not in opened


# ------------------------------------------------------------ 15, 20: reject files


def test_partial_import_whose_reject_file_cannot_be_written_keeps_nothing(db_url, tmp_path, capsys):
    import manage
    from tests.helpers import case_row, write_csv

    folder = tmp_path / "in"
    folder.mkdir()
    path = write_csv(folder / "cases.csv", [case_row("P1"), case_row("P2", channel="??")])
    (folder / "cases.rejects.csv").mkdir()  # the reject file's name is taken by a folder
    code = manage.main(["import", str(path), "--partial"])
    err = capsys.readouterr().err
    assert code == 1 and "reject file cannot be written" in err and "Traceback" not in err
    with session_scope(db_url) as s:
        assert s.execute(text("SELECT count(*) FROM cases")).scalar() == 0


def test_page_imports_keep_rejects_in_memory_not_on_disk(db_url, tmp_path, monkeypatch):
    import tempfile

    from db.importer import import_files
    from tests.helpers import case_row, write_csv

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    data = write_csv(tmp_path / "src.csv", [case_row("U1"), case_row("U2", channel="??")]).read_bytes()
    before = set(os.listdir(tmp_path))
    report = import_files(data, partial=True, cases_name="upload.csv")
    assert report.written and report.reject_files == []
    (name, blob), = report.reject_downloads
    assert name == "upload.rejects.csv" and "U2" in blob.decode("utf-8-sig")
    assert set(os.listdir(tmp_path)) == before


# ------------------------------------------------------------ 16, 17: clear command-line answers


def test_backup_of_a_mistyped_path_fails_and_creates_nothing(tmp_path, capsys):
    import manage

    missing = tmp_path / "typo.sqlite3"
    code = manage.main(["backup", str(tmp_path / "out.sqlite3"), "--db", f"sqlite:///{missing}"])
    err = capsys.readouterr().err
    assert code == 1 and "no such database file" in err
    assert not missing.exists() and not (tmp_path / "out.sqlite3").exists()


def test_backup_with_a_postgresql_url_points_to_pg_dump(capsys):
    import manage

    code = manage.main(["backup", "x.dump", "--db", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"])
    err = capsys.readouterr().err
    assert code == 1 and "pg_dump" in err and "Traceback" not in err


def test_reevaluate_with_the_database_down_says_so(capsys):
    import manage

    code = manage.main(["reevaluate", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"])
    err = capsys.readouterr().err
    assert code == 1 and "unavailable" in err and "another import" not in err


def test_a_second_sqlite_import_waits_for_the_first_instead_of_failing(sqlite_url, tmp_path):
    import threading

    from db.importer import import_files
    from db.locks import exclusive
    from tests.helpers import case_row, write_csv

    path = write_csv(tmp_path / "cases.csv", [case_row("W1")])
    released = threading.Event()

    def hold():  # a first writer keeps the import lock for 17 s (longer than the connection's 15 s wait)
        with session_scope(sqlite_url) as s:
            exclusive(s, "import")
            released.wait(17)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.5)
    threading.Timer(17, released.set).start()
    t0 = time.monotonic()
    report = import_files(path)
    holder.join()
    assert report.written and time.monotonic() - t0 > 15


def test_audit_verify_reports_the_first_broken_row(db_url, capsys):
    import manage

    with session_scope(db_url) as s:
        for i in range(3):
            record(s, "admin", "test", "thing", f"k{i}")
    assert manage.main(["audit-verify"]) == 0
    assert "3 row(s)" in capsys.readouterr().out
    engine = get_engine(db_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # owner rights: triggers off
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
    assert manage.main(["audit-verify"]) == 1
    assert "row id 3" in capsys.readouterr().err


# ------------------------------------------------------------ 4. the typical-case mark form is masked


def test_the_mark_form_and_history_show_trainers_no_personal_data(sqlite_url, tmp_path):
    from db.importer import import_files
    from db.library import mark_typical
    from tests.apptest import signed_in
    from tests.helpers import case_row, write_csv

    import_files(write_csv(tmp_path / "c.csv", [case_row("MK-1", customer_name="王小明")]), now=NOW)
    with session_scope(sqlite_url) as s:
        v = s.execute(text("SELECT version FROM cases WHERE case_no = 'MK-1'")).scalar()
        mark_typical(s, "MK-1", v, "王小明来电 13812345678，住泰州市海陵区春晖花园3栋2单元501", "回访王小明",
                     [], [], "good", "trainer", NOW)
    for role in ("trainer", "inspector"):
        at = signed_in(role, detail_case_no="MK-1")
        at.run()
        at.switch_page("pages/case_detail.py").run()
        assert not at.exception
        summary = at.text_area(key="mark_summary").value
        assert "王小明" not in summary and "13812345678" not in summary and "[手机号]" in summary
        history = " ".join(str(v) for d in at.dataframe for v in d.value.to_numpy().ravel())
        assert "13812345678" not in history and "王小明" not in history
    # a team lead may reveal (audited) and then sees the raw text to edit it
    at = signed_in("team_lead", detail_case_no="MK-1")
    at.run()
    at.switch_page("pages/case_detail.py").run()
    assert "13812345678" not in at.text_area(key="mark_summary").value
    at.button(key="detail_unmask").click().run()
    assert "13812345678" in at.text_area(key="mark_summary").value
    with session_scope(sqlite_url) as s:
        assert s.execute(text("SELECT count(*) FROM audit_log WHERE action = 'unmask'")).scalar() == 1


# ------------------------------------------------------------ 5. phone search cannot read a number back


def test_phone_search_matches_whole_numbers_or_a_narrowed_last_four_only(db_url, tmp_path):
    from db.importer import import_files
    from db.queries import SearchFilters, SearchRefused, search_cases
    from tests.helpers import case_row, write_csv

    import_files(write_csv(tmp_path / "c.csv", [case_row("PH-1", customer_phone="13812345678", handler="李娜"),
                                                case_row("PH-2", customer_phone="13912345678", handler="王芳")]))
    now = datetime(2026, 3, 5, tzinfo=timezone.utc)

    def found(**kw) -> list[str]:
        with session_scope(db_url) as s:
            return [r["case_no"] for r in search_cases(s, SearchFilters(**kw), now, user="lead")[1]]

    assert found(phone="138 1234 5678") == ["PH-1"]
    assert found(phone="1381234") == []  # a prefix is not a number: no partial match
    for fragment in ("138", "12345", "381234567"[:6]):
        with pytest.raises(SearchRefused, match="whole number"):
            found(phone=fragment)
    with pytest.raises(SearchRefused, match="last 4 digits need"):
        found(phone="5678")
    assert found(phone="5678", handler="李娜") == ["PH-1"]
    start = datetime(2026, 2, 20, tzinfo=timezone.utc)
    assert sorted(found(phone="5678", received_from=start, received_to=start + timedelta(days=20))) == ["PH-1", "PH-2"]


def test_phone_searches_are_rate_limited_per_user(db_url):
    from db.queries import PHONE_SEARCHES, SearchFilters, SearchRefused, search_cases

    now = datetime(2026, 3, 5, tzinfo=timezone.utc)
    for _ in range(PHONE_SEARCHES):
        with session_scope(db_url) as s:
            search_cases(s, SearchFilters(phone="13800000000"), now, user="mallory")
    with pytest.raises(SearchRefused, match="too many"):
        with session_scope(db_url) as s:
            search_cases(s, SearchFilters(phone="13800000001"), now, user="mallory")
    with session_scope(db_url) as s:  # another user is not held back, nor are other searches
        search_cases(s, SearchFilters(phone="13800000001"), now, user="lead")
        search_cases(s, SearchFilters(case_no="X"), now, user="mallory")
    with session_scope(db_url) as s:  # after the window
        search_cases(s, SearchFilters(phone="13800000001"), now + timedelta(minutes=11), user="mallory")


# ------------------------------------------------------------ 8, 12: configuration that protects every page


def test_streamlit_is_configured_to_show_no_traceback_and_no_table_download():
    import tomllib

    config = tomllib.loads(open(os.path.join(ROOT, ".streamlit", "config.toml"), encoding="utf-8").read())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["client"]["disableDataExport"] is True


# ------------------------------------------------------------ 9. user text is never Markdown


def test_a_crafted_case_link_is_shown_as_text_not_markdown(sqlite_url):
    from tests.apptest import signed_in

    payload = "X![x](http://evil.example/i.png)[登录](http://evil.example)<b>"
    at = signed_in("team_lead")
    at.query_params["case"] = payload
    at.run()
    at.switch_page("pages/case_detail.py").run()
    assert not at.exception
    shown = at.warning[-1].value
    assert "](" not in shown and "<b>" not in shown and "\\]\\(" in shown


# ------------------------------------------------------------ 12. absurd values are refused, NUL is harmless


def test_absurd_thresholds_are_refused_with_a_message():
    from rules.thresholds import Thresholds

    for value in ("1e9", "1e308", "inf", "nan"):
        with pytest.raises(ValueError, match="progress_interval_hours"):
            Thresholds.from_mapping({"progress_interval_hours": value})
    assert Thresholds.from_mapping({"progress_interval_hours": "72"}).progress_interval_hours == 72


def test_a_year_0001_or_9999_as_of_is_clamped_to_the_accepted_window():
    from datetime import date

    from domain.timeutil import EARLIEST_DATE, clamp_date, latest_date

    today = date(2026, 11, 29)
    assert clamp_date(date(1, 1, 1), today) == EARLIEST_DATE
    assert clamp_date(date(9999, 12, 31), today) == latest_date(today) == date(2028, 11, 29)


def test_a_nul_character_in_search_boxes_is_harmless_on_every_database(db_url):
    from db.audit import search
    from db.queries import SearchFilters, search_cases

    now = datetime(2026, 3, 5, tzinfo=timezone.utc)
    with session_scope(db_url) as s:
        assert search_cases(s, SearchFilters(case_no="TZ\x00", handler="李\x00"), now, user="x")[0] == 0
        assert search(s, actor="ad\x00min") == []


def test_several_rows_written_in_one_flush_survive_a_nul_character(db_url):
    """Several new objects flushed together go to PostgreSQL as one batched INSERT (its parameters a single
    mapping): the NUL filter must treat that as one row, not iterate it (it once turned it into a list of
    its keys, and the insert failed)."""
    from sqlalchemy import select

    from db.models import Team

    with session_scope(db_url) as s:
        s.add_all([Team(name=f"夜班\x00{i}组") for i in range(3)])
        s.flush()
    with session_scope(db_url) as s:
        names = set(s.scalars(select(Team.name).where(Team.name.like("夜班%"))))
    assert names == {"夜班0组", "夜班1组", "夜班2组"} or names == {f"夜班\x00{i}组" for i in range(3)}
    assert len(names) == 3


@pytest.mark.parametrize("value", ["1e9", "1e308"])
def test_an_absurd_progress_interval_in_an_import_is_refused_with_its_cell(db_url, tmp_path, value):
    from db.importer import import_files
    from tests.helpers import case_row, write_csv

    report = import_files(write_csv(tmp_path / "c.csv", [case_row("IV-1", progress_interval_hours=value)]))
    assert not report.written
    assert [(p.line, p.column) for p in report.problems] == [(2, "progress_interval_hours")]
    assert "at most 8760" in report.problems[0].reason
