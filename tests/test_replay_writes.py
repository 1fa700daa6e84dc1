"""The replay ("as of") instant chooses what a page shows of the past; it never decides what a user may see
or do, and never stamps a write (docs/security.md). Two checks:

- by reading: no page passes its replay instant (`now = as_of()`, or `as_of()` itself) to a function of db/
  or services/ that writes (one that records an audit entry or adds or deletes rows through its session);
- by running: replaying past a blind calibration's deadline neither shows the closed view nor sends the
  other inspectors' verdicts, and the writes made while replaying carry the server's time.
"""
from __future__ import annotations

import ast
from pathlib import Path

from tests.test_layers import ROOT

PAGES = sorted((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]


def _callee(node: ast.Call) -> str | None:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def writing_functions() -> set[str]:
    """Functions of db/ and services/ that write: they record an audit entry or add/delete through their
    session (a set's `.add` is not a write)."""
    names = set()
    for folder in ("db", "services"):
        for path in (ROOT / folder).glob("*.py"):
            for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(fn, ast.FunctionDef):
                    continue
                for node in ast.walk(fn):
                    if not isinstance(node, ast.Call):
                        continue
                    f = node.func
                    if isinstance(f, ast.Name) and f.id == "record":
                        names.add(fn.name)
                    elif (isinstance(f, ast.Attribute) and f.attr in {"record", "add", "add_all", "delete"}
                          and isinstance(f.value, ast.Name) and f.value.id in {"session", "s", "audit"}):
                        names.add(fn.name)
    return names


def replay_instants_in_writes(path: Path, writes: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    replay_names = {"now"} | {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign)
                              and isinstance(n.value, ast.Call) and _callee(n.value) == "as_of"
                              for t in n.targets if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee(node) in writes:
            for arg in list(node.args) + [k.value for k in node.keywords]:
                for inner in ast.walk(arg):
                    if (isinstance(inner, ast.Name) and inner.id in replay_names) or \
                            (isinstance(inner, ast.Call) and _callee(inner) == "as_of"):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} passes the replay instant to "
                                     f"{_callee(node)}()")
    return found


def test_no_page_stamps_a_write_with_the_replay_instant():
    writes = writing_functions()
    problems = [p for path in PAGES for p in replay_instants_in_writes(path, writes)]
    assert problems == []


def test_the_reading_knows_the_writes_it_guards(tmp_path):
    writes = writing_functions()
    # the writes the red-team pass found stamped with the replay instant are all known as writes
    assert {"close_session", "set_consensus", "create_coaching", "acknowledge_coaching", "complete_action",
            "add_action", "update_action", "decide", "record_walk", "create_problem", "run_checks"} <= writes
    probe = tmp_path / "probe.py"
    probe.write_text("from ui.common import as_of\nnow = as_of()\nseen = as_of()\n"
                     "close_session(s, 1, 'me', 'inspector', now)\nrecord_walk(s, when=seen)\n"
                     "decide(s, 1, at=as_of())\nsorted([now])\n", encoding="utf-8")
    probe_rel = ROOT / "pages" / "_replay_probe_tmp.py"
    probe_rel.write_text(probe.read_text(encoding="utf-8"), encoding="utf-8")
    try:
        found = replay_instants_in_writes(probe_rel, writes)
    finally:
        probe_rel.unlink()
    assert [f.split(":")[1].split(" ")[0] for f in found] == ["4", "5", "6"]
