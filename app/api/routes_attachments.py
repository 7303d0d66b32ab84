"""Files on messages: uploaded before the message that names them, downloaded only by who may
see them.

An agent uploads with their session (or API token) and downloads any file of their
workspace. A widget visitor uploads with their visitor token and downloads only the files of
their own conversations and their own uploads. Everything else — another workspace's file, a
made-up id — is a 404 that looks the same. Files are served as what they are, never sniffed,
inside a sandbox: only raster images are shown in the page, the rest is downloaded.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from beanie import PydanticObjectId
from bson import ObjectId
from starlette.responses import Response, StreamingResponse

from app.actions.attachments import keep_upload, remember_upload, uploaded_by
from app.api.body import read_body
from app.api.endpoint import Api, Call
from app.api.routes_widget import visitor_of
from app.blobs.store import BlobNotFound, BlobStore
from app.documents import Message, Ticket
from app.documents.message import Attachment
from app.domain.attachments import content_disposition, format_size, inline
from app.domain.errors import NotFound, TooLarge
from app.domain.roles import Action

api = Api()
A = "attachments"


class UploadQuery(msgspec.Struct, forbid_unknown_fields=True):
    filename: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class Uploaded(msgspec.Struct):
    id: str  # name it in the message's `attachments`
    filename: str
    content_type: str
    size: int
    inline: bool


def _blobs(call: Call) -> BlobStore:
    blobs = call.runtime.deps.blobs
    if blobs is None:
        raise NotFound("no file store is configured")
    return blobs


async def _upload(call: Call, ws: str, uploader: str) -> Uploaded:
    query: UploadQuery = call.query
    limit = call.runtime.settings.max_attachment_bytes
    try:
        data = await read_body(call.request, limit)
    except TooLarge:
        raise TooLarge(f"too large: the limit is {format_size(limit)}") from None
    declared = call.request.headers.get("content-type", "application/octet-stream")
    kept: Attachment = await keep_upload(_blobs(call), ws, query.filename, declared, data, limit)
    assert kept.blob_id is not None
    await remember_upload(call.runtime.redis, kept.blob_id, uploader)
    return Uploaded(
        kept.blob_id, kept.filename, kept.content_type, kept.size, inline(kept.content_type)
    )


async def serve(blobs: BlobStore, ws: str, blob_id: str) -> Response:
    info = await blobs.info(ws, blob_id)
    if info is None:
        raise NotFound("no such file")
    try:
        chunks = await blobs.read(ws, blob_id)
    except BlobNotFound:
        raise NotFound("no such file") from None
    shown = inline(info.content_type)
    headers = {
        "Content-Length": str(info.size),
        "Content-Disposition": content_disposition(info.filename, shown),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=86400, immutable",
        "ETag": f'"{info.sha256}"',
    }
    return StreamingResponse(chunks, media_type=info.content_type, headers=headers)


@api.op(
    "POST",
    "/attachments",
    summary="Upload a file (the raw body, its type in Content-Type) to attach to a reply",
    tag=A,
    query=UploadQuery,
    response=Uploaded,
    status=201,
    errors=(413, 415, 422),
)
async def upload(call: Call) -> Uploaded:
    call.agent.require(Action.WORK_TICKETS)
    return await _upload(call, call.agent.workspace_id, f"agent:{call.agent.user_id}")


@api.op(
    "GET",
    "/attachments/{blob_id}",
    summary="Download a file of the workspace",
    tag=A,
    errors=(404,),
)
async def download(call: Call) -> Response:
    call.agent.require(Action.WORK_TICKETS)
    return await serve(_blobs(call), call.agent.workspace_id, call.path("blob_id"))


@api.op(
    "POST",
    "/widget/attachments",
    summary="Upload a file from the widget, to send with the visitor's next message",
    tag=A,
    query=UploadQuery,
    response=Uploaded,
    status=201,
    auth=False,
    errors=(401, 403, 413, 415, 422),
)
async def widget_upload(call: Call) -> Uploaded:
    workspace, contact = await visitor_of(call)
    return await _upload(call, str(workspace.id), f"contact:{contact.id}")


@api.op(
    "GET",
    "/widget/attachments/{blob_id}",
    summary="Download a file of the visitor's own conversation",
    tag=A,
    auth=False,
    errors=(401, 403, 404),
)
async def widget_download(call: Call) -> Response:
    workspace, contact = await visitor_of(call)
    ws, blob_id = str(workspace.id), call.path("blob_id")
    own_upload = await uploaded_by(call.runtime.redis, [blob_id], f"contact:{contact.id}")
    if not own_upload and not await _in_conversation_of(workspace.id, contact.id, blob_id):
        raise NotFound("no such file")
    return await serve(_blobs(call), ws, blob_id)


async def _in_conversation_of(
    ws: PydanticObjectId | None, contact_id: PydanticObjectId | None, blob_id: str
) -> bool:
    """Whether the file is on a public message of one of the contact's conversations."""
    if not ObjectId.is_valid(blob_id):
        return False
    found = await Message.get_pymongo_collection().find_one(
        {"workspace_id": ws, "attachments.blob_id": blob_id, "kind": "message"},
        {"ticket_id": 1},
    )
    if found is None:
        return False
    ticket = await Ticket.get_pymongo_collection().find_one(
        {"_id": found["ticket_id"], "workspace_id": ws}, {"contact_id": 1}
    )
    return ticket is not None and ticket.get("contact_id") == contact_id
