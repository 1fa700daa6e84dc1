#!/usr/bin/env python3
"""Seed and import speed.

    python benchmarks/bench_import.py --cases 100000

1. seed: generate N demo cases, store them and evaluate every case (what `manage.py seed` does);
2. export those cases and contacts to CSV files (not timed);
3. import the two CSV files into an empty database (what `manage.py import` does: read, check every cell,
   store, re-evaluate the imported cases, in one transaction);
4. the bare floor: the very rows that import stored (cases, contacts, obligations, deadline episodes, hourly
   counts, teams, handlers), read back as tuples and inserted with plain sqlite3 `executemany` into an
   empty database with the same schema, indexes and settings, in one transaction — what writing them costs with no
   reading, checking or evaluating at all; the import's speed is printed as a share of it;
5. import them again (every row already there: the idempotent path a scheduler runs every few minutes).
Each step runs in a fresh process so that its peak memory is its own.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def step(name: str, args: argparse.Namespace, workdir: Path) -> None:
    from benchmarks.common import timed

    seed_db = f"sqlite:///{workdir / 'seed.sqlite3'}"
    import_db = f"sqlite:///{workdir / 'import.sqlite3'}"
    if name == "seed":
        from db.migrate import upgrade
        from db.seed import seed

        upgrade(seed_db)
        with timed(f"seed {args.cases:,} cases (generate + store + evaluate)", args.cases, "cases"):
            seed(args.cases, 1, url=seed_db)
    elif name == "export":
        import pandas as pd
        from sqlalchemy import create_engine

        engine = create_engine(seed_db)
        cases = pd.read_sql("SELECT c.*, h.name AS handler, t.name AS team FROM cases c JOIN handlers h ON "
                            "h.id = c.handler_id LEFT JOIN teams t ON t.id = c.team_id", engine)
        for col in ("received_at", "promised_reply_at", "rejection_informed_at", "long_running_since",
                    "survey_at", "closed_at", "archived_at"):
            cases[col] = pd.to_datetime(cases[col]).dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")
        for col in ("items_confirmed", "demand_excessive", "typical"):
            cases[col] = cases[col].map({1: "true", 0: "false", 1.0: "true", 0.0: "false", True: "true",
                                         False: "false"}).fillna("")
        cases["progress_interval_hours"] = cases["progress_interval_hours"].map(
            lambda v: "" if pd.isna(v) else f"{v:g}")
        cases = cases.drop(columns=["id", "handler_id", "team_id", "created_at", "updated_at", "version"])
        cases.to_csv(workdir / "cases.csv", index=False, encoding="utf-8-sig")
        contacts = pd.read_sql("SELECT c.case_no, k.contact_at, k.kind, k.channel, k.note FROM contacts k "
                               "JOIN cases c ON c.id = k.case_id", engine)
        contacts["contact_at"] = pd.to_datetime(contacts["contact_at"]).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        contacts.to_csv(workdir / "contacts.csv", index=False, encoding="utf-8-sig")
        print(f"exported {len(cases):,} cases and {len(contacts):,} contacts "
              f"({(workdir / 'cases.csv').stat().st_size / 1e6:.0f} MB + {(workdir / 'contacts.csv').stat().st_size / 1e6:.0f} MB CSV)")
    elif name in ("import", "reimport"):
        from db.importer import import_files
        from db.migrate import upgrade

        upgrade(import_db)
        label = "import" if name == "import" else "re-import of the same files (all rows known)"
        with timed(f"{label}: {args.cases:,} cases + contacts", args.cases, "case rows") as box:
            report = import_files(workdir / "cases.csv", workdir / "contacts.csv", url=import_db)
        assert report.ok, report.problems[:3]
        print(f"  {report.summary()}")
        if name == "import":
            (workdir / "import.seconds").write_text(str(box["seconds"]))
    elif name == "floor":
        floor(args, workdir)


FLOOR_TABLES = ("teams", "handlers", "cases", "contacts", "obligations", "deadline_episodes", "deadline_hours")


PRODUCT_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "cache_size=-65536")  # db/session.py


def bare_write(workdir: Path, schema: list[str], data: dict[str, list[tuple]], pragmas: tuple[str, ...]) -> float:
    """Seconds to insert `data` with plain sqlite3 executemany, in one transaction, into a new database with
    `schema` and `pragmas`."""
    import sqlite3
    import time

    for leftover in workdir.glob("floor.sqlite3*"):
        leftover.unlink()
    target = sqlite3.connect(workdir / "floor.sqlite3", isolation_level=None)
    for pragma in pragmas:
        target.execute(f"PRAGMA {pragma}")
    for sql in schema:
        target.execute(sql)
    start = time.perf_counter()
    target.execute("BEGIN")
    for table, rows in data.items():
        if rows:
            target.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(rows[0]))})', rows)
    target.execute("COMMIT")
    seconds = time.perf_counter() - start
    target.close()
    return seconds


def floor(args: argparse.Namespace, workdir: Path) -> None:
    import sqlite3

    source = sqlite3.connect(workdir / "import.sqlite3")
    schema = [sql for (sql,) in source.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index'")]
    data = {t: source.execute(f'SELECT * FROM "{t}"').fetchall() for t in FLOOR_TABLES}
    source.close()
    total_rows = sum(len(rows) for rows in data.values())
    print(f"bare sqlite3 floor: the same {total_rows:,} rows ("
          + ", ".join(f"{t} {len(r):,}" for t, r in data.items() if r) + ") in one transaction")
    imported = float((workdir / "import.seconds").read_text())
    for label, pragmas in (("with the product's settings (WAL, synchronous=NORMAL, 64 MiB cache)", PRODUCT_PRAGMAS),
                           ("with SQLite's defaults (rollback journal, synchronous=FULL)", ())):
        seconds = bare_write(workdir, schema, data, pragmas)
        print(f"  {label}: {seconds:.2f} s, {args.cases / seconds:,.0f} cases/s; the import "
              f"({imported:.2f} s) runs at {100 * seconds / imported:.0f} % of its speed", flush=True)
    # What storing the "met" obligations costs (the question: would hourly counts plus the violations do?):
    # the same floor with the met rows left out.
    state_col = [c[1] for c in sqlite3.connect(workdir / "import.sqlite3").execute("PRAGMA table_info(obligations)")].index("state")
    without_met = {t: ([r for r in rows if r[state_col] != "met"] if t == "obligations" else rows) for t, rows in data.items()}
    lean = bare_write(workdir, schema, without_met, PRODUCT_PRAGMAS)
    met = len(data["obligations"]) - len(without_met["obligations"])
    print(f"  the same without the {met:,} met obligations ({100 * met / len(data['obligations']):.0f} % of them), "
          f"product settings: {lean:.2f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--step")
    ap.add_argument("--workdir")
    args = ap.parse_args()
    if args.step:
        step(args.step, args, Path(args.workdir))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("seed", "export", "import", "floor", "reimport"):
            subprocess.run([sys.executable, __file__, "--cases", str(args.cases), "--step", name, "--workdir", tmp],
                           check=True)


if __name__ == "__main__":
    main()
