#!/usr/bin/env python3
"""The clustered problem list as the product runs it (db.clusters): a full run over the stored complaints
(texts read, tokenised in two processes, clustered per category, ids matched to the previous run, every
membership and the models written), a second run (identity matching against the first), and the assignment
of newly imported complaints to their clusters without a run.

    python benchmarks/bench_cluster_db.py                       # seeds 100,000 cases into a temporary SQLite
    python benchmarks/bench_cluster_db.py --db postgresql+psycopg://postgres@127.0.0.1/bench
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, func, select  # noqa: E402

from benchmarks.common import timed  # noqa: E402
from db.clusters import assign_new, run  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Case, CaseCluster  # noqa: E402
from db.session import session_scope  # noqa: E402

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", help="an existing database (default: seed a temporary SQLite)")
    ap.add_argument("--cases", type=int, default=100_000)
    args = ap.parse_args()
    url = args.db
    if url is None:
        from db.seed import seed

        url = f"sqlite:///{tempfile.mkdtemp()}/bench-cluster.sqlite3"
        upgrade(url)
        with timed(f"seed {args.cases:,} cases", args.cases, "cases"):
            seed(args.cases, 7, NOW, url)
    upgrade(url)
    with session_scope(url) as s:
        total = s.scalar(select(func.count()).select_from(Case))
    print(f"database: {total:,} cases")
    for label in ("first run", "second run (ids matched to the first)"):
        t0 = time.perf_counter()
        with session_scope(url) as s:
            summary = run(s, "bench", "admin", NOW)
        print(f"{label}: {time.perf_counter() - t0:.1f} s, clusters {summary}")
    # 200 complaints "imported" since the run: take them out of their clusters and assign them again
    with session_scope(url) as s:
        ids = list(s.scalars(select(Case.id).order_by(Case.id.desc()).limit(200)))
        s.execute(delete(CaseCluster).where(CaseCluster.case_id.in_(ids)))
    timings = []
    with session_scope(url) as s:
        assign_new(s, NOW, limit=1)  # the stored model is read once per session
        for _ in range(199):
            t0 = time.perf_counter()
            assign_new(s, NOW, limit=1)
            timings.append(time.perf_counter() - t0)
    print(f"one new complaint assigned (query, words, nearest centre, insert): median "
          f"{statistics.median(timings) * 1000:.1f} ms, p95 {sorted(timings)[int(len(timings) * 0.95)] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
