"""Clustering complaint text into specific problems (10.2.2, 聚类问题清单).

Steps, each measured on the labelled set in tests/data/clusters (benchmarks/bench_cluster.py, docs/improvement.md):

1. Text: description, true reason and demand joined; intake-form labels (【受理渠道】10086…, 营业厅名称：) and
   template sentences removed. A sentence is template when it appears in at least `share` of the texts of
   every category: a stock phrase such as 已安抚客户情绪 is everywhere, while even the commonest problem's
   sentence (家中信号弱) belongs to one category.
2. Words: jieba with the telecom dictionary (domain.textsearch), no digits, no single characters, no form
   labels; words in fewer than 2 texts or in more than half are dropped (so a customer's name or number
   cannot become a cluster's term).
3. TF-IDF (sublinear tf, L2-normalised rows) and k-means with k chosen by the silhouette on a sample. The
   silhouette favours many small clusters (one per way of putting the same problem), so clusters whose
   centres are close are then joined (average linkage, cosine distance below MERGE_DISTANCE). NMF, LSA and
   character n-grams were measured against it (docs/improvement.md, benchmarks/bench_cluster.py).

A fitted Model keeps the vocabulary, idf and the cluster centroids, so a newly imported case is assigned to
its nearest cluster without a new run (about a millisecond).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from domain.textsearch import STOPTERMS, _ensure_ready

_BRACKET_FIELD = re.compile(r"【[^】]{1,12}】[^【\s，。；]*")
_FORM_LABEL = re.compile(r"[\u4e00-\u9fa5]{2,8}[:：]")
_SENTENCE = re.compile(r"[。！？!?；;\n]+|，")
_DIGITS = re.compile(r"[0-9０-９.]+")
_WORDLIKE = re.compile(r"^[\u4e00-\u9fa5A-Za-z]{2,}$")
MIN_DF, MAX_DF = 2, 0.5
K_RANGE = (2, 16)
MERGE_DISTANCE = 0.8
LSA_DIMS = 50
MAX_TERMS = 5000
SAMPLE = 1500


def case_text(description: str | None, true_reason: str | None, demand: str | None) -> str:
    return "。".join(p for p in (description, true_reason, demand) if p)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(_BRACKET_FIELD.sub(" ", text or "")) if s.strip()]


def _norm(sentence: str) -> str:
    return _DIGITS.sub("#", sentence)


def template_sentences(texts_by_category: dict[str, Sequence[str]], share: float = 0.02, min_texts: int = 5) -> set[str]:
    """Sentences (digits folded) found in at least `share` of the texts of every category present — and in
    `min_texts` texts at least in each. With one category only, nothing can be told apart: empty."""
    if len(texts_by_category) < 2:
        return set()
    common: set[str] | None = None
    for texts in texts_by_category.values():
        counts = Counter(s for t in texts for s in {_norm(x) for x in sentences(t)})
        need = max(min_texts, math.ceil(share * len(texts)))
        frequent = {s for s, n in counts.items() if n >= need}
        common = frequent if common is None else common & frequent
    return common or set()


def words(text: str, template: set[str] = frozenset()) -> list[str]:
    """The words a text is clustered on (template sentences and form labels removed)."""
    import jieba

    _ensure_ready()
    kept = [s for s in sentences(text) if _norm(s) not in template]
    out = []
    for s in kept:
        # no HMM: a word jieba does not know (a person's name, mostly) falls apart into single characters,
        # which are dropped; the telecom dictionary keeps the trade's words whole
        for w in jieba.lcut(_FORM_LABEL.sub(" ", s), HMM=False):
            if _WORDLIKE.match(w) and w not in STOPTERMS:
                out.append(w)
    return out


def _b64(a: np.ndarray) -> str:
    import base64

    return base64.b64encode(np.ascontiguousarray(a, dtype=np.float32).tobytes()).decode("ascii")


def _unb64(text: str, shape: tuple[int, int]) -> np.ndarray:
    import base64

    return np.frombuffer(base64.b64decode(text), dtype=np.float32).astype(float).reshape(shape)


@dataclass
class Model:
    """What a run leaves behind to assign new texts: vocabulary, idf, the LSA projection (`components`, one
    row per dimension; None: the TF-IDF space itself) and the centroids there (rows, L2-normalised)."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    centroids: np.ndarray
    components: np.ndarray | None = None
    template: set[str] = field(default_factory=set)

    def vectors(self, docs: Sequence[Sequence[str]]):
        """TF-IDF rows (sublinear tf, L2-normalised), sparse."""
        from scipy.sparse import csr_matrix

        rows, cols, vals = [], [], []
        for i, doc in enumerate(docs):
            counts = Counter(self.vocabulary[w] for w in doc if w in self.vocabulary)
            for j, n in counts.items():
                rows.append(i)
                cols.append(j)
                vals.append((1 + math.log(n)) * self.idf[j])
        m = csr_matrix((vals, (rows, cols)), shape=(len(docs), len(self.vocabulary)))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1))).ravel()
        norms[norms == 0] = 1
        return csr_matrix(m.multiply(1 / norms[:, None]))

    def project(self, x):
        """Rows in the space the centroids live in (LSA, L2-normalised), dense."""
        if self.components is None:
            return np.asarray(x.todense()) if hasattr(x, "todense") else np.asarray(x)
        z = np.asarray(x @ self.components.T)
        norms = np.linalg.norm(z, axis=1)
        norms[norms == 0] = 1
        return z / norms[:, None]

    def embed(self, docs: Sequence[Sequence[str]]) -> np.ndarray:
        return self.project(self.vectors(docs))

    def assign(self, doc: Sequence[str]) -> tuple[int, float]:
        """Nearest centroid (index, cosine); (-1, 0.0) when the text shares no word with the vocabulary."""
        if len(self.centroids) == 0:
            return -1, 0.0
        v = self.vectors([doc])
        if v.nnz == 0:
            return -1, 0.0
        sims = (self.project(v) @ self.centroids.T).ravel()
        best = int(sims.argmax())
        return best, float(sims[best])

    def to_dict(self) -> dict:
        dims = 0 if self.components is None else self.components.shape[0]
        return {"vocabulary": self.vocabulary, "idf": _b64(self.idf), "dims": dims,
                "components": _b64(self.components) if dims else "",
                "centroids": _b64(self.centroids), "k": int(self.centroids.shape[0]), "template": sorted(self.template)}

    @classmethod
    def from_dict(cls, d: dict) -> "Model":
        n, dims, k = len(d["vocabulary"]), int(d["dims"]), int(d["k"])
        components = _unb64(d["components"], (dims, n)) if dims else None
        width = dims or n
        return cls(dict(d["vocabulary"]), _unb64(d["idf"], (1, n)).ravel(), _unb64(d["centroids"], (k, width)),
                   components, set(d.get("template", [])))


