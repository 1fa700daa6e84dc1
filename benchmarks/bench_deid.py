#!/usr/bin/env python3
"""De-identification: recall per kind, look-alikes kept, throughput; and what jieba's part-of-speech
tagger (`nr`, person names) would add on top.

    python benchmarks/bench_deid.py

Sets: the generated evaluation set (tests/data/deid/eval.jsonl, 480 texts) and the hand-written texts kept
apart from it (tests/data/deid/handwritten.py). Throughput: the generated texts scrubbed 20 times over.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.deid import PLACEHOLDERS, scrub_text  # noqa: E402
from tests.deid_eval import load, score  # noqa: E402
from tests.test_deid_eval import KINDS, handwritten  # noqa: E402


def with_posseg(text: str, names: list[str]) -> str:
    """The product's scrub, then every word jieba tags as a person's name (`nr`, two or three characters)."""
    import jieba.posseg as pseg

    out = scrub_text(text, names)
    pieces = []
    for word, flag in pseg.cut(out):
        pieces.append(PLACEHOLDERS["name"] if flag == "nr" and 2 <= len(word) <= 3 else word)
    return "".join(pieces)


def table(label: str, fn) -> None:
    gen, hand = score(fn, load()), score(fn, handwritten())
    print(f"\n{label}")
    print(f"{'kind':<10} {'generated':>18} {'hand-written':>16}")
    for kind in KINDS:
        print(f"{kind:<10} {gen.found[kind]:>5}/{gen.total[kind]:<4} {gen.recall(kind):6.1%}"
              f" {hand.found[kind]:>4}/{hand.total[kind]:<3} {hand.recall(kind):6.1%}")
    print(f"{'kept':<10} {gen.kept:>5}/{gen.decoys:<4} {gen.kept_share:6.1%} {hand.kept:>4}/{hand.decoys:<3} "
          f"{hand.kept_share:6.1%}")


def throughput(fn, rounds: int = 20) -> float:
    items = load()
    start = time.perf_counter()
    for _ in range(rounds):
        for it in items:
            fn(it["text"], it["names"])
    return rounds * len(items) / (time.perf_counter() - start)


def main() -> None:
    table("domain.deid.scrub (the product)", lambda t, n: scrub_text(t, n))
    print(f"throughput: {throughput(lambda t, n: scrub_text(t, n)):,.0f} texts/s")
    with_posseg("预热", [])
    table("scrub + jieba posseg nr", with_posseg)
    print(f"throughput: {throughput(with_posseg, 3):,.0f} texts/s")


if __name__ == "__main__":
    main()
