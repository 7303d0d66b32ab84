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
    def __init__(self, passages: Sequence[str], *, k1: float = K1, b: float = B) -> None:
        self._k1 = k1
        self._b = b
        self._counts = [Counter(tokenize(passage)) for passage in passages]
        self._lengths = [sum(counts.values()) for counts in self._counts]
        total = sum(self._lengths)
        self._average = total / len(self._lengths) if total else 1.0
        frequency: Counter[str] = Counter()
        for counts in self._counts:
            frequency.update(counts.keys())
        size = len(self._counts)
        self._idf = {
            term: math.log(1.0 + (size - seen + 0.5) / (seen + 0.5))
            for term, seen in frequency.items()
        }

    def __len__(self) -> int:
        return len(self._counts)

    def ceiling(self, query: str) -> float:
        """The score no passage can reach for `query` (each known term at its saturation), to
        bring scores into [0, 1); 0.0 when no term of `query` is in the index."""
        terms = [term for term in dict.fromkeys(tokenize(query)) if term in self._idf]
        return sum(self._idf[term] for term in terms) * (self._k1 + 1.0)

    def scores(self, query: str) -> list[float]:
        """One score per passage, in passage order; 0.0 for passages sharing no term with
        `query`."""
        terms = [term for term in dict.fromkeys(tokenize(query)) if term in self._idf]
        out = [0.0] * len(self._counts)
        for index, counts in enumerate(self._counts):
            norm = self._k1 * (1.0 - self._b + self._b * self._lengths[index] / self._average)
            total = 0.0
            for term in terms:
                tf = counts.get(term, 0)
                if tf:
                    total += self._idf[term] * tf * (self._k1 + 1.0) / (tf + norm)
            out[index] = total
        return out
