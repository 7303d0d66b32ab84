"""What a blob store promises: bytes put once, read back in chunks, always within a workspace.

A blob is immutable: `put` stores the bytes and returns its `BlobInfo` (size and SHA-256
included), and from then on it can be described, read or deleted, never changed. Every call
names the workspace asking; a blob of another workspace is indistinguishable from one that does
not exist (`info` gives None, `read` raises `BlobNotFound`, `delete` gives False), and so is an
id that is not well formed. What the bytes may be — size, type, filename — is decided before
they get here, by app/domain/attachments.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class BlobNotFound(LookupError):
    """No such blob in this workspace: missing, deleted, another workspace's, or a bad id."""

    def __init__(self, blob_id: str) -> None:
        super().__init__(f"no blob {blob_id!r}")
        self.blob_id = blob_id


@dataclass(frozen=True)
class BlobInfo:
    id: str
    workspace_id: str
    filename: str
    content_type: str
    size: int
    sha256: str  # hex digest of the bytes
    created_at: datetime


class BlobStore(Protocol):
    async def put(
        self, workspace_id: str, filename: str, content_type: str, data: bytes
    ) -> BlobInfo:
        """Store the bytes; the blob is visible to `info` and `read` only once all of them are."""
        ...

    async def info(self, workspace_id: str, blob_id: str) -> BlobInfo | None:
        """The blob's description, or None when this workspace has no such blob."""
        ...

    async def read(self, workspace_id: str, blob_id: str) -> AsyncIterator[bytes]:
        """The blob's bytes in order, chunk by chunk.

        Awaiting it looks the blob up, so `BlobNotFound` comes before any byte does (a response
        can still choose its status); iterating the result reads the chunks. A blob deleted
        while it is being read raises `BlobNotFound` from the iteration.
        """
        ...

    async def read_all(self, workspace_id: str, blob_id: str) -> bytes:
        """The blob's bytes at once (`BlobNotFound` when there is no such blob)."""
        ...

    async def delete(self, workspace_id: str, blob_id: str) -> bool:
        """Remove the blob; False when this workspace had no such blob."""
        ...

    async def sweep_orphans(self, older_than: timedelta) -> int:
        """Remove what puts and deletes that died half way left behind, older than
        `older_than`; returns how many blobs' leftovers went."""
        ...
