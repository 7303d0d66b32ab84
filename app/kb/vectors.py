"""Knowledge-base chunk vectors held in memory, per workspace, for nearest-neighbour lookups.

Each process that answers queries keeps every workspace's chunk vectors in one float32 matrix
(rows L2-normalised, so a dot product is the cosine). Articles come and go one at a time: an
article's rows are replaced as a block, and the workspace's matrix is re-stacked lazily, on
the first query after a change. A query is one matrix-vector product over the rows its
audience may see, then a partial sort: at 100,000 chunks of 384 dimensions that is
38 M multiply-adds, a few milliseconds. Memory is 4 bytes per dimension per chunk
(about 150 MB per 100,000 chunks of 384 dimensions).

Audiences: a public, published article's chunks are for everyone (`all`); an internal one's,
or a draft's, only for agents. A query names its audience and never sees the other's rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
AUDIENCES = ("all", "agents")


@dataclass(frozen=True)
class Hit:
    article_id: str
    chunk: int  # the chunk's number within its article
    score: float  # cosine similarity


@dataclass(frozen=True)
class ArticleHit:
    article_id: str
    chunk: int  # its best chunk's number within the article
    score: float  # the mean cosine of its two best chunks (of its one chunk, if only one)


@dataclass
class _Block:
    audience: str
    chunks: list[int]
    vectors: Matrix


@dataclass
class _Workspace:
    blocks: dict[str, _Block] = field(default_factory=dict)
    # The stacked view, rebuilt on the first query after a change.
    stacked: Matrix | None = None
    owners: list[tuple[str, int]] = field(default_factory=list)
    public: int = 0  # how many of the stacked rows (the first ones) are public
    starts: npt.NDArray[np.int64] | None = None  # each article's first stacked row


class VectorIndex:
    """Every workspace's chunk vectors, of one model (`dim` wide). Safe to call from the
    event loop and from threads alike (a lock guards the blocks; queries on a stacked matrix
    run outside it)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._spaces: dict[str, _Workspace] = {}
        self._lock = threading.Lock()

    def put_article(
        self, ws: str, article_id: str, audience: str, chunks: list[int], vectors: Matrix
    ) -> None:
        """Set an article's rows (replacing what it had); no chunks removes it."""
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
        if vectors.shape != (len(chunks), self.dim):
            raise ValueError(f"expected {len(chunks)}x{self.dim} vectors, got {vectors.shape}")
        with self._lock:
            space = self._spaces.setdefault(ws, _Workspace())
            if chunks:
                rows = np.ascontiguousarray(vectors, dtype=np.float32)
                space.blocks[article_id] = _Block(audience, list(chunks), rows)
            else:
                space.blocks.pop(article_id, None)
            space.stacked = None

    def remove_article(self, ws: str, article_id: str) -> None:
        with self._lock:
            space = self._spaces.get(ws)
            if space is not None and space.blocks.pop(article_id, None) is not None:
                space.stacked = None

    def drop(self, ws: str) -> None:
        with self._lock:
            self._spaces.pop(ws, None)

    def size(self, ws: str | None = None) -> int:
        """How many chunks are held (for one workspace, or all)."""
        with self._lock:
            if ws is None:
                spaces = list(self._spaces.values())
            else:
                spaces = [self._spaces[ws]] if ws in self._spaces else []
            return sum(len(b.chunks) for s in spaces for b in s.blocks.values())

    def nbytes(self) -> int:
        with self._lock:
            return sum(b.vectors.nbytes for s in self._spaces.values() for b in s.blocks.values())

    def _stacked(self, ws: str) -> tuple[Matrix, list[tuple[str, int]], int, npt.NDArray[np.int64]]:
        """The workspace's rows in one matrix, every public row before any agents-only one;
        their owners (article, chunk) in the same order; how many rows are public; where each
        article's rows begin."""
        with self._lock:
            space = self._spaces.get(ws)
            if space is None or not space.blocks:
                empty: Matrix = np.zeros((0, self.dim), dtype=np.float32)
                return empty, [], 0, np.zeros(0, dtype=np.int64)
            if space.stacked is None:
                blocks = sorted(space.blocks.items(), key=lambda item: item[1].audience != "all")
                space.stacked = np.concatenate([b.vectors for _, b in blocks], axis=0)
                space.owners = [(aid, n) for aid, b in blocks for n in b.chunks]
                space.public = sum(len(b.chunks) for _, b in blocks if b.audience == "all")
                sizes = np.array([len(b.chunks) for _, b in blocks], dtype=np.int64)
                space.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
            assert space.starts is not None
            return space.stacked, space.owners, space.public, space.starts

    def search(self, ws: str, query: Matrix, k: int, audience: str = "agents") -> list[Hit]:
        """The `k` chunks nearest to `query` (one normalised vector) that `audience` may
        see, best first."""
        matrix, owners, public, _ = self._stacked(ws)
        if audience == "all":  # the public rows lead: a view, nothing copied or masked
            matrix = matrix[:public]
        if not len(matrix) or k <= 0:
            return []
        scores = matrix @ np.asarray(query, dtype=np.float32).reshape(self.dim)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [Hit(owners[i][0], owners[i][1], float(scores[i])) for i in top.tolist()]

    def articles(
        self, ws: str, query: Matrix, k: int, audience: str = "agents"
    ) -> list[ArticleHit]:
        """The `k` articles nearest to `query` for `audience`, best first. An article scores
        as the mean of its two most similar chunks (its one chunk, when it has one): on the
        retrieval set (bench/kb/retrieval.py) this ranks the right article higher than its
        single best chunk does, as a topic an article covers in several places beats a
        passing mention."""
        matrix, owners, public, starts = self._stacked(ws)
        if audience == "all":
            matrix = matrix[:public]
            starts = starts[starts < public]
        if not len(matrix) or k <= 0:
            return []
        scores = matrix @ np.asarray(query, dtype=np.float32).reshape(self.dim)
        sizes = np.diff(np.append(starts, len(scores)))
        best_at = _segment_argmax(scores, starts, sizes)
        best = scores[best_at]
        rest = scores.copy()
        rest[best_at] = -np.inf
        second = np.maximum.reduceat(rest, starts)
        article = np.where(sizes > 1, (best + second) / 2, best)
        k = min(k, len(article))
        top = np.argpartition(-article, k - 1)[:k]
        top = top[np.argsort(-article[top], kind="stable")]
        return [
            ArticleHit(owners[best_at[a]][0], owners[best_at[a]][1], float(article[a]))
            for a in top.tolist()
        ]

    def best_articles(
        self, ws: str, query: Matrix, k: int, audience: str = "agents"
    ) -> list[tuple[str, float]]:
        """Articles ranked by their best chunk's similarity, best first, at most `k`."""
        best: dict[str, float] = {}
        for hit in self.search(ws, query, k * 4, audience):
            if hit.score > best.get(hit.article_id, -np.inf):
                best[hit.article_id] = hit.score
        return sorted(best.items(), key=lambda item: -item[1])[:k]


def _segment_argmax(
    scores: npt.NDArray[np.float32], starts: npt.NDArray[np.int64], sizes: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """The index of the largest score in each segment (the first, on ties)."""
    best = np.maximum.reduceat(scores, starts)
    hit = scores == np.repeat(best, sizes)
    # The first hit at or after each segment's start is that segment's maximum.
    positions = np.flatnonzero(hit)
    return positions[np.searchsorted(positions, starts)]
