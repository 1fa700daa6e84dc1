#!/usr/bin/env python3
"""The automatic check of every closed case (results page, 自动检查 tab; sampling by the lowest score).

    python benchmarks/bench_autocheck.py                       # seeds 100,000 cases into a temporary SQLite
    python benchmarks/bench_autocheck.py --db sqlite:///data/bench-1m.sqlite3

Measures the column-wise `db.autocheck.auto_scores` over the results page's default window (the last 150
days of closed cases) and over every closed case, and the case-by-case reference (the assessment form's own
code path) on a slice, to show what the column-wise form buys. Nothing is written.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from benchmarks.common import timed  # noqa: E402
from db.autocheck import auto_scores, closed_case_ids, reference_scores  # noqa: E402
from db.inspection import ensure_default_scorecard, scorecard  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Case  # noqa: E402
from db.session import session_scope  # noqa: E402

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", help="an existing database (default: seed a temporary SQLite)")
    ap.add_argument("--cases", type=int, default=100_000, help="cases to seed when no --db is given")
    ap.add_argument("--reference", type=int, default=3_000, help="cases for the case-by-case reference")
    args = ap.parse_args()
    url = args.db
    if url is None:
        from db.seed import seed

        url = f"sqlite:///{tempfile.mkdtemp()}/bench-autocheck.sqlite3"
        upgrade(url)
        with timed(f"seed {args.cases:,} cases", args.cases, "cases"):
            seed(args.cases, 7, NOW, url)
    upgrade(url)
    with session_scope(url) as s:
        total = s.scalar(select(func.count()).select_from(Case))
        card = scorecard(s, ensure_default_scorecard(s))
        window = closed_case_ids(s, NOW - timedelta(days=150), NOW)
        every = closed_case_ids(s, NOW - timedelta(days=3650), NOW + timedelta(days=1))
        print(f"database: {total:,} cases; closed in the last 150 days: {len(window):,}; closed in all: {len(every):,}")
        with timed("auto_scores, last 150 days", len(window), "cases"):
            scored = auto_scores(s, window, card, NOW)
        with timed("auto_scores, every closed case", len(every), "cases"):
            auto_scores(s, every, card, NOW)
        part = window[: args.reference]
        with timed(f"reference (case by case), {len(part):,} cases", len(part), "cases"):
            reference_scores(s, part, card, NOW)
        print(f"mean automatic score {scored['auto_score'].dropna().mean():.1f}, "
              f"pass rate {100 * scored['auto_passed'].dropna().astype(float).mean():.1f} %")
        s.rollback()


if __name__ == "__main__":
    main()