def fit_vocabulary(docs: Sequence[Sequence[str]]) -> tuple[dict[str, int], np.ndarray]:
    """Words in at least MIN_DF texts and at most MAX_DF of them; the MAX_TERMS most frequent of those."""
    n = len(docs)
    df = Counter(w for doc in docs for w in set(doc))
    frequent = sorted((w for w, c in df.items() if c >= MIN_DF and c <= MAX_DF * n), key=lambda w: (-df[w], w))
    kept = sorted(frequent[:MAX_TERMS])
    vocabulary = {w: i for i, w in enumerate(kept)}
    idf = np.array([math.log((1 + n) / (1 + df[w])) + 1 for w in kept])
    return vocabulary, idf


def choose_k(x, seed: int = 0, k_range: tuple[int, int] = K_RANGE) -> int:
    """The k in k_range with the best cosine silhouette on a sample of at most SAMPLE texts."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = x.shape[0]
    if n < 6:
        return 1
    rng = np.random.default_rng(seed)
    sample = x[rng.choice(n, size=min(n, SAMPLE), replace=False)]
    best, best_score = 2, -1.0
    for k in range(k_range[0], min(k_range[1], sample.shape[0] - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(sample)
        if len(set(labels)) < 2:
            continue
        score = silhouette_score(sample, labels, metric="cosine")
        if score > best_score:
            best, best_score = k, score
    return best


def kmeans(x, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels and L2-normalised centroids."""
    from sklearn.cluster import KMeans

    if k <= 1 or x.shape[0] < 2:
        labels = np.zeros(x.shape[0], dtype=int)
    else:
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(x)
    return labels, centroids_of(x, labels)


def centroids_of(x, labels: np.ndarray) -> np.ndarray:
    ks = sorted(set(int(v) for v in labels))
    rows = []
    for k in ks:
        c = np.asarray(x[labels == k].mean(axis=0)).ravel()
        norm = np.linalg.norm(c)
        rows.append(c / norm if norm else c)
    return np.vstack(rows) if rows else np.zeros((0, x.shape[1]))


@dataclass
class Result:
    labels: np.ndarray
    model: Model
    top_terms: list[list[str]]


def join_close(centroids: np.ndarray, distance: float = MERGE_DISTANCE) -> np.ndarray:
    """A group number per centroid: centroids closer than `distance` (cosine, average linkage) share one."""
    from sklearn.cluster import AgglomerativeClustering

    groups = np.arange(len(centroids))
    # a centroid of texts that share no word with the vocabulary is the zero vector: it has no direction to
    # compare, so it stays a group of its own (cosine refuses zero vectors)
    live = np.flatnonzero(np.linalg.norm(centroids, axis=1) > 0) if len(centroids) else np.zeros(0, dtype=int)
    if len(live) < 2:
        return groups
    joined = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, metric="cosine",
                                     linkage="average").fit_predict(centroids[live])
    groups[live] = len(centroids) + joined
    _, groups = np.unique(groups, return_inverse=True)
    return groups


