"""Each article's passages and their vectors, as the store keeps them: one document per article.

    kb_vectors  _id = "<workspace id>:<article id>", article_id, workspace_id,
                version (the article's, when embedded), model, dim,
                audience ("all" | "agents"), chunks [{n, heading, text}],
                vectors (the float32 matrix, row per chunk, as raw bytes)

One document per article is replaced whole (an upsert by `_id`, the lookup FerretDB indexes
on every backend), so a reader never sees half an article's passages; a workspace's are read
with one query when a process first answers for it. A change to an article is announced in
Redis — `tandem:kb:{ws:<id>}:changes`, a sorted set of article ids by a per-workspace counter —
so every process that holds the workspace in memory reloads just those articles before its
next answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import redis.asyncio as aioredis
from bson import Binary, ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from app.kb.vectors import Matrix

COLLECTION = "kb_vectors"
CHANGES_KEPT = 10_000  # newest changes remembered per workspace; older ones mean "reload all"


@dataclass(frozen=True)
class Passage:
    n: int
    heading: str
    text: str


@dataclass(frozen=True)
class StoredArticle:
    article_id: str
    version: int
    model: str
    audience: str
    passages: list[Passage]
    vectors: Matrix  # (len(passages), dim), or (len(passages), 0) when embedded by no model


def _doc_id(ws: str, article_id: str) -> str:
    return f"{ws}:{article_id}"


def _key(ws: str, suffix: str) -> str:
    return f"tandem:kb:{{ws:{ws}}}:{suffix}"


def _decode(raw: dict[str, Any]) -> StoredArticle:
    passages = [Passage(int(c["n"]), str(c["heading"]), str(c["text"])) for c in raw["chunks"]]
    dim = int(raw.get("dim") or 0)
    data = bytes(raw.get("vectors") or b"")
    vectors = np.frombuffer(data, dtype=np.float32).reshape(len(passages), dim).copy()
    return StoredArticle(
        article_id=str(raw.get("article_id") or raw["_id"]),  # older documents: _id alone
        version=int(raw["version"]),
        model=str(raw.get("model") or ""),
        audience=str(raw["audience"]),
        passages=passages,
        vectors=vectors,
    )


class StoredVectors:
    def __init__(self, database: AsyncDatabase[dict[str, Any]], redis: aioredis.Redis) -> None:
        self.collection = database[COLLECTION]
        self.redis = redis

    async def put(self, ws: str, article: StoredArticle) -> bool:
        """Keep an article's passages unless a newer version is kept already; announce it."""
        doc = {
            "article_id": article.article_id,
            "workspace_id": ObjectId(ws),
            "version": article.version,
            "model": article.model,
            "dim": int(article.vectors.shape[1]) if article.vectors.ndim == 2 else 0,
            "audience": article.audience,
            "chunks": [{"n": p.n, "heading": p.heading, "text": p.text} for p in article.passages],
            "vectors": Binary(np.ascontiguousarray(article.vectors, dtype=np.float32).tobytes()),
        }
        key = _doc_id(ws, article.article_id)
        current = await self.collection.find_one({"_id": key}, {"version": 1})
        if current is not None and int(current["version"]) > article.version:
            return False
        await self.collection.replace_one({"_id": key}, doc, upsert=True)
        await self.announce(ws, article.article_id)
        return True

    async def remove(self, ws: str, article_id: str) -> None:
        await self.collection.delete_one({"_id": _doc_id(ws, article_id)})
        await self.announce(ws, article_id)

    async def announce(self, ws: str, article_id: str) -> None:
        seq = await self.redis.incr(_key(ws, "seq"))
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(_key(ws, "changes"), {article_id: seq})
            pipe.zremrangebyrank(_key(ws, "changes"), 0, -CHANGES_KEPT - 1)
            await pipe.execute()

    async def seq(self, ws: str) -> int:
        value = await self.redis.get(_key(ws, "seq"))
        return int(value) if value else 0

    async def changed_since(self, ws: str, seen: int) -> tuple[int, list[str] | None]:
        """The workspace's change counter now, and the articles changed after `seen` (None
        when more changed than are remembered: reload them all)."""
        now = await self.seq(ws)
        if now <= seen:
            return now, []
        raw = await self.redis.zrangebyscore(_key(ws, "changes"), seen + 1, "+inf")
        oldest = await self.redis.zrange(_key(ws, "changes"), 0, 0, withscores=True)
        if oldest and int(oldest[0][1]) > seen + 1 and len(raw) >= CHANGES_KEPT:
            return now, None
        return now, [r.decode() if isinstance(r, bytes) else str(r) for r in raw]

    async def workspaces(self) -> list[str]:
        """Every workspace that has embedded articles."""
        found = await self.collection.distinct("workspace_id")
        return [str(ws) for ws in found]

    async def load_workspace(self, ws: str) -> list[StoredArticle]:
        found = self.collection.find({"workspace_id": ObjectId(ws)})
        return [_decode(raw) async for raw in found]

    async def load(self, ws: str, article_id: str) -> StoredArticle | None:
        raw = await self.collection.find_one({"_id": _doc_id(ws, article_id)})
        if raw is None:
            return None
        return _decode(raw)
