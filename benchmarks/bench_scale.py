#!/usr/bin/env python3
"""Re-evaluating one changed case and the board's queries on a large database.

    python benchmarks/bench_scale.py --cases 1000000 --db sqlite:///data/bench-1m.sqlite3
    python benchmarks/bench_scale.py --cases 1000000 --db postgresql+psycopg://postgres@127.0.0.1:5432/bench1m

Builds the database once (demo cases in chunks of 100k, each chunk stored and evaluated like an import),
then measures: (b) re-evaluating one changed case, (c) the live board's queries ("breached and at risk as
of now" and the rest), each as the median of several runs.
"""
from __future__ import annotations

import argparse
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from benchmarks.common import peak_mb, repeat_ms, timed  # noqa: E402
from db import board  # noqa: E402
from db.importer import write_and_evaluate  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Case, Contact  # noqa: E402
from db.obligations import reevaluate  # noqa: E402
from db.seed import generate  # noqa: E402
from db.session import session_scope  # noqa: E402
from domain.vocab import CASE_COLUMNS  # noqa: E402

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)
CHUNK = 100_000


def build(url: str, n: int) -> None:
    upgrade(url)
    with session_scope(url) as s:
        have = s.scalar(select(func.count()).select_from(Case)) or 0
    for k, start in enumerate(range(have, n, CHUNK)):
        size = min(CHUNK, n - start)
        with timed(f"build: cases {start:,}-{start + size:,} generated, stored and evaluated", size, "cases"):
            cases, contacts = generate(size, 100 + start // CHUNK, NOW, start=start)
            with session_scope(url) as s:
                write_and_evaluate(s, cases, list(CASE_COLUMNS), contacts, NOW)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--db", default="sqlite:///data/bench-1m.sqlite3")
    args = ap.parse_args()
    build(args.db, args.cases)
    with session_scope(args.db) as s:  # planner statistics, as imports and bulk jobs refresh them
        from db.session import refresh_statistics, settle_after_bulk

        refresh_statistics(s)
    settle_after_bulk(args.db)
    with session_scope(args.db) as s:
        total = s.scalar(select(func.count()).select_from(Case))
        from db.models import Obligation

        obligations = s.scalar(select(func.count()).select_from(Obligation))
    print(f"database: {total:,} cases, {obligations:,} stored obligations ({args.db.split(':')[0]})")

    # (b) one changed case: add a contact and re-evaluate it, as an import or an edit does.
    rng = random.Random(1)
    with session_scope(args.db) as s:
        max_id = s.scalar(select(func.max(Case.id)))
    samples = []
    import time

    for _ in range(25):
        case_id = rng.randint(1, max_id)
        with session_scope(args.db) as s:
            s.execute(insert(Contact), [{"case_id": case_id, "contact_at": NOW - timedelta(minutes=rng.randint(1, 600)),
                                         "kind": "other", "channel": "phone", "note": "bench"}])
            start = time.perf_counter()
            reevaluate(s, [case_id], NOW)
            samples.append((time.perf_counter() - start) * 1000)
            s.rollback()
    samples.sort()
    print(f"(b) re-evaluate one changed case: median {samples[len(samples) // 2]:.1f} ms, "
          f"worst {samples[-1]:.1f} ms over 25 cases")

    # (c) the board's queries as of now, all teams, deadline rules.
    f = board.BoardFilters()
    day_start = NOW.replace(hour=16, minute=0) - timedelta(days=1)  # local midnight in Shanghai
    with session_scope(args.db) as s:
        figures = {
            "tiles (open, at risk, overdue, breached today/7 days)": lambda: board.tiles(s, NOW, f, day_start),
            "act-now queue (at risk + overdue, 300 rows)": lambda: board.act_now(s, NOW, f),
            "per handler at risk / overdue": lambda: board.by_handler(s, NOW, f),
            "compliance per deadline, last 7 days (the board's default period)": lambda: board.compliance(
                s, NOW, f, NOW - timedelta(days=7), NOW),
            "breaches by day/weekday/hour/rule/category/channel, 7 days": lambda: board.breaches_in_period(
                s, NOW, f, NOW - timedelta(days=7), NOW, 8),
            "appeal risk (open > 12 days, no final result)": lambda: board.appeal_risk(s, NOW, f, NOW - timedelta(days=12)),
        }
        total_ms = 0.0
        for label, fn in figures.items():
            med, worst = repeat_ms(fn, 5)
            total_ms += med
            print(f"(c) {label}: median {med:.1f} ms, worst {worst:.1f} ms")
        for label, fn in {
            "compliance per deadline, last 30 days": lambda: board.compliance(s, NOW, f, NOW - timedelta(days=30), NOW),
            "breaches by day/weekday/hour/..., 30 days": lambda: board.breaches_in_period(
                s, NOW, f, NOW - timedelta(days=30), NOW, 8),
        }.items():
            med, worst = repeat_ms(fn, 5)
            print(f"(c) with a 30-day period instead: {label}: median {med:.1f} ms")
        core = repeat_ms(lambda: (board.tiles(s, NOW, f, day_start), board.act_now(s, NOW, f)), 5)[0]
        print(f"(c) 'breached and at risk as of now' (tiles + act-now queue): {core:.1f} ms")
        print(f"(c) all board queries together: {total_ms:.1f} ms; peak RSS {peak_mb():,.0f} MB")

        # (d) replaying past instants from the deadline episodes (the sidebar's "as of" set back).
        warn = timedelta(hours=4)
        for back in (timedelta(days=1), timedelta(days=7), timedelta(days=30)):
            at = NOW - back
            replay = {
                "tiles": lambda: board.replay_tiles(s, at, f, at - timedelta(hours=10), warn),
                "queue": lambda: board.replay_act_now(s, at, f, warn),
                "per handler": lambda: board.replay_by_handler(s, at, f, warn),
            }
            parts = {label: repeat_ms(fn, 5)[0] for label, fn in replay.items()}
            print(f"(d) replay {back.days} day(s) back: " + ", ".join(f"{k} {v:.1f} ms" for k, v in parts.items())
                  + f"; together {sum(parts.values()):.1f} ms")


if __name__ == "__main__":
    main()
