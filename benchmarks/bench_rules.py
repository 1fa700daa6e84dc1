#!/usr/bin/env python3
"""Full evaluation speed of the rule engine, beside its ceiling and the plain reference.

    python benchmarks/bench_rules.py --cases 100000 1000000

For each size: demo cases generated in memory (not timed), then
- full evaluation across 2 worker processes and in one process, as the product's bulk jobs run it
  (outcomes in columns; cases/s, peak memory), and the same as a list of Finding objects;
- the engine alone on the same facts vs. the ceiling: the same facts, in the same batches and encoding,
  through a ruleset whose one rule never matches (so the ratio shows what the 16 rules cost over
  durable-rules itself);
- the plain-Python reference (rules/reference.py) on the same cases.
"""
from __future__ import annotations

import argparse
import gc
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import children_peak_mb, peak_mb, rss_mb, timed  # noqa: E402
from db.seed import generate  # noqa: E402
from rules.engine import RuleEngine, trivial_ceiling  # noqa: E402
from rules.evaluate import evaluate, evaluate_outcomes, evaluate_parallel_outcomes, facts_of  # noqa: E402
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


def run(n: int) -> None:
    print(f"--- {n:,} demo cases ---", flush=True)
    cases = cases_for(n)
    gc.collect()
    print(f"cases generated and held in memory: RSS {rss_mb():,.0f} MB", flush=True)
    # The product's bulk path (imports, seeds, threshold changes): outcomes in columns. Run first, so that
    # the peak memory printed is this step's own (the figures below only grow).
    with timed("full evaluation, 2 worker processes (the bulk path: outcomes in columns)", n, "cases"):
        outcomes = evaluate_parallel_outcomes(cases, NOW, workers=2)
    print(f"  {len(outcomes):,} findings; peak RSS of a worker {children_peak_mb():,.0f} MB", flush=True)
    del outcomes
    gc.collect()
    with timed("full evaluation, 1 process (outcomes in columns)", n, "cases"):
        outcomes = evaluate_outcomes(cases, NOW)
    del outcomes
    gc.collect()
    with timed("the same as a sorted list of Finding objects (the API of small evaluations), 1 process", n, "cases"):
        findings = evaluate(cases, NOW)
    print(f"  {len(findings):,} findings", flush=True)
    del findings
    gc.collect()
    gc.disable()
    start = time.perf_counter()
    facts, _owners = facts_of(cases, int(NOW.timestamp()), DEFAULT)
    build_s = time.perf_counter() - start
    engine = RuleEngine()
    start = time.perf_counter()
    fired = engine.run(facts)
    engine_s = time.perf_counter() - start
    start = time.perf_counter()
    trivial_ceiling(facts)
    ceiling_s = time.perf_counter() - start
    gc.enable()
    print(f"building {len(facts):,} facts: {build_s:.2f} s ({n / build_s:,.0f} cases/s)")
    print(f"engine alone, 16 rules: {engine_s:.2f} s ({n / engine_s:,.0f} cases/s, {len(fired):,} firings); "
          f"ceiling, one never-matching rule on the same facts: {ceiling_s:.2f} s ({n / ceiling_s:,.0f} cases/s); "
          f"the rules cost {100 * (engine_s - ceiling_s) / ceiling_s:.0f} % over durable-rules itself", flush=True)
    del facts, fired
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
