"""Keyword ranking of knowledge-base passages: Okapi BM25 over case- and accent-folded words.

Words come from `app.search.tokens`, the same folding the inbox search uses, so "Reembolso",
"reembolso" and "réembolso" are one term. The index is built once from a list of passages
and is read-only afterwards (safe to share between threads).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from app.search.tokens import fold, words

K1 = 1.2
B = 0.75


def tokenize(text: str) -> list[str]:
    """The folded words of `text`, repetitions kept."""
    return words(fold(text))


class BM25:
    """Scores come from postings (term → the passages holding it, with its count), so a query
    touches only the passages sharing one of its words: fast enough for every keystroke at
    100,000 passages."""

    def __init__(self, passages: Sequence[str], *, k1: float = K1, b: float = B) -> None:
        self._k1 = k1
        self._b = b
        self._size = len(passages)
        self._postings: dict[str, list[tuple[int, int]]] = {}
        lengths: list[int] = []
        for index, passage in enumerate(passages):
            counts = Counter(tokenize(passage))
            lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self._postings.setdefault(term, []).append((index, tf))
        total = sum(lengths)
        average = total / len(lengths) if total else 1.0
        self._norms = [k1 * (1.0 - b + b * length / average) for length in lengths]
        self._idf = {
            term: math.log(1.0 + (self._size - len(seen) + 0.5) / (len(seen) + 0.5))
            for term, seen in self._postings.items()
        }

    def __len__(self) -> int:
        return self._size

    def _terms(self, query: str) -> list[str]:
        return [term for term in dict.fromkeys(tokenize(query)) if term in self._idf]

    def ceiling(self, query: str) -> float:
        """The score no passage can reach for `query` (each known term at its saturation), to
        bring scores into [0, 1); 0.0 when no term of `query` is in the index."""
        return sum(self._idf[term] for term in self._terms(query)) * (self._k1 + 1.0)

    def matches(self, query: str) -> dict[int, float]:
        """The passages sharing a term with `query`, by index, with their scores."""
        found: dict[int, float] = {}
        for term in self._terms(query):
            idf = self._idf[term]
            for index, tf in self._postings[term]:
                gain = idf * tf * (self._k1 + 1.0) / (tf + self._norms[index])
                found[index] = found.get(index, 0.0) + gain
        return found

    def scores(self, query: str) -> list[float]:
        """One score per passage, in passage order; 0.0 for passages sharing no term with
        `query`."""
        out = [0.0] * self._size
        for index, score in self.matches(query).items():
            out[index] = score
        return out
