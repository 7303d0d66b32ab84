"""Keeping files that come with messages: checked by the attachment rules, their bytes put in
the workspace's blob store, described on the message.

From an agent or a widget visitor, a file is uploaded first (refused with a clear error when
it is too large or of a type not allowed) and named by its id when the message is sent. From
a channel, a file is kept when it passes and otherwise becomes an attachment that says why it
was not kept: the customer's message is never lost for its attachment.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from app.blobs.store import BlobStore
from app.documents.message import Attachment
from app.domain.attachments import Accepted, check, format_size, safe_filename
from app.domain.errors import DomainError, Invalid, TooLarge

log = logging.getLogger("tandem.attachments")

MAX_PER_MESSAGE = 10
UPLOAD_TTL = 24 * 3600  # how long an upload waits for the message that names it


class Unsupported(DomainError):
    status = 415
    code = "unsupported_type"


async def keep_upload(
    blobs: BlobStore, ws: str, filename: str, declared_type: str, data: bytes, limit: int
) -> Attachment:
    """An uploaded file, kept; `TooLarge` (413) or `Unsupported` (415) when it may not be."""
    verdict = check(filename, declared_type, data, limit)
    if not isinstance(verdict, Accepted):
        if len(data) > limit:
            raise TooLarge(verdict.reason)
        raise Unsupported(verdict.reason)
    if not data:
        raise Invalid("the file is empty", field="file")
    info = await blobs.put(ws, verdict.filename, verdict.content_type, data)
    return Attachment(
        filename=info.filename, content_type=info.content_type, size=info.size, blob_id=info.id
    )


async def kept(blobs: BlobStore, ws: str, ids: Sequence[str]) -> list[Attachment]:
    """The uploads a message names, as its attachments; `Invalid` for an id this workspace
    has no file for (another workspace's looks the same)."""
    if len(ids) > MAX_PER_MESSAGE:
        raise Invalid(f"at most {MAX_PER_MESSAGE} attachments a message", field="attachments")
    found: list[Attachment] = []
    for blob_id in dict.fromkeys(ids):
        info = await blobs.info(ws, blob_id)
        if info is None:
            raise Invalid(f"no uploaded file {blob_id!r}", field="attachments")
        found.append(
            Attachment(
                filename=info.filename,
                content_type=info.content_type,
                size=info.size,
                blob_id=info.id,
            )
        )
    return found


async def keep_from_channel(
    blobs: BlobStore | None, ws: str, files: Sequence[dict[str, Any]], limit: int
) -> list[Attachment]:
    """A channel's files that came inline (an email's base64 attachments): each kept, or an
    attachment saying why it was not."""
    out: list[Attachment] = []
    for item in files[:MAX_PER_MESSAGE]:
        name = safe_filename(str(item.get("filename") or "attachment"))
        declared = str(item.get("content_type") or "application/octet-stream")
        try:
            data = base64.b64decode(str(item.get("content") or ""), validate=True)
        except (binascii.Error, ValueError):
            out.append(Attachment(filename=name, content_type=declared, size=0,
                                  refused="the file could not be read"))  # fmt: skip
            continue
        out.append(await keep_bytes(blobs, ws, name, declared, data, limit))
    if len(files) > MAX_PER_MESSAGE:
        skipped = len(files) - MAX_PER_MESSAGE
        why = f"at most {MAX_PER_MESSAGE} files a message are kept"
        out.append(
            Attachment(filename=f"{skipped} more files", content_type="", size=0, refused=why)
        )
    return out


async def keep_bytes(
    blobs: BlobStore | None, ws: str, filename: str, declared: str, data: bytes, limit: int
) -> Attachment:
    """One file from a channel: kept, or described with the reason it was not."""
    verdict = check(filename, declared, data, limit)
    if not isinstance(verdict, Accepted):
        log.info("attachment %r on workspace %s not kept: %s", filename, ws, verdict.reason)
        return Attachment(
            filename=safe_filename(filename),
            content_type=declared,
            size=len(data),
            refused=verdict.reason,
        )
    if blobs is None:
        return Attachment(filename=verdict.filename, content_type=verdict.content_type,
                          size=len(data), refused="no file store is configured")  # fmt: skip
    info = await blobs.put(ws, verdict.filename, verdict.content_type, data)
    return Attachment(
        filename=info.filename, content_type=info.content_type, size=info.size, blob_id=info.id
    )


def too_large_note(filename: str, size: int, limit: int) -> Attachment:
    """A file the channel announced as larger than Tandem keeps, not fetched at all."""
    return Attachment(
        filename=safe_filename(filename),
        content_type="",
        size=size,
        refused=f"too large: {format_size(size, up=True)}, the limit is {format_size(limit)}",
    )


def _upload_key(blob_id: str) -> str:
    return f"tandem:upload:{blob_id}"


async def remember_upload(redis: aioredis.Redis, blob_id: str, uploader: str) -> None:
    await redis.set(_upload_key(blob_id), uploader, ex=UPLOAD_TTL)


async def uploaded_by(redis: aioredis.Redis, blob_ids: list[str], uploader: str) -> bool:
    """Whether each of these uploads was made by `uploader` (within the last day)."""
    if not blob_ids:
        return True
    owners = await redis.mget([_upload_key(b) for b in blob_ids])
    wanted = uploader.encode()
    return all((o.encode() if isinstance(o, str) else o) == wanted for o in owners)
