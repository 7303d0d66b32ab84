"""The MongoDB blob store on a real FerretDB: what goes in comes out, only where it belongs."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import bson
import pytest
from bson import Binary, ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from app.blobs import BlobNotFound
from app.blobs.mongo import BSON_LIMIT, CHUNKS, FILES, MAX_CHUNK_SIZE, MongoBlobStore, chunk_id

CHUNK = 1024  # small chunks, so a few kilobytes make several


@pytest.fixture(scope="module")
async def database(mongodb_url: str, db_name: str) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    try:
        yield client[db_name]
    finally:
        await client.drop_database(db_name)
        await client.close()


@pytest.fixture
def store(database: AsyncDatabase[dict[str, Any]]) -> MongoBlobStore:
    return MongoBlobStore(database, chunk_size=CHUNK)


def new_ws() -> str:
    return str(ObjectId())


async def chunk_ids(database: AsyncDatabase[dict[str, Any]], blob_id: str) -> list[str]:
    return [
        doc["_id"]
        async for doc in database[CHUNKS].find({"blob_id": blob_id}, {"_id": 1}).sort("_id", 1)
    ]


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK, 3 * CHUNK + 17], ids=["empty", "one-byte", "one-chunk", "partial"]
)
async def test_bytes_come_back_as_they_went_in(
    store: MongoBlobStore, database: AsyncDatabase[dict[str, Any]], size: int
) -> None:
    ws = new_ws()
    data = os.urandom(size)

    put = await store.put(ws, "report.pdf", "application/pdf", data)

    assert await store.read_all(ws, put.id) == data
    chunks = [chunk async for chunk in await store.read(ws, put.id)]
    assert [len(c) for c in chunks] == [min(CHUNK, size - start) for start in range(0, size, CHUNK)]
    # A head, then the bytes; an empty blob has no chunks at all.
    count = -(-size // CHUNK)
    expected = [chunk_id(put.id, n) for n in range(count + 1)] if count else []
    assert await chunk_ids(database, put.id) == expected
    head = await database[CHUNKS].find_one({"_id": chunk_id(put.id, 0)})
    assert (
        head is None
        if size == 0
        else head
        == {
            "_id": chunk_id(put.id, 0),
            "blob_id": put.id,
            "n": 0,
            "count": count,
        }
    )


async def test_the_info_records_size_digest_and_names(store: MongoBlobStore) -> None:
    ws = new_ws()
    data = os.urandom(2 * CHUNK + 5)

    put = await store.put(ws, "photo.png", "image/png", data)

    assert (put.workspace_id, put.filename, put.content_type) == (ws, "photo.png", "image/png")
    assert put.size == len(data)
    assert put.sha256 == hashlib.sha256(data).hexdigest()
    assert await store.info(ws, put.id) == put


async def test_another_workspace_sees_nothing(store: MongoBlobStore) -> None:
    ws, other = new_ws(), new_ws()
    put = await store.put(ws, "a.txt", "text/plain", b"hello")

    assert await store.info(other, put.id) is None
    with pytest.raises(BlobNotFound):
        await store.read(other, put.id)
    with pytest.raises(BlobNotFound):
        await store.read_all(other, put.id)
    assert await store.delete(other, put.id) is False
    assert await store.read_all(ws, put.id) == b"hello"


@pytest.mark.parametrize("bad", ["", "nope", "123", "zz" * 12, "../etc/passwd"])
async def test_an_id_that_is_not_an_object_id_is_just_missing(
    store: MongoBlobStore, bad: str
) -> None:
    ws = new_ws()
    put = await store.put(ws, "a.txt", "text/plain", b"x")

    assert await store.info(ws, bad) is None
    assert await store.info(bad, put.id) is None
    with pytest.raises(BlobNotFound):
        await store.read(ws, bad)
    assert await store.delete(ws, bad) is False
    assert await store.delete(bad, put.id) is False


async def test_a_missing_blob_is_not_found(store: MongoBlobStore) -> None:
    ws = new_ws()
    missing = str(ObjectId())

    assert await store.info(ws, missing) is None
    with pytest.raises(BlobNotFound):
        await store.read_all(ws, missing)
    assert await store.delete(ws, missing) is False


async def test_delete_removes_the_blob_and_its_chunks(
    store: MongoBlobStore, database: AsyncDatabase[dict[str, Any]]
) -> None:
    ws = new_ws()
    put = await store.put(ws, "a.bin", "application/zip", os.urandom(5 * CHUNK))
    assert len(await chunk_ids(database, put.id)) == 1 + 5

    assert await store.delete(ws, put.id) is True

    assert await store.info(ws, put.id) is None
    assert await chunk_ids(database, put.id) == []
    assert await store.delete(ws, put.id) is False


async def test_a_reader_that_stops_early_leaves_nothing_running(store: MongoBlobStore) -> None:
    ws = new_ws()
    data = os.urandom(10 * CHUNK)
    put = await store.put(ws, "a.bin", "application/zip", data)

    chunks = await store.read(ws, put.id)
    first = await anext(chunks)
    await chunks.aclose()  # type: ignore[attr-defined]

    assert first == data[:CHUNK]


async def test_a_blob_deleted_while_read_raises_not_found(store: MongoBlobStore) -> None:
    ws = new_ws()
    put = await store.put(ws, "a.bin", "application/zip", os.urandom(20 * CHUNK))
    chunks = await store.read(ws, put.id)
    await store.delete(ws, put.id)

    with pytest.raises(BlobNotFound):
        async for _ in chunks:
            pass


async def test_chunks_without_a_files_document_are_invisible_and_swept(
    store: MongoBlobStore, database: AsyncDatabase[dict[str, Any]]
) -> None:
    ws = new_ws()
    kept_data = os.urandom(3 * CHUNK)
    kept = await store.put(ws, "kept.txt", "text/plain", kept_data)
    old = ObjectId.from_datetime(ObjectId().generation_time - timedelta(hours=2))
    orphan = str(ObjectId(old.binary[:4] + os.urandom(8)))  # an id as a put two hours ago made
    recent = str(ObjectId())  # a put still writing, as far as anyone can tell
    for blob_id in (orphan, recent):
        await database[CHUNKS].insert_many(
            [
                {"_id": chunk_id(blob_id, 0), "blob_id": blob_id, "n": 0, "count": 2},
                *(
                    {"_id": chunk_id(blob_id, n), "blob_id": blob_id, "n": n, "data": Binary(b"z")}
                    for n in (1, 2)
                ),
            ]
        )

    assert await store.info(ws, orphan) is None
    with pytest.raises(BlobNotFound):
        await store.read(ws, orphan)

    assert await store.sweep_orphans(timedelta(hours=1)) == 1

    assert await chunk_ids(database, orphan) == []
    assert len(await chunk_ids(database, recent)) == 3
    assert len(await chunk_ids(database, kept.id)) == 4
    assert await store.read_all(ws, kept.id) == kept_data
    assert await store.sweep_orphans(timedelta(0)) == 1  # now the recent one too
    assert await chunk_ids(database, recent) == []
    assert await store.info(ws, kept.id) == kept


async def test_a_sweep_finishes_a_delete_that_stopped_half_way(
    store: MongoBlobStore, database: AsyncDatabase[dict[str, Any]]
) -> None:
    ws = new_ws()
    put = await store.put(ws, "a.bin", "application/zip", os.urandom(4 * CHUNK))
    await database[FILES].delete_one({"_id": ObjectId(put.id)})
    await database[CHUNKS].delete_one({"_id": chunk_id(put.id, 4)})

    assert await store.sweep_orphans(timedelta(0)) >= 1

    assert await chunk_ids(database, put.id) == []


async def test_twenty_concurrent_puts_are_all_readable(store: MongoBlobStore) -> None:
    ws = new_ws()
    payloads = [os.urandom(n * 331) for n in range(20)]

    puts = await asyncio.gather(
        *(store.put(ws, f"f{i}.bin", "application/zip", p) for i, p in enumerate(payloads))
    )

    assert len({p.id for p in puts}) == 20
    read = await asyncio.gather(*(store.read_all(ws, p.id) for p in puts))
    assert read == payloads


async def test_a_large_blob_goes_in_batches_within_the_document_limit(
    database: AsyncDatabase[dict[str, Any]],
) -> None:
    store = MongoBlobStore(database, chunk_size=1024 * 1024)
    ws = new_ws()
    data = os.urandom(20 * 1024 * 1024 + 3)

    put = await store.put(ws, "big.zip", "application/zip", data)

    assert store.chunks_per_batch < put.size // store.chunk_size  # more than one batch
    assert await store.read_all(ws, put.id) == data
    assert len(await chunk_ids(database, put.id)) == 1 + 21


@pytest.mark.parametrize("chunk_size", [1, 255 * 1024, 4 * 1024 * 1024, MAX_CHUNK_SIZE])
def test_a_batch_of_chunks_stays_under_the_bson_limit(
    database: AsyncDatabase[dict[str, Any]], chunk_size: int
) -> None:
    store = MongoBlobStore(database, chunk_size=chunk_size)
    data = bytes(chunk_size * (store.chunks_per_batch + 1))
    docs = store.chunk_documents(str(ObjectId()), data)

    batch = [bson.encode(doc) for doc in itertools.islice(docs, store.chunks_per_batch)]

    assert len(batch) >= 1
    assert sum(len(doc) for doc in batch) < BSON_LIMIT


def test_a_chunk_must_fit_in_one_document(database: AsyncDatabase[dict[str, Any]]) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        MongoBlobStore(database, chunk_size=16 * 1024 * 1024)
    with pytest.raises(ValueError, match="chunk_size"):
        MongoBlobStore(database, chunk_size=0)
