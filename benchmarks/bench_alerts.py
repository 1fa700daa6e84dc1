#!/usr/bin/env python3
"""One alert sweep's decision on a large database: the firings due now (range queries on the stored due
times) and the outbox rows they make, written in a transaction that is rolled back (nothing is sent).

    python benchmarks/bench_alerts.py --db sqlite:///data/bench-1m.sqlite3

Use the database that benchmarks/bench_scale.py builds (1M cases).
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from benchmarks.common import repeat_ms  # noqa: E402
from db import alerts as store  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Case, Team  # noqa: E402
from db.session import get_engine  # noqa: E402
from services import alerts  # noqa: E402
from services.channels import Settings  # noqa: E402

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite:///data/bench-1m.sqlite3")
    args = ap.parse_args()
    upgrade(args.db)
    from sqlalchemy.orm import Session

    with Session(get_engine(args.db)) as s:
        total = s.scalar(select(func.count()).select_from(Case))
        teams = list(s.scalars(select(Team.name)))
        settings = Settings(channels={f"t{i}": {"kind": "wecom", "url": "http://127.0.0.1:9/none"} for i in range(len(teams))},
                            teams={t: {"channels": [f"t{i}"], "lead_email": f"lead{i}@x"} for i, t in enumerate(teams)},
                            manager={"email": "boss@x"}, smtp={"host": "127.0.0.1"})
        rows = alerts.decide(s, settings, NOW)
        med, worst = repeat_ms(lambda: alerts.decide(s, settings, NOW), 5)
        print(f"database: {total:,} cases, {len(teams)} teams")
        print(f"sweep decision (firings due in the last 26 h, targets resolved): median {med:.1f} ms, worst {worst:.1f} ms; "
              f"{len(rows):,} outbox rows")
        ins = repeat_ms(lambda: (store.enqueue(s, rows), s.rollback()), 3)[0]
        print(f"writing them to the outbox (unique key, rolled back): median {ins:.1f} ms")


if __name__ == "__main__":
    main()
