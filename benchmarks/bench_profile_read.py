#!/usr/bin/env python3
"""What reading an export through an import profile costs beside reading the product's own format.

    python benchmarks/bench_profile_read.py --cases 100000

Builds N case rows in two shapes from the test layouts in tests/data/foreign (the 48 cases repeated with
new case numbers): the own format (cases CSV + contacts CSV) and the provincial export (GBK, two title
lines, `2026/3/5 8:07` times, value maps, the description joined from two columns, contacts as three time
columns). Times the read-and-check step of an import (read, map, type every cell, check each row; no
database), which is all a profile changes: what is stored and evaluated afterwards is the same rows.
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import timed  # noqa: E402
from db import interchange as ix  # noqa: E402
from domain.importprofile import from_yaml  # noqa: E402
from domain.vocab import CASE_COLUMNS, CONTACT_COLUMNS  # noqa: E402

FOREIGN = ROOT / "tests" / "data" / "foreign"


def _rows(text: str, sep: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=sep))


def _write(rows: list[list[str]], path: Path, encoding: str) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def build(n: int, work: Path) -> tuple[Path, Path, Path]:
    own = _rows((FOREIGN / "own" / "cases.csv").read_text(encoding="utf-8"))
    own_contacts = _rows((FOREIGN / "own" / "contacts.csv").read_text(encoding="utf-8"))
    province = _rows((FOREIGN / "province" / "工单导出.csv").read_bytes().decode("gbk"))
    head, body = province[:3], province[3:]
    cases, contacts, foreign = [own[0]], [own_contacts[0]], list(head)
    by_case: dict[str, list[list[str]]] = {}
    for c in own_contacts[1:]:
        by_case.setdefault(c[0], []).append(c)
    for i in range(n):
        k = i % len(body)
        number = f"BX-{i:08d}"
        cases.append([number] + own[1 + k][1:])
        contacts += [[number] + c[1:] for c in by_case.get(own[1 + k][0], [])]
        foreign.append([number] + body[k][1:])
    paths = work / "cases.csv", work / "contacts.csv", work / "province.csv"
    _write(cases, paths[0], "utf-8")
    _write(contacts, paths[1], "utf-8")
    _write(foreign, paths[2], "gbk")
    return paths


def own_format(cases: Path, contacts: Path) -> int:
    table = ix.read_table(cases, columns=CASE_COLUMNS)
    parsed = ix.parse_rows(table, CASE_COLUMNS)
    ix.check_cases(table, parsed)
    c = ix.parse_rows(ix.read_table(contacts, columns=CONTACT_COLUMNS), CONTACT_COLUMNS)
    assert not parsed.problems and not c.problems
    return len(parsed.rows) + len(c.rows)


def through_profile(path: Path) -> int:
    profile = from_yaml((FOREIGN / "province" / "profile.yaml").read_text(encoding="utf-8"))
    table = ix.read_profiled(path, None, profile, "cases")
    parsed = ix.parse_rows(table, CASE_COLUMNS, profile.tz)
    ix.check_cases(table, parsed)
    c = ix.parse_rows(ix.contacts_in_columns(table, profile), CONTACT_COLUMNS, profile.tz)
    assert not parsed.problems and not c.problems
    return len(parsed.rows) + len(c.rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases, contacts, province = build(args.cases, Path(tmp))
        print(f"{args.cases:,} cases; own format {cases.stat().st_size / 1e6:.1f} MB + "
              f"{contacts.stat().st_size / 1e6:.1f} MB, provincial export {province.stat().st_size / 1e6:.1f} MB")
        with timed("own format: read and check cases + contacts") as t1:
            rows1 = own_format(cases, contacts)
        with timed("provincial export through its profile: read, map, check") as t2:
            rows2 = through_profile(province)
        assert rows1 == rows2, (rows1, rows2)
        print(f"rows typed and checked: {rows1:,} each; the profile costs {t2['seconds'] / t1['seconds']:.2f}× the own "
              f"format ({args.cases / t2['seconds']:,.0f} case rows/s through the profile)")


if __name__ == "__main__":
    main()
