"""Embedding articles as they change: the relay asks, the worker embeds, every process finds.

An article event (created, updated, deleted) reaches `KbIndexing.project` in the relay, before
it is published, in whichever process wrote it; it only enqueues a `kb.index` job, keyed by the
article and its version so a retried event asks once. The worker's job reads the article as
it is now, cuts it into passages (app/domain/kb.py), embeds them with the model in a thread,
and keeps them (app/kb/stored.py), which announces the change to every process. A deleted
article's passages go. A job for an older version finds the newer one and embeds that, so
late jobs do no harm.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from bson import ObjectId

from app.documents.kb import Article
from app.domain.kb import audience_of, chunks
from app.jobs.queue import JobQueue
from app.kb.engine import KnowledgeBase
from app.kb.stored import Passage, StoredArticle
from realtime.events import ArticleCreated, ArticleDeleted, ArticleUpdated, Event

log = logging.getLogger("tandem.kb")

KB_INDEX_JOB = "kb.index"
KB_REINDEX_JOB = "kb.reindex"  # every article of a workspace (after a model change, or a restore)


class KbIndexing:
    """A relay projection: article events become `kb.index` jobs for the worker."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue

    async def project(self, events: Sequence[Event]) -> None:
        for event in events:
            if isinstance(event, ArticleCreated | ArticleUpdated | ArticleDeleted):
                article = event.data.article
                await self.queue.enqueue(
                    KB_INDEX_JOB,
                    {"ws": event.ws, "article": article.id},
                    key=f"kb:{article.id}:{article.version}:{event.type}",
                )


async def index_article(kb: KnowledgeBase, ws: str, article_id: str) -> int:
    """Embed the article as it is now and keep its passages; returns how many (0 when it is
    gone, and its passages with it)."""
    raw = await Article.get_pymongo_collection().find_one(
        {"_id": ObjectId(article_id), "workspace_id": ObjectId(ws)}
    )
    if raw is None or raw.get("deleted_at") is not None:
        await kb.stored.remove(ws, article_id)
        return 0
    article = Article.model_validate(raw)
    found = chunks(article.title, article.body)
    vectors = await kb.embed([c.text for c in found])
    model = kb.model if vectors is not None else ""
    if vectors is None:  # no model here: kept for keyword answers, embedded by a later job
        vectors = np.zeros((len(found), 0), dtype=np.float32)
    kept = StoredArticle(
        article_id=article_id,
        version=article.version,
        model=model,
        audience=audience_of(article.status, article.visibility),
        passages=[Passage(c.n, c.heading, c.text) for c in found],
        vectors=vectors,
    )
    if not await kb.stored.put(ws, kept):
        log.info("article %s: a newer version is embedded already", article_id)
    return len(found)


async def reindex_workspace(kb: KnowledgeBase, ws: str) -> int:
    """Every live article of the workspace embedded again; returns how many articles."""
    ids = Article.get_pymongo_collection().find(
        {"workspace_id": ObjectId(ws), "deleted_at": {"$exists": False}}, {"_id": 1}
    )
    done = 0
    async for raw in ids:
        await index_article(kb, ws, str(raw["_id"]))
        done += 1
    return done