def cluster(docs: Sequence[Sequence[str]], k: int | None = None, seed: int = 0, join: bool = True,
            distance: float = MERGE_DISTANCE, lsa_dims: int = LSA_DIMS) -> Result:
    """Cluster tokenised texts: TF-IDF, LSA (`lsa_dims`; 0: none), k-means with k by silhouette unless given,
    close clusters joined unless told not."""
    vocabulary, idf = fit_vocabulary(docs)
    model = Model(vocabulary, idf, np.zeros((0, len(vocabulary))))
    x = model.vectors(docs)
    if not vocabulary:
        # too few or too alike texts to share any telling word (0-2 texts, all identical, all template):
        # one problem of all of them, not an error
        labels = np.zeros(len(docs), dtype=int)
        model.centroids = np.zeros((1 if len(docs) else 0, 0))
        return Result(labels, model, [[] for _ in range(1 if len(docs) else 0)])
    dims = min(lsa_dims, len(vocabulary) - 1, len(docs) - 1)
    if dims >= 2:
        from sklearn.decomposition import TruncatedSVD

        model.components = TruncatedSVD(dims, random_state=seed).fit(x).components_
    z = model.project(x)
    k = k or choose_k(z, seed)
    labels, centroids = kmeans(z, k, seed)
    if join and len(centroids) > 1:
        groups = join_close(centroids, distance)
        _, labels = np.unique(groups[labels], return_inverse=True)
        centroids = centroids_of(z, labels)
    model.centroids = centroids
    return Result(labels, model, terms_of(model, x, labels))


def terms_of(model: Model, x, labels: np.ndarray, n: int = 8) -> list[list[str]]:
    """The words with the highest mean TF-IDF weight in each cluster."""
    terms = {i: w for w, i in model.vocabulary.items()}
    out = []
    for k in sorted(set(int(v) for v in labels)):
        mean = np.asarray(x[labels == k].mean(axis=0)).ravel()
        out.append([terms[j] for j in np.argsort(-mean)[:n] if mean[j] > 0])
    return out


def purity(truth: Sequence[str], labels: Iterable[object]) -> float:
    """Share of texts that belong to their cluster's most common true class."""
    by_cluster: dict[object, Counter] = {}
    for t, c in zip(truth, labels):
        by_cluster.setdefault(c if isinstance(c, str) else int(c), Counter())[t] += 1
    total = sum(sum(c.values()) for c in by_cluster.values())
    return sum(c.most_common(1)[0][1] for c in by_cluster.values()) / total if total else 0.0


def scores(truth: Sequence[str], labels: Sequence[object]) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {"ari": float(adjusted_rand_score(truth, labels)), "nmi": float(normalized_mutual_info_score(truth, labels)),
            "purity": purity(truth, labels)}


def match_by_members(new_members: dict[int, set[int]], old_members: dict[int, set[int]],
                     min_share: float = 0.5) -> dict[int, int]:
    """Which earlier cluster each new cluster continues: the one holding the largest share of the new
    cluster's cases that were clustered before, if that share is at least `min_share`. An earlier cluster is
    continued once, by the new cluster that holds most of its cases; another new cluster that would continue
    it is new."""
    owner = {case: cid for cid, cases in old_members.items() for case in cases}
    candidates = []
    for new_id, cases in new_members.items():
        seen = Counter(owner[c] for c in cases if c in owner)
        known = sum(seen.values())
        if known:
            old_id, n = seen.most_common(1)[0]
            if n / known >= min_share:
                candidates.append((n, new_id, old_id))
    out: dict[int, int] = {}
    taken: set[int] = set()
    for _n, new_id, old_id in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if old_id not in taken:
            out[new_id] = old_id
            taken.add(old_id)
    return out


def _words_of(args: tuple[Sequence[str], frozenset]) -> list[list[str]]:
    texts, template = args
    return [words(t, template) for t in texts]


def words_of_all(texts: Sequence[str], template: set[str] = frozenset(), processes: int = 1) -> list[list[str]]:
    """`words` of many texts, in `processes` worker processes when there are enough texts to pay for them
    (jieba takes most of a run's time: about 0.4 ms a text)."""
    if processes <= 1 or len(texts) < 4000:
        return [words(t, template) for t in texts]
    import multiprocessing as mp

    size = math.ceil(len(texts) / (processes * 4))
    chunks = [(texts[i:i + size], frozenset(template)) for i in range(0, len(texts), size)]
    with mp.get_context("fork").Pool(processes) as pool:
        parts = pool.map(_words_of, chunks)
    return [doc for part in parts for doc in part]
