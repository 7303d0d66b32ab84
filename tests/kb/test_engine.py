"""Knowledge-base answers from the store and the real model: by meaning across languages, by
exact words, kept current across processes, and by keywords alone when the model is missing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from bson import ObjectId
from pymongo import AsyncMongoClient

from app.kb.engine import KnowledgeBase
from app.kb.stored import Passage, StoredArticle, StoredVectors

ARTICLES = {
    "returns": ("all", ["Returns — How to send an item back within 30 days for a refund",
                        "Returns — Print the prepaid label from your order page"]),
    "damaged": ("all", ["Damaged items — If your parcel arrived broken, send us a photo and we "
                        "ship a replacement"]),
    "payments": ("all", ["Failed payments — Error PAY-402 means your bank declined the card"]),
    "runbook": ("agents", ["Internal — Escalate chargebacks to the finance team on Slack"]),
}  # fmt: skip


@pytest.fixture
async def stored(mongodb_url: str, db_name: str, redis_url: str) -> AsyncIterator[StoredVectors]:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    redis = aioredis.from_url(redis_url)
    try:
        yield StoredVectors(client[db_name], redis)
    finally:
        await redis.aclose()
        await client.close()


async def fill(kb: KnowledgeBase, stored: StoredVectors, ws: str) -> None:
    for article_id, (audience, texts) in ARTICLES.items():
        vectors = await kb.embed(texts)
        assert vectors is not None
        passages = [Passage(n, "", text) for n, text in enumerate(texts)]
        await stored.put(ws, StoredArticle(article_id, 1, kb.model, audience, passages, vectors))


async def test_questions_find_their_article_by_meaning_words_and_audience(
    stored: StoredVectors,
) -> None:
    ws = str(ObjectId())
    kb = KnowledgeBase(stored)
    await fill(kb, stored, ws)
    smashed = await kb.search(ws, "my package showed up smashed", audience="all", k=3)
    assert smashed[0].article_id == "damaged"
    spanish = await kb.search(ws, "quiero devolver un producto y recuperar mi dinero", k=3)
    assert spanish[0].article_id == "returns"
    code = await kb.search(ws, "what is PAY-402", audience="all", k=3)
    assert code[0].article_id == "payments"
    assert "PAY-402" in code[0].passage.text
    public = await kb.search(ws, "escalate a chargeback to finance", audience="all", k=5)
    assert "runbook" not in [f.article_id for f in public]
    agents = await kb.search(ws, "escalate a chargeback to finance", audience="agents", k=5)
    assert agents[0].article_id == "runbook"
    assert await kb.search(ws, "   ", k=3) == []


async def test_a_change_made_elsewhere_is_found_on_the_next_question(
    stored: StoredVectors,
) -> None:
    ws = str(ObjectId())
    writer, reader = KnowledgeBase(stored), KnowledgeBase(stored)  # two processes
    await fill(writer, stored, ws)
    assert (await reader.search(ws, "gift card balance", k=1))[0].article_id != "gift-cards"
    text = ["Gift cards — Check the balance of a gift card on the gift card page"]
    vectors = await writer.embed(text)
    assert vectors is not None
    passages = [Passage(0, "", text[0])]
    await stored.put(ws, StoredArticle("gift-cards", 1, writer.model, "all", passages, vectors))
    assert (await reader.search(ws, "gift card balance", k=1))[0].article_id == "gift-cards"
    await stored.remove(ws, "gift-cards")
    found = await reader.search(ws, "gift card balance", k=5)
    assert "gift-cards" not in [f.article_id for f in found]
    # An older version arriving late does not replace a newer one.
    newer = StoredArticle("returns", 3, writer.model, "all", passages, vectors)
    assert await stored.put(ws, newer)
    older = StoredArticle("returns", 2, writer.model, "all", passages, vectors)
    assert not await stored.put(ws, older)


async def test_without_its_model_the_knowledge_base_answers_by_keywords(
    stored: StoredVectors, tmp_path: Path
) -> None:
    ws = str(ObjectId())
    await fill(KnowledgeBase(stored), stored, ws)
    blind = KnowledgeBase(stored, models_root=tmp_path / "empty")
    found = await blind.search(ws, "PAY-402 declined", audience="all", k=3)
    assert found[0].article_id == "payments"
    assert blind.unavailable is not None
    assert "model.onnx" in blind.unavailable or "missing" in blind.unavailable


async def test_a_process_can_hold_every_workspace_before_its_first_question(
    stored: StoredVectors,
) -> None:
    ws = str(ObjectId())
    await fill(KnowledgeBase(stored), stored, ws)
    fresh = KnowledgeBase(stored)
    assert await fresh.preload() >= 1
    held, size = fresh.held()
    assert held >= 5  # this workspace's passages at least
    assert size > 0
    assert (await fresh.search(ws, "PAY-402", audience="all", k=1))[0].article_id == "payments"
