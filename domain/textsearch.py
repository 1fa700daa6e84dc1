"""Chinese full-text search for the case library: jieba segmentation, BM25 ranking, highlighting.

The library holds the typical cases only (hundreds to a few thousand), so its tokens are stored with each
entry and ranked here, the same on SQLite and PostgreSQL; segmentation (not the database's tokenizer,
which splits Chinese badly) decides what a word is.
"""
from __future__ import annotations

import logging
import math
import re
import threading
from typing import Iterable, Sequence

import jieba

jieba.setLogLevel(logging.WARNING)
_INIT = threading.Lock()
_READY = False

STOPWORDS = frozenset("的 了 是 在 和 与 及 或 也 就 都 而 又 被 把 对 于 为 着 过 其 这 那 一个 我 你 他 她 它 我们 有 没有 不 请 已 已经".split())
_WORDLIKE = re.compile(r"[0-9A-Za-z\u4e00-\u9fa5]")


def _ensure_ready() -> None:
    global _READY
    if not _READY:
        with _INIT:
            if not _READY:
                jieba.initialize()  # loads the bundled dictionary once per process (no download)
                _READY = True


def tokens(text: str | None) -> list[str]:
    """Search tokens of a text: jieba's search-mode segmentation, lower-cased, without punctuation and
    the most common function words."""
    if not text:
        return []
    _ensure_ready()
    out = []
    for tok in jieba.lcut_for_search(text):
        tok = tok.strip().lower()
        if tok and tok not in STOPWORDS and _WORDLIKE.search(tok):
            out.append(tok)
    return out


def query_terms(query: str) -> list[str]:
    seen: list[str] = []
    for tok in tokens(query):
        if tok not in seen:
            seen.append(tok)
    return seen


def rank(query: str, docs: Sequence[tuple[int, str]], k1: float = 1.5, b: float = 0.75) -> list[tuple[int, float]]:
    """BM25 scores of the documents (id, space-separated tokens) containing at least one query term, best
    first. Term frequencies are counted as whole-token substrings of the padded token string, in C."""
    terms = query_terms(query)
    if not terms or not docs:
        return []
    needles = [f" {term} " for term in terms]
    n = len(docs)
    freqs = []
    total_length = 0
    for doc_id, toks in docs:
        padded = f" {toks} "
        length = toks.count(" ") + 1 if toks else 0
        total_length += length
        freqs.append((doc_id, [padded.count(needle) for needle in needles], length))
    avg = total_length / n or 1.0
    df = [sum(1 for _, tf, _ in freqs if tf[i]) for i in range(len(terms))]
    idf = [math.log(1 + (n - d + 0.5) / (d + 0.5)) for d in df]
    results = []
    for doc_id, tf, length in freqs:
        if not any(tf):
            continue
        norm = k1 * (1 - b + b * length / avg)
        results.append((doc_id, sum(idf[i] * f * (k1 + 1) / (f + norm) for i, f in enumerate(tf) if f)))
    results.sort(key=lambda r: (-r[1], r[0]))
    return results


def segments(text: str, terms: Iterable[str]) -> list[tuple[str, bool]]:
    """The text cut into (piece, is_match) for highlighting the query terms (longest terms first)."""
    words = sorted({t for t in terms if t}, key=len, reverse=True)
    if not text or not words:
        return [(text or "", False)]
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.start() > pos:
            out.append((text[pos:m.start()], False))
        if out and out[-1][1] and m.start() == pos:  # adjacent matches read as one highlighted phrase
            out[-1] = (out[-1][0] + m.group(0), True)
        else:
            out.append((m.group(0), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def highlight_markdown(text: str, terms: Iterable[str]) -> str:
    """Markdown with the matches on a highlighted background; everything else escaped."""
    from domain.privacy import escape_markdown

    return "".join(f":orange-background[{escape_markdown(piece)}]" if hit else escape_markdown(piece)
                   for piece, hit in segments(text, terms))
