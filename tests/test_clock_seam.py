"""One clock for the whole product (domain/clock.py): no product module reads the wall clock itself, so a
test that moves the clock moves every page, command and default period with it.

The check reads every product module with `ast` and reports each call that reads the machine's time —
`datetime.now()`, `datetime.utcnow()`, `datetime.today()`, `date.today()`, `time.time()`,
`pd.Timestamp.now()` / `today()` / `utcnow()`, `time.localtime()`, `time.gmtime()` without an argument —
wherever it sits. A line may read the real clock only where the product must agree with something outside
it (a file's mtime, a robot that checks a signature's time) and says so in a `# real clock:` comment.
"""
from __future__ import annotations

import ast
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from domain import clock
from tests.test_layers import ROOT, product_modules

SEAM = ROOT / "domain" / "clock.py"
# (object name, attribute) pairs whose call reads the wall clock
WALL = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
        ("time", "time"), ("time", "time_ns"), ("Timestamp", "now"), ("Timestamp", "today"),
        ("Timestamp", "utcnow"), ("time", "localtime"), ("time", "gmtime")}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def wall_clock_reads(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        pair = (_name(node.func.value), node.func.attr)
        if pair not in WALL:
            continue
        if pair in {("time", "localtime"), ("time", "gmtime")} and node.args:
            continue  # converting a given timestamp, not reading the clock
        if "# real clock:" in lines[node.lineno - 1] or "# real clock" in lines[node.lineno - 1]:
            continue
        found.append(f"{path.relative_to(ROOT)}:{node.lineno} reads the wall clock ({pair[0]}.{pair[1]}())")
    return found


def test_no_product_module_reads_the_wall_clock_but_the_seam():
    problems = [p for path in product_modules() if path != SEAM for p in wall_clock_reads(path)]
    assert problems == []


def test_the_check_catches_every_way_of_reading_the_clock(tmp_path):
    assert SEAM in product_modules()  # the check reads the product, not an empty list
    probe = ROOT / "domain" / "_clock_probe_tmp.py"
    probe.write_text(
        "import time\nimport pandas as pd\nfrom datetime import date, datetime, timezone\n"
        "def f():\n"
        "    a = datetime.now(timezone.utc)\n"
        "    b = date.today()\n"
        "    c = time.time()\n"
        "    d = pd.Timestamp.now()\n"
        "    e = time.localtime()\n"
        "    ok = time.localtime(0)\n"
        "    fine = time.time()  # real clock: compared with a file's mtime\n",
        encoding="utf-8")
    try:
        found = wall_clock_reads(probe)
    finally:
        probe.unlink()
    assert [f.split(":")[1].split(" ")[0] for f in found] == ["5", "6", "7", "8", "9"]


def test_the_offset_moves_now_and_today(monkeypatch):
    monkeypatch.delenv(clock.ENV, raising=False)
    real = datetime.now(timezone.utc)
    assert abs(clock.now() - real) < timedelta(seconds=2)
    monkeypatch.setenv(clock.ENV, "+366d")
    assert abs(clock.now() - real - timedelta(days=366)) < timedelta(seconds=2)
    monkeypatch.setenv(clock.ENV, "-30d")
    assert abs(clock.now() - real + timedelta(days=30)) < timedelta(seconds=2)
    assert clock.now().tzinfo is not None and clock.now().microsecond == 0


def test_travel_sets_the_clock_to_an_instant_in_any_zone(monkeypatch):
    target = datetime(2031, 2, 28, 23, 30, tzinfo=timezone(timedelta(hours=8)))
    monkeypatch.setenv(clock.ENV, clock.offset_for(target))
    assert abs(clock.now() - target) < timedelta(seconds=2)
    # 23:30 in Shanghai is still the 28th there, however far UTC is
    assert clock.today() == date(2031, 2, 28)


@pytest.mark.parametrize("text, seconds", [("+366d", 366 * 86400), ("-30d", -30 * 86400), ("+2h", 7200),
                                           ("-90m", -5400), ("45s", 45), ("3600", 3600), ("  -7 d ", -7 * 86400)])
def test_offsets_are_read_in_every_documented_form(text, seconds):
    assert clock.parse_offset(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["tomorrow", "+1y", "1d2h", "--3d", "+40000d"])
def test_an_offset_that_cannot_be_read_is_refused_by_name(text, monkeypatch):
    with pytest.raises(clock.ClockOffsetInvalid, match=clock.ENV):
        clock.parse_offset(text)
    monkeypatch.setenv(clock.ENV, text)
    with pytest.raises(clock.ClockOffsetInvalid):
        clock.now()


def test_a_stamp_follows_the_clock_but_does_not_mark_the_test_date_sensitive(monkeypatch, tmp_path):
    trace = tmp_path / "trace"
    monkeypatch.setenv(clock.ENV, "+366d")
    monkeypatch.setenv(clock.TRACE, str(trace))
    assert abs(clock.stamp() - datetime.now(timezone.utc) - timedelta(days=366)) < timedelta(seconds=2)
    assert not trace.exists()
    clock.now()
    assert trace.exists()
