"""Chinese full-text search for the case library: jieba segmentation, BM25 ranking, highlighting.

The library holds the typical cases only (hundreds to a few thousand), so its tokens are stored with each
entry and ranked here, the same on SQLite and PostgreSQL; segmentation (not the database's tokenizer,
which splits Chinese badly) decides what a word is.
"""
from __future__ import annotations

import logging
import math
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import jieba

jieba.setLogLevel(logging.WARNING)
_INIT = threading.Lock()
_READY = False

DATA = Path(__file__).resolve().parent / "data"
# Stored tokens were made by this version of `tokens`; a library indexed by an older one is re-indexed
# (db.library.ensure_index) before it is searched.
TOKENIZER_VERSION = "2"
FUNCTION_WORDS = frozenset("的 了 是 在 和 与 及 或 也 就 都 而 又 被 把 对 于 为 着 过 其 这 那 一个 我 你 他 她 它 我们 有 没有 "
                           "不 请 已 已经".split())
_WORDLIKE = re.compile(r"[0-9A-Za-z\u4e00-\u9fa5]")
_PLACEHOLDER = re.compile(r"\[[\u4e00-\u9fa5]{1,4}\]")  # [地址], [手机号]: what de-identification put there


def _words(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [w for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#") for w in line.split()]


def _groups(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


STOPTERMS = frozenset(_words(DATA / "stopterms.txt")) | FUNCTION_WORDS
# a stop term written as a form's label (营业厅名称：…) goes whole, before segmentation can split it into
# words that would match every entry (营业厅, 名称)
_LABEL = re.compile("(?:" + "|".join(sorted((re.escape(w) for w in STOPTERMS if len(w) >= 2), key=len, reverse=True))
                    + ")[:：]")


def synonym_table() -> dict[str, tuple[str, ...]]:
    """word -> its group (itself included), from domain/data/synonyms.txt and the administrator's own file
    (COMPLAINTS_SYNONYMS_FILE); groups sharing a word are joined."""
    groups = _groups(DATA / "synonyms.txt")
    extra = os.environ.get("COMPLAINTS_SYNONYMS_FILE")
    if extra:
        groups += _groups(Path(extra))
    table: dict[str, set[str]] = {}
    for group in groups:
        words = {w.lower() for w in group}
        for w in list(words):
            words |= table.get(w, set())
        for w in words:
            table[w] = words
    return {w: tuple(sorted(g, key=lambda x: (x != w, x))) for w, g in table.items()}


SYNONYMS: dict[str, tuple[str, ...]] = {}


def _ensure_ready() -> None:
    global _READY
    if not _READY:
        with _INIT:
            if not _READY:
                jieba.initialize()  # loads the bundled dictionary once per process (no download)
                jieba.load_userdict(str(DATA / "telecom_words.txt"))  # 上不了网, 信号差, 携号转网 … as words
                for group in _groups(DATA / "synonyms.txt"):
                    for word in group:
                        if len(word) > 1:
                            jieba.add_word(word)
                SYNONYMS.update(synonym_table())
                _READY = True


def _cut(text: str) -> list[str]:
    _ensure_ready()
    out = []
    for tok in jieba.lcut_for_search(_LABEL.sub(" ", _PLACEHOLDER.sub(" ", text))):
        tok = tok.strip().lower()
        if tok and _WORDLIKE.search(tok):
            out.append(tok)
    return out


def tokens(text: str | None) -> list[str]:
    """Search tokens of a text: jieba's search-mode segmentation with the telecom words, lower-cased; no
    punctuation, no placeholders left by de-identification, no form labels or function words, no single
    characters (一个字 matches far too much: a one-character query is looked up in the text instead)."""
    if not text:
        return []
    return [tok for tok in _cut(text) if len(tok) > 1 and tok not in STOPTERMS]


def query_terms(query: str) -> list[str]:
    """The query's words as search terms. Only stop terms or single characters: they are searched anyway
    (someone who types 投诉 or 差 means it)."""
    seen: list[str] = []
    for tok in tokens(query):
        if tok not in seen:
            seen.append(tok)
    if not seen:
        for tok in _cut(query or ""):
            if tok not in seen:
                seen.append(tok)
    return seen


def highlight_terms(query: str) -> list[str]:
    """What to highlight in a result: the query's terms and their synonyms (扣款 lights up 扣费)."""
    return list(dict.fromkeys(w for group in expanded(query_terms(query)) for w in group))


def expanded(terms: Sequence[str]) -> list[tuple[str, ...]]:
    """Each term with the words of its synonym group (the term first)."""
    _ensure_ready()
    return [SYNONYMS.get(term, (term,)) for term in terms]


def rank(query: str, docs: Sequence[tuple[int, str]], k1: float = 1.5, b: float = 0.75) -> list[tuple[int, float]]:
    """BM25 scores of the documents (id, space-separated tokens) containing at least one query term, best
    first. A term counts with its synonyms: its frequency is that of any word of its group, its document
    frequency that of documents holding any of them. Counted as whole-token substrings, in C."""
    terms = query_terms(query)
    if not terms or not docs:
        return []
    groups = [[f" {w} " for w in group] for group in expanded(terms)]
    n = len(docs)
    freqs = []
    total_length = 0
    for doc_id, toks in docs:
        padded = f" {toks} "
        length = toks.count(" ") + 1 if toks else 0
        total_length += length
        freqs.append((doc_id, [sum(padded.count(w) for w in group) for group in groups], length))
    avg = total_length / n or 1.0
    df = [sum(1 for _, tf, _ in freqs if tf[i]) for i in range(len(groups))]
    idf = [math.log(1 + (n - d + 0.5) / (d + 0.5)) for d in df]
    results = []
    for doc_id, tf, length in freqs:
        if not any(tf):
            continue
        norm = k1 * (1 - b + b * length / avg)
        results.append((doc_id, sum(idf[i] * f * (k1 + 1) / (f + norm) for i, f in enumerate(tf) if f)))
    results.sort(key=lambda r: (-r[1], r[0]))
    return results


@dataclass
class Index:
    """The library's stored tokens held in memory: postings per word, each entry's length and word set."""

    postings: dict[str, dict[int, int]]
    lengths: dict[int, int]
    sets: dict[int, frozenset[str]]
    avg: float
    chars: dict[int, int] = field(default_factory=dict)  # each entry's stored token string length

    @property
    def total_chars(self) -> int:
        return sum(self.chars.values())


    def add(self, docs: Iterable[tuple[int, str]]) -> None:
        for doc_id, toks in docs:
            words = toks.split() if toks else []
            self.lengths[doc_id] = len(words)
            self.chars[doc_id] = len(toks or "")
            counts: dict[str, int] = {}
            for w in words:
                counts[w] = counts.get(w, 0) + 1
            for w, c in counts.items():
                self.postings.setdefault(w, {})[doc_id] = c
            self.sets[doc_id] = frozenset(counts)
        self._average()

    def remove(self, doc_ids: Iterable[int]) -> None:
        for doc_id in doc_ids:
            for w in self.sets.pop(doc_id, ()):
                posting = self.postings.get(w)
                if posting is not None:
                    posting.pop(doc_id, None)
                    if not posting:
                        del self.postings[w]
            self.lengths.pop(doc_id, None)
            self.chars.pop(doc_id, None)
        self._average()

    def _average(self) -> None:
        self.avg = (sum(self.lengths.values()) / len(self.lengths)) if self.lengths else 1.0


def build_index(docs: Iterable[tuple[int, str]]) -> Index:
    index = Index({}, {}, {}, 1.0)
    index.add(docs)
    return index


def rank_index(query: str, index: Index, allowed: set[int] | None = None, k1: float = 1.5,
               b: float = 0.75) -> list[tuple[int, float]]:
    """`rank` on an in-memory index: BM25 with synonym groups, over the entries in `allowed` (all: None);
    the cost follows the postings of the query's words, not the size of the library."""
    terms = query_terms(query)
    if not terms or not index.lengths:
        return []
    n = len(index.lengths) if allowed is None else len(allowed)
    avg = index.avg or 1.0
    scores: dict[int, float] = {}
    for group in expanded(terms):
        tf: dict[int, int] = {}
        for word in group:
            for doc_id, c in index.postings.get(word, {}).items():
                if allowed is None or doc_id in allowed:
                    tf[doc_id] = tf.get(doc_id, 0) + c
        if not tf:
            continue
        idf = math.log(1 + (n - len(tf) + 0.5) / (len(tf) + 0.5))
        for doc_id, f in tf.items():
            norm = k1 * (1 - b + b * index.lengths[doc_id] / avg)
            scores[doc_id] = scores.get(doc_id, 0.0) + idf * f * (k1 + 1) / (f + norm)
    return sorted(scores.items(), key=lambda r: (-r[1], r[0]))


def near_duplicates(token_sets: Sequence[frozenset[str]], threshold: float = 0.8) -> list[int]:
    """For each document (in rank order), the index of an earlier one it nearly repeats (Jaccard of their
    token sets at least `threshold`), or -1: template texts that differ in a number or a place."""
    out: list[int] = []
    kept: list[int] = []
    for i, mine in enumerate(token_sets):
        twin = -1
        size = len(mine)
        for j in kept:
            other = token_sets[j]
            small, large = (size, len(other)) if size <= len(other) else (len(other), size)
            if small < threshold * large:  # sizes too far apart for the overlap to reach the threshold
                continue
            union = len(mine | other)
            if union and len(mine & other) / union >= threshold:
                twin = j
                break
        out.append(twin)
        if twin < 0:
            kept.append(i)
    return out


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
