#!/usr/bin/env python3
"""Library search: precision@5 on the judged queries over the demo library, and the time of a search over
a library of 25,000 entries.

    python benchmarks/bench_search.py [--entries 25000]

1. the first-start demo (5,000 cases, seed 1): precision@5 of each judged query (tests/data/search/judged.py),
   k = min(5, relevant entries the library holds), on the ranking before near-duplicates are folded;
2. a temporary SQLite with `--entries` typical cases (seeded, every case marked typical and put into the
   library like an import does): median and worst time of each judged query, folded as the page shows it.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, update  # noqa: E402

from benchmarks.common import repeat_ms, timed  # noqa: E402
from db.library import LibraryFilters, search_library, sync_imported  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Case, TypicalMark  # noqa: E402
from db.seed import seed  # noqa: E402
from db.session import session_scope  # noqa: E402
from tests.data.search.judged import JUDGED  # noqa: E402
from tests.test_search_quality import precision_at_5  # noqa: E402

NOW = datetime(2026, 11, 29, tzinfo=timezone.utc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=25_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.sqlite3"
        upgrade(url)
        seed(5000, 1, NOW, url)
        with session_scope(url) as s:
            library = search_library(s, LibraryFilters(), limit=100_000)
            scores = [(q, precision_at_5(s, q, rel, library)) for q, rel in JUDGED]
        print(f"demo library: {len(library)} entries; {len(scores)} judged queries")
        for q, p in scores:
            print(f"  {p:4.2f}  {q}")
        print(f"mean precision@5: {sum(p for _, p in scores) / len(scores):.3f}")

        url = f"sqlite:///{tmp}/big.sqlite3"
        upgrade(url)
        with timed(f"seeding {args.entries:,} cases"):
            seed(args.entries, 2, NOW, url)
        with session_scope(url) as s:
            ids = list(s.scalars(select(Case.id)))
            s.execute(update(Case).values(typical=True, typical_summary="典型案例：先核实事实，再给出可选方案。")
                      .execution_options(synchronize_session=False))
            with timed(f"putting {len(ids):,} cases into the library", len(ids), "cases"):
                sync_imported(s, ids, NOW)
        with session_scope(url) as s:
            entries = s.scalar(select(func.count()).select_from(TypicalMark).where(TypicalMark.active.is_(True)))
            search_library(s, LibraryFilters(query="预热"))
            worst_all, medians = 0.0, []
            for q, _rel in JUDGED:
                med, worst = repeat_ms(lambda q=q: search_library(s, LibraryFilters(query=q)), 5)
                medians.append(med)
                worst_all = max(worst_all, worst)
                print(f"  {q}: median {med:.0f} ms, worst {worst:.0f} ms")
        medians.sort()
        print(f"search over {entries:,} entries: median of medians {medians[len(medians) // 2]:.0f} ms, "
              f"slowest query median {medians[-1]:.0f} ms, worst single run {worst_all:.0f} ms")


if __name__ == "__main__":
    main()
