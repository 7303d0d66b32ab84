"""The document store: one client per process, Beanie bound to the configured database.

Indexes are created here rather than by Beanie: FerretDB v1.24 drops the connection when
`createIndexes` names indexes that already exist (so a second process, or a restart on saved
data, failed to start). Each missing index is created on its own, and processes starting at
the same moment take turns under a Redis lock.
"""

from __future__ import annotations

from typing import Any

from beanie import Document, init_beanie
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError, OperationFailure

from app.doclock import DocumentLocks
from app.documents import ALL_DOCUMENTS


async def ensure_indexes(models: list[type[Document]]) -> int:
    created = 0
    for model in models:
        collection = model.get_pymongo_collection()
        existing = {index["name"] async for index in await collection.list_indexes()}
        for field in model.get_settings().indexes or []:
            if field.name not in existing:
                await collection.create_indexes([field.index])
                created += 1
    return created


async def connect_store(
    url: str, db_name: str, locks: DocumentLocks
) -> AsyncMongoClient[dict[str, Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        url, tz_aware=True, serverSelectionTimeoutMS=10_000, appname="tandem"
    )
    await init_beanie(database=client[db_name], document_models=ALL_DOCUMENTS, skip_indexes=True)
    async with locks.hold(f"schema:{db_name}"):
        await ensure_indexes(ALL_DOCUMENTS)
    return client


def is_duplicate_key(error: OperationFailure) -> bool:
    """Whether a write failed on a unique index: MongoDB says so with code 11000; FerretDB on
    PostgreSQL answers a findAndModify or an update that hits one with an error naming it."""
    return (
        isinstance(error, DuplicateKeyError) or error.code == 11000 or "duplicate key" in str(error)
    )
