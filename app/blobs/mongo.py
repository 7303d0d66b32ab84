"""Blobs in the document store, cut into chunks the way GridFS does, shaped for FerretDB v1.

Two collections, no Beanie documents:

    blob_files   one per blob: _id (ObjectId, the blob id), workspace_id (ObjectId), filename,
                 content_type, size, sha256, chunk_count, created_at
    blob_chunks  _id "<blob id>:<n, six digits>", blob_id, n, and for n = 1, 2, … the bytes,
                 data (Binary); chunk 0 is the blob's head: no bytes, `count` = how many
                 chunks of bytes follow it (an empty blob has no chunks at all)

FerretDB v1 hands a filter of `_id` alone to its backend: PostgreSQL answers it from an index
(app/devservices/pg_lookups.py); SQLite scans the table inside SQLite up to the match (FerretDB
1.24 filters on `->'$._id'`, which its `_id` index on `->"_id"` does not serve), so there a
lookup costs about the bytes stored before it, and fewer, larger chunks read faster. A range on
`_id`, an `$in`, a sort, or on SQLite any other filter, has FerretDB read and decode the whole
collection — every stored byte of every blob. So a chunk's `_id` is computed from its blob's
id and its number, a blob is read one `_id` lookup per chunk, a few ahead of the reader, and
its files document is looked up by `_id` alone.

A put writes its chunks first, in order, in `insert_many` batches of at most `BATCH_BYTES`
(each batch one command under the 16 MB BSON limit), and the files document last: a put that
dies half way leaves chunks nobody can see, never a blob with bytes missing. A delete removes
the files document first, then the chunks from the last to the first, so the head is the first
of a blob's chunks to come and the last to go. `sweep_orphans` reads the heads — small, so
on PostgreSQL the store filters the collection without sending its bytes anywhere — and
removes the chunks of blobs with no files document: the leftovers of puts and deletes that
died half way.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Binary, ObjectId
from bson.errors import InvalidId
from pymongo.asynchronous.database import AsyncDatabase

from app.blobs.store import BlobInfo, BlobNotFound

FILES = "blob_files"
CHUNKS = "blob_chunks"

DEFAULT_CHUNK_SIZE = 255 * 1024
BSON_LIMIT = 16 * 1024 * 1024
# Room in a chunk document for everything that is not its bytes (the ids, `n`, `count`).
CHUNK_OVERHEAD = 256
MAX_CHUNK_SIZE = BSON_LIMIT - 64 * 1024
BATCH_BYTES = 8 * 1024 * 1024
BATCH_CHUNKS = 1_000
READ_AHEAD = 4  # chunk lookups in flight while a blob is read
DELETE_AHEAD = 16  # chunk deletes in flight
SWEEP_CHECKS = 32  # files-document lookups in flight while sweeping

Doc = dict[str, Any]


def chunk_id(blob_id: str, n: int) -> str:
    return f"{blob_id}:{n:06d}"


def _object_id(value: str) -> ObjectId | None:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


def _now() -> datetime:
    # Millisecond precision: what BSON dates keep, so `put`'s answer equals `info`'s.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _info(doc: Doc) -> BlobInfo:
    return BlobInfo(
        id=str(doc["_id"]),
        workspace_id=str(doc["workspace_id"]),
        filename=doc["filename"],
        content_type=doc["content_type"],
        size=doc["size"],
        sha256=doc["sha256"],
        created_at=doc["created_at"],
    )


class MongoBlobStore:
    """A `BlobStore` on `database`'s `blob_files` and `blob_chunks` collections."""

    def __init__(self, database: AsyncDatabase[Doc], chunk_size: int = DEFAULT_CHUNK_SIZE):
        if not 0 < chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK_SIZE} bytes")
        self.files = database[FILES]
        self.chunks = database[CHUNKS]
        self.chunk_size = chunk_size
        fit = BATCH_BYTES // (chunk_size + CHUNK_OVERHEAD)
        self.chunks_per_batch = max(1, min(BATCH_CHUNKS, fit))

    def chunk_documents(self, blob_id: str, data: bytes) -> Iterator[Doc]:
        """The chunk documents of `data` as blob `blob_id`, in order: the head, then the bytes."""
        count = self.chunk_count(len(data))
        if count == 0:
            return
        yield {"_id": chunk_id(blob_id, 0), "blob_id": blob_id, "n": 0, "count": count}
        view = memoryview(data)
        for n in range(1, count + 1):
            piece = view[(n - 1) * self.chunk_size : n * self.chunk_size]
            yield {"_id": chunk_id(blob_id, n), "blob_id": blob_id, "n": n, "data": Binary(piece)}

    def chunk_count(self, size: int) -> int:
        """How many chunks of bytes a blob of `size` bytes is cut into."""
        return -(-size // self.chunk_size)

    async def put(
        self, workspace_id: str, filename: str, content_type: str, data: bytes
    ) -> BlobInfo:
        workspace = _object_id(workspace_id)
        if workspace is None:
            raise ValueError(f"not a workspace id: {workspace_id!r}")
        oid = ObjectId()
        blob_id = str(oid)
        batch: list[Doc] = []
        for doc in self.chunk_documents(blob_id, data):
            batch.append(doc)
            if len(batch) == self.chunks_per_batch:
                await self.chunks.insert_many(batch, ordered=True)
                batch = []
        if batch:
            await self.chunks.insert_many(batch, ordered=True)
        files_doc: Doc = {
            "_id": oid,
            "workspace_id": workspace,
            "filename": filename,
            "content_type": content_type,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "chunk_count": self.chunk_count(len(data)),
            "created_at": _now(),
        }
        await self.files.insert_one(files_doc)
        return _info(files_doc)

    async def _files_doc(self, workspace_id: str, blob_id: str) -> Doc | None:
        oid, workspace = _object_id(blob_id), _object_id(workspace_id)
        if oid is None or workspace is None:
            return None
        doc = await self.files.find_one({"_id": oid})
        return doc if doc is not None and doc["workspace_id"] == workspace else None

    async def info(self, workspace_id: str, blob_id: str) -> BlobInfo | None:
        doc = await self._files_doc(workspace_id, blob_id)
        return None if doc is None else _info(doc)

    async def read(self, workspace_id: str, blob_id: str) -> AsyncIterator[bytes]:
        doc = await self._files_doc(workspace_id, blob_id)
        if doc is None:
            raise BlobNotFound(blob_id)
        return self._chunks_of(str(doc["_id"]), doc["chunk_count"])

    async def _chunks_of(self, blob_id: str, count: int) -> AsyncIterator[bytes]:
        """Chunk after chunk, each one `_id` lookup, up to `READ_AHEAD` of them in flight."""
        pending: deque[asyncio.Task[Doc | None]] = deque()
        upcoming = iter(range(1, count + 1))
        try:
            while True:
                while len(pending) < READ_AHEAD and (n := next(upcoming, None)) is not None:
                    lookup = self.chunks.find_one({"_id": chunk_id(blob_id, n)})
                    pending.append(asyncio.ensure_future(lookup))
                if not pending:
                    return
                chunk = await pending.popleft()
                if chunk is None:
                    raise BlobNotFound(blob_id)
                yield bytes(chunk["data"])
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def read_all(self, workspace_id: str, blob_id: str) -> bytes:
        return b"".join([chunk async for chunk in await self.read(workspace_id, blob_id)])

    async def delete(self, workspace_id: str, blob_id: str) -> bool:
        doc = await self._files_doc(workspace_id, blob_id)
        if doc is None:
            return False
        deleted = await self.files.delete_one({"_id": doc["_id"]})
        if deleted.deleted_count == 0:
            return False  # another delete got there first, and removes the chunks itself
        if doc["chunk_count"]:
            await self._delete_chunks(str(doc["_id"]), doc["chunk_count"])
        return True

    async def _delete_chunks(self, blob_id: str, count: int) -> None:
        """From the last chunk down, the head on its own at the end: until it is gone, a sweep
        can find what is left of the blob."""
        numbers = list(range(count, 0, -1))
        for start in range(0, len(numbers), DELETE_AHEAD):
            await asyncio.gather(
                *(
                    self.chunks.delete_one({"_id": chunk_id(blob_id, n)})
                    for n in numbers[start : start + DELETE_AHEAD]
                )
            )
        await self.chunks.delete_one({"_id": chunk_id(blob_id, 0)})

    async def sweep_orphans(self, older_than: timedelta) -> int:
        """Remove the chunks of blobs with no files document whose id is older than
        `older_than`; returns how many blobs' chunks went.

        Reads the heads (one small document per stored blob; on PostgreSQL the filter runs in
        the store, on SQLite FerretDB reads the collection) and looks up each one's files
        document by `_id`. `older_than` must exceed the longest put: a put writes its chunks
        before its files document.
        """
        cutoff = datetime.now(UTC) - older_than
        heads: list[tuple[str, int | None]] = []
        async for head in self.chunks.find({"n": 0}, {"_id": 1, "blob_id": 1, "count": 1}):
            oid = _object_id(head.get("blob_id", ""))
            if oid is not None and oid.generation_time < cutoff:
                heads.append((str(oid), head.get("count")))
        limit = asyncio.Semaphore(SWEEP_CHECKS)

        async def sweep_one(blob_id: str, count: int | None) -> bool:
            async with limit:
                if await self.files.find_one({"_id": ObjectId(blob_id)}, {"_id": 1}) is not None:
                    return False
                if count is None:  # a head without its count: find the chunks the slow way
                    await self.chunks.delete_many({"blob_id": blob_id})
                else:
                    await self._delete_chunks(blob_id, count)
                return True

        swept = await asyncio.gather(*(sweep_one(blob_id, count) for blob_id, count in heads))
        return sum(swept)
