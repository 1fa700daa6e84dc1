#!/usr/bin/env python3
"""Full evaluation speed of the rule engine, beside its ceiling and the plain reference.

    python benchmarks/bench_rules.py --cases 100000 1000000

For each size: demo cases generated in memory (not timed), then
- evaluate in one process and across 2 worker processes (cases/s, peak memory);
- the engine alone on the same facts vs. the bare ceiling: the same facts, in the same batches of 1000,
  through a one-rule ruleset (so the ratio shows what the 16 rules cost over durable-rules itself);
- the plain-Python reference (rules/reference.py) on the same cases.
"""
from __future__ import annotations

import argparse
import copy
import gc
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import peak_mb, timed  # noqa: E402
from db.seed import generate  # noqa: E402
from rules.engine import RuleEngine, trivial_ceiling  # noqa: E402
from rules.evaluate import evaluate, evaluate_parallel  # noqa: E402
from rules.facts import BUILDERS, routed, view  # noqa: E402
from rules.reference import reference  # noqa: E402
from rules.thresholds import DEFAULT  # noqa: E402

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)


def cases_for(n: int) -> list[dict]:
    cases, contacts = generate(n, 7, NOW)
    by_case: dict[str, list] = defaultdict(list)
    for c in contacts:
        by_case[c["case_no"]].append((c["contact_at"], c["kind"]))
    for c in cases:
        c["contacts"] = by_case.get(c["case_no"], [])
    return cases


def facts_for(cases: list[dict]) -> dict[str, list[dict]]:
    now = int(NOW.timestamp())
    out: dict[str, list[dict]] = {k: [] for k in BUILDERS}
    for i, c in enumerate(cases):
        v = view(c, now)
        for concern in routed(v):
            built = BUILDERS[concern](v, DEFAULT)
            for f in built if isinstance(built, list) else [built]:
                f["id"] = f"c{i}.{f.get('dl', concern[0])}"
                out[concern].append(f)
    return out


def run(n: int) -> None:
    print(f"--- {n:,} demo cases ---", flush=True)
    cases = cases_for(n)
    gc.collect()
    with timed("evaluate, 1 process", n, "cases"):
        findings = evaluate(cases, NOW)
    print(f"  {len(findings):,} findings")
    del findings
    with timed("evaluate, 2 worker processes", n, "cases"):
        evaluate_parallel(cases, NOW, workers=2)
    facts = facts_for(cases)
    total = sum(len(v) for v in facts.values())
    engine = RuleEngine()
    start = time.perf_counter()
    for concern, items in facts.items():
        engine.run(concern, copy.copy(items))
    engine_s = time.perf_counter() - start
    start = time.perf_counter()
    trivial_ceiling([f for items in facts.values() for f in items])
    ceiling_s = time.perf_counter() - start
    print(f"engine alone: {total:,} facts in {engine_s:.2f} s ({total / engine_s:,.0f} facts/s); bare ceiling "
          f"{ceiling_s:.2f} s ({total / ceiling_s:,.0f} facts/s); engine at {100 * ceiling_s / engine_s:.0f} % "
          f"of the ceiling; {total / n:.2f} facts per case", flush=True)
    del facts
    with timed("plain-Python reference, 1 process", n, "cases"):
        for c in cases:
            reference(c, NOW)
    print(f"peak RSS {peak_mb():,.0f} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, nargs="+", default=[100_000])
    for n in ap.parse_args().cases:
        run(n)


if __name__ == "__main__":
    main()
