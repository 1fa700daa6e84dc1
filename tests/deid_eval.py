"""Scoring a de-identifier on the evaluation set of #17 (tests/data/deid/eval.jsonl): recall per kind of
personal data and the share of look-alikes kept. Shared by tests/test_deid_eval.py and
benchmarks/bench_deid.py."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

EVAL = Path(__file__).resolve().parent / "data" / "deid" / "eval.jsonl"


def load() -> list[dict]:
    with open(EVAL, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@dataclass
class Score:
    found: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)
    kept: int = 0
    decoys: int = 0
    missed: list[tuple[int, str, str, str]] = field(default_factory=list)  # (item, kind, value, output)
    lost: list[tuple[int, str, str]] = field(default_factory=list)  # (item, decoy, output)

    def recall(self, kind: str) -> float:
        return self.found[kind] / self.total[kind] if self.total[kind] else 1.0

    @property
    def kept_share(self) -> float:
        return self.kept / self.decoys if self.decoys else 1.0


def survived(entry: dict, output: str) -> bool:
    """Personal data survives when its value, its house-level part (addresses) or its estate is still there."""
    return any(part and part in output for part in (entry["value"], entry.get("core"), entry.get("estate")))


def score(scrub: Callable[[str, list[str]], str], items: list[dict] | None = None) -> Score:
    result = Score()
    for it in items if items is not None else load():
        out = scrub(it["text"], it["names"])
        for entry in it["pii"]:
            result.total[entry["kind"]] += 1
            if survived(entry, out):
                result.missed.append((it["id"], entry["kind"], entry["value"], out))
            else:
                result.found[entry["kind"]] += 1
        for decoy in it["keep"]:
            result.decoys += 1
            if decoy in out:
                result.kept += 1
            else:
                result.lost.append((it["id"], decoy, out))
    return result
