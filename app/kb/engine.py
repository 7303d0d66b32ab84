"""Knowledge-base lookups: the passages nearest a question, by meaning and by exact words.

Each process that answers queries holds every workspace it has been asked about in memory:
the passages' vectors (app/kb/vectors.py) and a keyword index over their words
(app/kb/keywords.py). It reads a workspace from the store on its first query, and before each
query reloads the articles announced as changed since (app/kb/stored.py), so what an editor
saves is found from every process once the worker has embedded it.

Ranking: an article scores `similarity + KEYWORD_WEIGHT * BM25 / ceiling`, its similarity the
mean cosine of its two passages nearest the question, its BM25 its best passage's. The vector
carries paraphrases and other languages; the keyword part lifts the exact tokens a vector
blurs (an order number, an error code, a product name). Measured on the retrieval set
(bench/kb/retrieval.py), rank fusion of the two lists did worse than this score sum, and one
best passage did worse than two.

The model runs in a thread, never on the event loop. If it cannot be loaded (its files missing
or corrupt), Tandem says why once in its log and answers by keywords alone.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from app.kb.embedder import Embedder, ModelUnavailable, load
from app.kb.keywords import ArticleKeywords
from app.kb.stored import Passage, StoredArticle, StoredVectors
from app.kb.vectors import Matrix, VectorIndex

log = logging.getLogger("tandem.kb")

DEFAULT_MODEL = "use-multilingual-int8"
KEYWORD_WEIGHT = 0.2

# One loaded model per process and configuration, shared by every knowledge base in it (an
# onnxruntime session may run from several threads at once).
_models: dict[tuple[str, str, int], Embedder] = {}


def _load_shared(model: str, root: Path | None, threads: int) -> Embedder:
    key = (model, str(root), threads)
    if key not in _models:
        _models[key] = load(model, root, threads=threads)
    return _models[key]


@dataclass(frozen=True)
class Found:
    article_id: str
    score: float
    passage: Passage  # the article's passage that matched best


@dataclass
class _Space:
    seen: int = 0
    articles: dict[str, StoredArticle] = field(default_factory=dict)
    # Keyword indexes per audience, built on first use after a change.
    keywords: dict[str, ArticleKeywords] = field(default_factory=dict)


class KnowledgeBase:
    def __init__(
        self,
        stored: StoredVectors,
        model: str = DEFAULT_MODEL,
        models_root: Path | None = None,
        threads: int = 1,
    ) -> None:
        self.stored = stored
        self.model = model
        self.models_root = models_root
        self.threads = threads
        self.unavailable: str | None = None  # why the model is not used, when it is not
        self._embedder: Embedder | None = None
        self._tried = False
        self._loading = asyncio.Lock()
        self._vectors: VectorIndex | None = None
        self._spaces: dict[str, _Space] = {}
        self._syncing: dict[str, asyncio.Lock] = {}

    # ---- the model ---------------------------------------------------------------------------

    async def embedder(self) -> Embedder | None:
        """The model, loaded once in a thread; None when it cannot be (and why is logged)."""
        if self._tried:
            return self._embedder
        async with self._loading:
            if not self._tried:
                try:
                    self._embedder = await asyncio.to_thread(
                        _load_shared, self.model, self.models_root, self.threads
                    )
                    self._vectors = VectorIndex(self._embedder.dim)
                except ModelUnavailable as exc:
                    self.unavailable = exc.reason
                    log.error(
                        "knowledge-base model %s unavailable (%s): answering by keywords only; "
                        "run `python -m app.kb.models fetch`",
                        self.model,
                        exc.reason,
                    )
                self._tried = True
        return self._embedder

    async def embed(self, texts: list[str]) -> Matrix | None:
        embedder = await self.embedder()
        if embedder is None or not texts:
            return None
        return await asyncio.to_thread(embedder.embed, texts)

    async def preload(self) -> int:
        """Load the model and every workspace's passages now, so no first question (or first
        suggestion) waits for them; returns how many workspaces."""
        await self.embedder()
        workspaces = await self.stored.workspaces()
        for ws in workspaces:
            await self._sync(ws)
        passages, size = self.held()
        log.info(
            "knowledge base ready: %d workspaces, %d passages, %.0f MB of vectors",
            len(workspaces),
            passages,
            size / 1e6,
        )
        return len(workspaces)

    # ---- keeping current ---------------------------------------------------------------------

    async def _sync(self, ws: str) -> _Space:
        async with self._syncing.setdefault(ws, asyncio.Lock()):
            space = self._spaces.get(ws)
            if space is not None:
                now, changed = await self.stored.changed_since(ws, space.seen)
                if changed is not None:
                    for article_id in changed:
                        article = await self.stored.load(ws, article_id)
                        if article is not None:
                            self._hold(ws, space, article)
                        elif space.articles.pop(article_id, None) is not None:
                            space.keywords.clear()
                            if self._vectors is not None:
                                self._vectors.remove_article(ws, article_id)
                    space.seen = now
                    return space
            # First asked, or more changed than is remembered: read the workspace whole.
            space = _Space(seen=await self.stored.seq(ws))
            if self._vectors is not None:
                self._vectors.drop(ws)
            for article in await self.stored.load_workspace(ws):
                self._hold(ws, space, article)
            self._spaces[ws] = space
            return space

    def _hold(self, ws: str, space: _Space, article: StoredArticle) -> None:
        space.articles[article.article_id] = article
        space.keywords.clear()
        vectors = self._vectors
        if vectors is None:
            return
        if article.model == self.model and article.vectors.shape[1:] == (vectors.dim,):
            chunks = [p.n for p in article.passages]
            vectors.put_article(ws, article.article_id, article.audience, chunks, article.vectors)
        else:  # embedded by another model, or by none: found by its words until re-embedded
            vectors.remove_article(ws, article.article_id)

    def _keywords(self, space: _Space, audience: str) -> ArticleKeywords:
        if audience not in space.keywords:
            space.keywords[audience] = ArticleKeywords(
                [
                    (a.article_id, [p.text for p in a.passages])
                    for a in space.articles.values()
                    if audience == "agents" or a.audience == "all"
                ]
            )
        return space.keywords[audience]

    # ---- answering ---------------------------------------------------------------------------

    async def search(
        self,
        ws: str,
        query: str,
        *,
        audience: str = "agents",
        k: int = 5,
        vector: Matrix | None = None,
    ) -> list[Found]:
        """The `k` articles that best answer `query`, for `audience` ("all": public and
        published only), best first, each with its best passage. `vector` is the query's
        embedding when the caller already has it (from `embed`)."""
        query = " ".join(query.split())[:1000]
        if not query:
            return []
        await self.embedder()
        space = await self._sync(ws)
        vectors = self._vectors
        if vector is None and vectors is not None:
            encoded = await self.embed([query])
            vector = encoded[0] if encoded is not None else None
        hits = (
            vectors.articles(ws, vector, k * 4, audience) if vectors and vector is not None else []
        )
        nearest = [
            (h.article_id, h.score, _passage_index(space.articles[h.article_id], h.chunk))
            for h in hits
        ]
        keywords = self._keywords(space, audience).best(query, k, {a for a, _, _ in nearest})
        ranked = fuse(nearest, keywords, k)
        return [
            Found(article_id, score, space.articles[article_id].passages[index])
            for article_id, score, index in ranked
        ]

    def held(self) -> tuple[int, int]:
        """Passages held, and the bytes their vectors take."""
        passages = sum(len(a.passages) for s in self._spaces.values() for a in s.articles.values())
        return passages, self._vectors.nbytes() if self._vectors is not None else 0


def _passage_index(article: StoredArticle, chunk: int) -> int:
    for i, passage in enumerate(article.passages):
        if passage.n == chunk:
            return i
    return 0


def fuse(
    nearest: list[tuple[str, float, int]], keywords: dict[str, tuple[float, int]], k: int
) -> list[tuple[str, float, int]]:
    """Articles by `their similarity + KEYWORD_WEIGHT * keyword share`, best first, each with
    the passage that matched best (by meaning if any did, else by words)."""
    scores: dict[str, float] = {}
    passage: dict[str, int] = {}
    for article_id, score, index in nearest:
        if score > scores.get(article_id, -2.0):
            scores[article_id], passage[article_id] = score, index
    for article_id, (share, index) in keywords.items():
        scores[article_id] = scores.get(article_id, 0.0) + KEYWORD_WEIGHT * share
        passage.setdefault(article_id, index)
    ranked = sorted(scores.items(), key=lambda item: -item[1])[:k]
    return [(article_id, score, passage[article_id]) for article_id, score in ranked]
