"""The watched folder (#21 item 4): `manage.py import --watch DIR` imports every new export dropped into
DIR once, then moves it to DIR/done/ or DIR/failed/ with a report beside it.

Once only, even with two runs at the same moment (cron overlapping itself, two servers sharing a folder):
a run claims a file by renaming it into DIR/processing/ — a rename is atomic on one filesystem, so
exactly one run gets each file and the other finds it gone and moves on. A run that dies leaves its file
in processing/ (named with its process id), where an operator sees it; nothing is imported twice.
Files whose name contains "contacts" or 联系 are contact exports and are imported after the case files
of the same pass — and after the case files another run on this machine is still importing (a contacts file
taken while its cases were half in was refused for naming cases not there yet). With a profile (`--profile P`) every file is read through it. A file changed in the last `settle` seconds may still be being copied in: it waits for
the next pass.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from db.importer import ImportReport, import_files
from domain.importprofile import Profile

EXPORTS = (".csv", ".xlsx", ".xlsm")
CASES_WAIT = 600  # seconds a contacts file waits for case files another run is still importing


@dataclass
class WatchResult:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _is_contacts(name: str) -> bool:
    low = name.lower()
    return "contacts" in low or "联系" in name


def _claim(path: Path, processing: Path) -> Path | None:
    target = processing / f"{path.name}.{os.getpid()}"
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None  # another run took it first
    return target


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    try:  # a run that ended but was not yet reaped by its parent is a zombie: not importing anything
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _cases_in_flight(processing: Path) -> bool:
    """A case file another run on this machine has claimed and not finished (a dead run's file does not
    count: it stays in processing/ for an operator)."""
    for p in processing.iterdir():
        name, _dot, pid = p.name.rpartition(".")
        if name and not _is_contacts(name) and pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            return True
    return False


def _report_text(name: str, report: ImportReport) -> str:
    lines = [f"file: {name}", report.summary() if report.written else "nothing was written"]
    lines += [f"warning: {w}" for w in report.warnings]
    lines += [f"error: {p}" for p in report.problems]
    return "\n".join(lines) + "\n"


def watch_once(folder: Path, url: str | None, partial: bool = False,
               log: Callable[[str], None] = lambda line: None, settle: float = 5.0,
               profile: Profile | None = None) -> WatchResult:
    """One pass over the folder: every settled export present now, case files first, each imported once."""
    folder = Path(folder)
    processing, done, failed = folder / "processing", folder / "done", folder / "failed"
    for sub in (processing, done, failed):
        sub.mkdir(exist_ok=True)
    result = WatchResult()
    quiet_since = time.time() - settle  # real clock: compared with files' mtimes
    waiting = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXPORTS
                      and not p.name.startswith(".") and p.stat().st_mtime <= quiet_since),
                     key=lambda p: (_is_contacts(p.name), p.stat().st_mtime, p.name))
    for path in waiting:
        if _is_contacts(path.name):
            # contacts name their cases: wait until the case files another run is importing are in
            deadline = time.time() + CASES_WAIT  # real clock: a wait, not a product time
            while _cases_in_flight(processing) and time.time() < deadline:  # real clock
                time.sleep(0.2)
        claimed = _claim(path, processing)
        if claimed is None:
            continue
        name = path.name
        if _is_contacts(name):
            report = import_files(None, claimed, partial=partial, url=url, contacts_name=name, reject_dir=failed,
                                  profile=profile)
        else:
            report = import_files(claimed, None, partial=partial, url=url, cases_name=name, reject_dir=failed,
                                  profile=profile)
        ok = report.written  # a partial import that wrote the good rows is done; its rejects go to failed/
        dest = (done if ok else failed) / name
        if dest.exists():  # the same name seen before: keep both
            dest = dest.with_name(f"{dest.stem}.{os.getpid()}{dest.suffix}")
        os.rename(claimed, dest)
        dest.with_name(dest.name + ".report.txt").write_text(_report_text(name, report), encoding="utf-8")
        (result.done if ok else result.failed).append(name)
        log(f"{'done' if ok else 'failed'}: {name}")
    return result
