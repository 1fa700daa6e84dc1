"""Clustering complaint text (#16 item 1): quality per method on the labelled set, and speed at 100k cases.

    python benchmarks/bench_cluster.py            # quality table, 100k run, one-case assignment
    python benchmarks/bench_cluster.py --quick    # quality table only

Quality: tests/data/clusters/eval.jsonl (660 texts, 12 problems in 3 categories, a third in an intake
template). Every method clusters each category on its own (as the product does); ARI, NMI and purity are
computed over all texts with the category in the cluster's name. k is chosen by the method's own rule, never
told the true number.

Speed: 100,000 texts from the same generator (different seed), tokenised in 2 processes, clustered per
category; then the assignment of one new text to the fitted model (median of 1,000).
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domain.clustering import (Model, case_text, choose_k, cluster, fit_vocabulary, join_close,  # noqa: E402
                               kmeans, scores, template_sentences, words, words_of_all)

EVAL = ROOT / "tests" / "data" / "clusters" / "eval.jsonl"


def load() -> list[dict]:
    return [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()]


def by_category(rows):
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["category"], []).append(r)
    return out


def text_of(r: dict) -> str:
    return case_text(r["description"], r["true_reason"], r["customer_demand"])


def _nmf(docs, seed=0):
    from sklearn.decomposition import NMF

    vocabulary, idf = fit_vocabulary(docs)
    x = Model(vocabulary, idf, np.zeros((0, len(vocabulary)))).vectors(docs)
    k = choose_k(x, seed)
    return NMF(k, init="nndsvda", random_state=seed, max_iter=500).fit_transform(x).argmax(axis=1)


def _chars(texts, seed=0):
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), min_df=2, max_df=0.5, sublinear_tf=True).fit_transform(texts)
    labels, centroids = kmeans(x, choose_k(x, seed), seed)
    return join_close(centroids)[labels]


def quality() -> list[tuple[str, dict]]:
    rows = load()
    cats = by_category(rows)
    template = template_sentences({c: [text_of(r) for r in rs] for c, rs in cats.items()})
    methods = {
        "TF-IDF, LSA 50 dims, k-means (silhouette k), close clusters joined [chosen]": lambda rs: cluster(
            [words(text_of(r), template) for r in rs]).labels,
        "the same, clusters not joined": lambda rs: cluster(
            [words(text_of(r), template) for r in rs], join=False).labels,
        "the same, without template removal": lambda rs: cluster([words(text_of(r)) for r in rs]).labels,
        "TF-IDF (no LSA) + k-means, joined": lambda rs: cluster(
            [words(text_of(r), template) for r in rs], lsa_dims=0).labels,
        "TF-IDF + NMF (silhouette k)": lambda rs: _nmf([words(text_of(r), template) for r in rs]),
        "character 2-3-grams TF-IDF + k-means, joined": lambda rs: _chars([text_of(r) for r in rs]),
    }
    out = []
    for name, method in methods.items():
        truth, found = [], []
        for cat, rs in cats.items():
            labels = method(rs)
            truth += [f"{cat}:{r['label']}" for r in rs]
            found += [f"{cat}:{v}" for v in labels]
        out.append((name, scores(truth, found)))
    return out


def speed(n: int = 100_000) -> dict:
    sys.path.insert(0, str(ROOT / "tests" / "data" / "clusters"))
    from make import PROBLEMS, build  # the generator of the labelled set

    per = n // sum(len(p) for p in PROBLEMS.values()) + 1
    rows = build(per_problem=per, seed=99)[:n]
    cats = by_category(rows)
    started = time.perf_counter()
    texts = {c: [text_of(r) for r in rs] for c, rs in cats.items()}
    template = template_sentences(texts)
    models = {}
    tokenised = 0.0
    for cat, ts in texts.items():
        t0 = time.perf_counter()
        docs = words_of_all(ts, template, processes=2)
        tokenised += time.perf_counter() - t0
        models[cat] = cluster(docs).model
    total = time.perf_counter() - started
    model = models["network"]
    probe = [text_of(r) for r in build(per_problem=100, seed=7) if r["category"] == "network"][:1000]
    timings = []
    for t in probe:
        t0 = time.perf_counter()
        model.assign(words(t, template))
        timings.append(time.perf_counter() - t0)
    return {"cases": len(rows), "seconds": total, "tokenising": tokenised,
            "assign_ms_median": statistics.median(timings) * 1000, "assign_ms_p95": sorted(timings)[int(len(timings) * 0.95)] * 1000}


if __name__ == "__main__":
    words("预热")  # jieba's dictionary loads once
    print(f"{'method':<76} {'ARI':>6} {'NMI':>6} {'purity':>7}")
    for name, s in quality():
        print(f"{name:<76} {s['ari']:6.3f} {s['nmi']:6.3f} {s['purity']:7.3f}")
    if "--quick" not in sys.argv:
        r = speed()
        print(f"\n{r['cases']:,} cases clustered in {r['seconds']:.1f} s (tokenising {r['tokenising']:.1f} s, 2 processes); "
              f"one new case assigned in {r['assign_ms_median']:.2f} ms median, {r['assign_ms_p95']:.2f} ms p95")
