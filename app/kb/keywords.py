"""Keyword ranking of knowledge-base passages: Okapi BM25 over case- and accent-folded words.

Words come from `app.search.tokens`, the same folding the inbox search uses, so "Reembolso",
"reembolso" and "réembolso" are one term. The index is built once from a list of passages
and is read-only afterwards (safe to share between threads).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence

import numpy as np
import numpy.typing as npt

from app.search.tokens import fold, words

K1 = 1.2
B = 0.75


def tokenize(text: str) -> list[str]:
    """The folded words of `text`, repetitions kept."""
    return words(fold(text))


class BM25:
    """Scores come from postings (term → the passages holding it, with the term's saturated
    frequency there), kept as numpy arrays: a query adds up only the postings of its own
    words, vectorised, so it stays a few milliseconds at 100,000 passages."""

    def __init__(self, passages: Sequence[str], *, k1: float = K1, b: float = B) -> None:
        self._k1 = k1
        self._size = len(passages)
        counted = [Counter(tokenize(passage)) for passage in passages]
        lengths = np.array([sum(c.values()) for c in counted], dtype=np.float64)
        average = float(lengths.mean()) if self._size and lengths.sum() else 1.0
        norms = k1 * (1.0 - b + b * lengths / average)
        rows: dict[str, list[int]] = {}
        freqs: dict[str, list[int]] = {}
        for index, counts in enumerate(counted):
            for term, tf in counts.items():
                rows.setdefault(term, []).append(index)
                freqs.setdefault(term, []).append(tf)
        self._postings: dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]] = {}
        self._idf: dict[str, float] = {}
        for term, where in rows.items():
            at = np.array(where, dtype=np.int32)
            tfs = np.array(freqs[term], dtype=np.float64)
            self._postings[term] = (at, tfs * (k1 + 1.0) / (tfs + norms[at]))
            seen = len(where)
            self._idf[term] = math.log(1.0 + (self._size - seen + 0.5) / (seen + 0.5))

    def __len__(self) -> int:
        return self._size

    def _terms(self, query: str) -> list[str]:
        return [term for term in dict.fromkeys(tokenize(query)) if term in self._idf]

    def ceiling(self, query: str) -> float:
        """The score no passage can reach for `query` (each known term at its saturation), to
        bring scores into [0, 1); 0.0 when no term of `query` is in the index."""
        return sum(self._idf[term] for term in self._terms(query)) * (self._k1 + 1.0)

    def dense(self, query: str) -> npt.NDArray[np.float64]:
        """One score per passage, in passage order (0.0 where no word of `query` is)."""
        out = np.zeros(self._size, dtype=np.float64)
        for term in self._terms(query):
            at, gains = self._postings[term]
            out[at] += self._idf[term] * gains
        return out

    def matches(self, query: str) -> dict[int, float]:
        """The passages sharing a term with `query`, by index, with their scores."""
        scores = self.dense(query)
        hit = np.flatnonzero(scores)
        return dict(zip(hit.tolist(), scores[hit].tolist(), strict=True))

    def scores(self, query: str) -> list[float]:
        """One score per passage, in passage order; 0.0 for passages sharing no term with
        `query`."""
        result: list[float] = self.dense(query).tolist()
        return result


class ArticleKeywords:
    """BM25 over the passages of many articles, answering per article: its best passage's
    share of the query's ceiling (in [0, 1)) and which passage that was."""

    def __init__(self, articles: Sequence[tuple[str, Sequence[str]]]) -> None:
        kept = [(article_id, list(texts)) for article_id, texts in articles if texts]
        self.bm25 = BM25([text for _, texts in kept for text in texts])
        self.ids = [article_id for article_id, _ in kept]
        self.position = {article_id: n for n, article_id in enumerate(self.ids)}
        sizes = np.array([len(texts) for _, texts in kept], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.ends = self.starts + sizes

    def best(
        self, query: str, k: int | None = None, among: Collection[str] = ()
    ) -> dict[str, tuple[float, int]]:
        """Articles sharing a word with `query`: each one's best passage share and index.

        With `k`, only the `k` best by share and those of `among` that match (the articles a
        caller already holds by meaning) are returned: a score sum ranks no other article
        above those `k`, and at 100,000 passages this keeps the answer to a few dozen
        articles instead of every one with a common word."""
        ceiling = self.bm25.ceiling(query)
        if not ceiling or not self.ids:
            return {}
        dense = self.bm25.dense(query) / ceiling
        top = np.maximum.reduceat(dense, self.starts)
        matching = np.flatnonzero(top > 0)
        if k is not None and len(matching) > k:
            lead = matching[np.argpartition(-top[matching], k - 1)[:k]]
            held = [self.position[i] for i in among if i in self.position]
            held = [a for a in held if top[a] > 0]
            matching = np.union1d(lead, np.array(held, dtype=np.int64))
        found: dict[str, tuple[float, int]] = {}
        for a in matching.tolist():
            segment = dense[self.starts[a] : self.ends[a]]
            found[self.ids[a]] = (float(top[a]), int(segment.argmax()))
        return found
