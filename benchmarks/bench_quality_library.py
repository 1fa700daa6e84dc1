#!/usr/bin/env python3
"""Inspection sampling, the case library and the archive queue on a large database.

    python benchmarks/bench_quality_library.py --db sqlite:///data/bench-1m.sqlite3 --library 10000

Uses the database bench_scale.py builds (1M cases). Measures: the sampling population of one month of
closed cases and drawing from it with each method; putting N typical cases into the library
(de-identification and jieba segmentation); Chinese searches over that library; the archive queue.
Work done here is rolled back, so the database is left as it was.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, update  # noqa: E402

from benchmarks.common import peak_mb, repeat_ms, timed  # noqa: E402
from db.inspection import Population, population  # noqa: E402
from db.library import LibraryFilters, archive_queue, search_library, sync_imported  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Case  # noqa: E402
from db.session import session_scope  # noqa: E402
from domain.sampling import Method, draw  # noqa: E402

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite:///data/bench-1m.sqlite3")
    ap.add_argument("--library", type=int, default=10_000, help="typical cases to put into the library")
    args = ap.parse_args()
    upgrade(args.db)
    with session_scope(args.db) as s:
        total = s.scalar(select(func.count()).select_from(Case))
        print(f"database: {total:,} cases")
        month = Population(start=NOW - timedelta(days=30), end=NOW)
        med, worst = repeat_ms(lambda: population(s, month, NOW), 3)
        pop = population(s, month, NOW)
        print(f"sampling population, closed in the last 30 days ({len(pop):,} cases, flags as of now): "
              f"median {med:.0f} ms, worst {worst:.0f} ms")
        for label, m in {"simple random, 200": Method("random", size=200),
                         "stratified by team, 2 %, at least 5 per stratum": Method("stratified", percent=2, strata=["team"], minimum=5),
                         "5 per handler and month": Method("quota", per_handler=5),
                         "risk-weighted x3, 200": Method("risk", size=200, weight=3)}.items():
            med, _ = repeat_ms(lambda m=m: draw(pop, m, 7), 3)
            print(f"draw {label}: {len(draw(pop, m, 7)):,} cases in {med:.0f} ms")

        ids = list(s.scalars(select(Case.id).order_by(Case.id).limit(args.library)))
        s.execute(update(Case).where(Case.id.in_(select(Case.id).order_by(Case.id).limit(args.library).scalar_subquery()))
                  .values(typical=True, typical_summary="网络类典型：夜间扩容后信号恢复，先核实再给出可选方案。")
                  .execution_options(synchronize_session=False))
        with timed(f"library: {len(ids):,} typical cases de-identified, segmented and stored", len(ids), "cases"):
            sync_imported(s, ids, NOW)
        entries = s.scalar(select(func.count()).select_from(Case).where(Case.typical.is_(True)))
        for query in ("信号弱", "宽带 断网 上门", "营业厅服务态度", "不知情定制 退费"):
            med, worst = repeat_ms(lambda q=query: search_library(s, LibraryFilters(query=q)), 5)
            n = len(search_library(s, LibraryFilters(query=query), limit=100000))
            print(f"library search {query!r} over {entries:,} entries: {n:,} hits, median {med:.0f} ms, worst {worst:.0f} ms")
        med, _ = repeat_ms(lambda: search_library(s, LibraryFilters(categories=["network"])), 5)
        print(f"library browse (category filter, newest first): median {med:.0f} ms")
        med, worst = repeat_ms(lambda: archive_queue(s, NOW), 5)
        n, _rows = archive_queue(s, NOW)
        print(f"archive queue ({n:,} closed cases not archived, first 500 with checklists): median {med:.0f} ms, "
              f"worst {worst:.0f} ms; peak RSS {peak_mb():,.0f} MB")
        s.rollback()


if __name__ == "__main__":
    main()
