"""Helpers shared by the benchmarks: wall time, peak memory, a printed line per figure."""
from __future__ import annotations

import resource
import statistics
import time
from contextlib import contextmanager
from typing import Callable, Iterator


def peak_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Resident memory of this process now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def children_peak_mb() -> float:
    """Peak resident memory of the largest child process waited for so far (forked workers)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@contextmanager
def timed(label: str, rows: int | None = None, unit: str = "rows") -> Iterator[dict]:
    box: dict = {}
    start = time.perf_counter()
    yield box
    box["seconds"] = seconds = time.perf_counter() - start
    rate = f", {rows / seconds:,.0f} {unit}/s" if rows else ""
    print(f"{label}: {seconds:.2f} s{rate}, peak RSS {peak_mb():,.0f} MB", flush=True)


def repeat_ms(fn: Callable[[], object], times: int = 7) -> tuple[float, float]:
    """Median and worst wall time in milliseconds over `times` runs (after one warm-up run)."""
    fn()
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)
