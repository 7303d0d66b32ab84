"""The document store: one client per process, Beanie bound to the configured database."""

from __future__ import annotations

from beanie import init_beanie
from pymongo import AsyncMongoClient

from app.documents import ALL_DOCUMENTS


async def connect_store(url: str, db_name: str) -> AsyncMongoClient[dict[str, object]]:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        url, tz_aware=True, serverSelectionTimeoutMS=10_000, appname="tandem"
    )
    await init_beanie(database=client[db_name], document_models=ALL_DOCUMENTS)
    return client
