"""WhatsApp replies through Meta's Cloud API: the worker's send, the statuses Meta reports,
and the workspace's approved templates.

The reply was stored `queued` with its delivery job. The job renders it (free text, or the
template the agent filled in), tags the request with Tandem's id of the message (Meta echoes
the tag on every status) and posts it with the workspace's access token. Meta's answer is
recorded: the wamid and `sent`; `failed` with Meta's reason for what no retry fixes; anything
else raises and the job queue retries. A send marked in flight that finds the mark still there
was interrupted (the worker killed mid-request): Meta has no way to ask whether it arrived, so
it is not sent again but shown failed with that reason.

Statuses arrive out of order and more than once; each moves its message forward only
(`record_delivery`). A status names the message by its tag, or by its wamid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from beanie import PydanticObjectId
from bson import ObjectId

from app.actions.attachments import keep_bytes, too_large_note
from app.actions.base import Deps
from app.actions.messages import record_delivery, settle_attachment
from app.blobs.store import BlobNotFound
from app.delivery.common import WAIT_FOR_WRITE_ATTEMPTS as WAIT
from app.delivery.common import NotWrittenYet, TransientDelivery, queued_reply
from app.documents import Contact, Message, Workspace
from app.documents.common import utcnow
from app.documents.message import Attachment
from app.documents.workspace import WhatsAppTemplate
from app.domain.errors import NotFound
from app.services.tickets import read_ticket
from channels import whatsapp
from realtime.events import Actor, DeliveryStatus, Direction

log = logging.getLogger("tandem.delivery")

WHATSAPP = Actor(kind="channel", name="WhatsApp")
TEMPLATES_JOB = "whatsapp.templates"


@dataclass(frozen=True)
class MediaJob:
    """The `message.media` job's payload: which file of which message to fetch."""

    ws: str
    provider_id: str  # the message's wamid
    media_id: str
    filename: str | None = None


TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_TEMPLATE_PAGES = 20
INTERRUPTED = (
    "sending was interrupted and WhatsApp cannot be asked whether it arrived: check the "
    "conversation on WhatsApp before sending it again"
)


async def _fail(deps: Deps, message: Message, why: str) -> None:
    assert message.id is not None
    log.warning("whatsapp reply %s not delivered: %s", message.id, why)
    await record_delivery(
        deps, message.workspace_id, message.id, DeliveryStatus.FAILED, actor=WHATSAPP, error=why
    )


async def deliver_whatsapp(
    deps: Deps,
    http: httpx.AsyncClient,
    graph_url: str,
    ws: str,
    message_id: str,
    attempt: int = WAIT,
) -> None:
    wid, mid = PydanticObjectId(ws), PydanticObjectId(message_id)
    messages = Message.get_pymongo_collection()
    message = await queued_reply(wid, mid, attempt)
    if message is None:
        return None
    if message.sending_since is not None:
        return await _fail(deps, message, INTERRUPTED)
    ticket = await read_ticket(wid, message.ticket_id)
    workspace = await Workspace.get(wid)
    channel = workspace.whatsapp if workspace is not None else None
    contact = await Contact.find_one(Contact.id == ticket.contact_id, Contact.workspace_id == wid)
    if channel is None:
        return await _fail(deps, message, "WhatsApp is not connected for this workspace")
    if contact is None or not contact.whatsapp_id:
        return await _fail(deps, message, "the contact has no WhatsApp number")
    auth = {"Authorization": f"Bearer {channel.access_token}"}
    to = contact.whatsapp_id
    where = {"_id": mid, "workspace_id": wid}
    for n, part in enumerate(_plan(message)):
        if n < message.parts_sent:
            continue  # went out on an earlier attempt
        body = await _body(deps, http, graph_url, channel.phone_number_id, auth, message, part)
        if body is None:
            continue
        await messages.update_one(where, {"$set": {"sending_since": utcnow()}})
        try:
            answer = await http.post(
                whatsapp.messages_url(graph_url, channel.phone_number_id),
                json=whatsapp.tagged({**body, "to": to}, str(message.id)),
                headers=auth,
                timeout=TIMEOUT,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            await messages.update_one(where, {"$unset": {"sending_since": ""}})  # never left
            raise TransientDelivery(f"WhatsApp unreachable: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            # No answer: it may or may not have reached Meta. The mark stays, so a retry
            # does not send it a second time.
            return await _fail(deps, message, f"{INTERRUPTED} ({type(exc).__name__})")
        result = whatsapp.parse_send_answer(answer.status_code, answer.content)
        if not result.ok:
            await messages.update_one(where, {"$unset": {"sending_since": ""}})
            if result.permanent:
                return await _fail(deps, message, result.reason or f"error {result.code}")
            raise TransientDelivery(f"WhatsApp answered {answer.status_code}: {result.reason}")
        await messages.update_one(
            where,
            {
                "$set": {"message_ref": result.wamid, "parts_sent": n + 1},
                "$unset": {"sending_since": ""},
            },
        )
    await record_delivery(deps, wid, mid, DeliveryStatus.SENT, actor=WHATSAPP)
    return None


@dataclass(frozen=True)
class _Part:
    """One WhatsApp message of a reply: a template, a text, or a file with its caption."""

    text: str | None = None
    file: Attachment | None = None
    caption: str | None = None


def _plan(message: Message) -> list[_Part]:
    """The WhatsApp messages a reply goes out as: its template; or its text, then each of its
    files, the text as the first file's caption when that file shows one."""
    if message.template:
        return [_Part()]
    files = [a for a in message.attachments if a.blob_id]
    text = message.text.strip()
    if files and text and whatsapp.captioned(whatsapp.media_kind(files[0].content_type)):
        return [_Part(file=files[0], caption=text), *(_Part(file=f) for f in files[1:])]
    return [*([_Part(text=message.text)] if text or not files else []),
            *(_Part(file=f) for f in files)]  # fmt: skip


async def _body(
    deps: Deps,
    http: httpx.AsyncClient,
    graph_url: str,
    phone_number_id: str,
    auth: dict[str, str],
    message: Message,
    part: _Part,
) -> dict[str, Any] | None:
    """A part's request body without its recipient; a file is uploaded to WhatsApp first
    (which the customer does not see, so a retry may repeat it). None for a file that is
    gone from the store."""
    if message.template:
        t = message.template
        return whatsapp.render_template("", str(t["name"]), str(t["language"]), list(t["params"]))
    if part.file is None:
        return whatsapp.render_text("", part.text or "")
    assert part.file.blob_id is not None
    if deps.blobs is None:
        raise TransientDelivery("no file store to read the reply's files from")
    try:
        data = await deps.blobs.read_all(str(message.workspace_id), part.file.blob_id)
    except BlobNotFound:
        log.warning("reply %s: file %s is gone, sent without it", message.id, part.file.blob_id)
        return None
    media_id = await _upload(http, graph_url, phone_number_id, auth, part.file, data)
    kind = whatsapp.media_kind(part.file.content_type)
    return whatsapp.render_media("", kind, media_id, part.caption, part.file.filename)


async def _upload(
    http: httpx.AsyncClient,
    graph_url: str,
    phone_number_id: str,
    auth: dict[str, str],
    file: Attachment,
    data: bytes,
) -> str:
    try:
        answer = await http.post(
            whatsapp.media_upload_url(graph_url, phone_number_id),
            data={"messaging_product": "whatsapp", "type": file.content_type},
            files={"file": (file.filename, data, file.content_type)},
            headers=auth,
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise TransientDelivery(f"uploading {file.filename}: {type(exc).__name__}") from exc
    result = whatsapp.parse_upload_answer(answer.status_code, answer.content)
    if result.wamid is None:
        raise TransientDelivery(f"uploading {file.filename}: {result.reason}")
    return result.wamid


async def apply_status(deps: Deps, ws: PydanticObjectId, report: whatsapp.StatusReport) -> bool:
    """A status Meta reported on a message Tandem sent; whether it changed the message. A
    status of a message Tandem does not know is logged and ignored."""
    query: dict[str, object] = {"workspace_id": ws, "direction": Direction.OUT.value}
    if report.tag and ObjectId.is_valid(report.tag):
        query["_id"] = ObjectId(report.tag)
    else:
        query["message_ref"] = report.wamid
    raw = await Message.get_pymongo_collection().find_one(query, {"_id": 1})
    if raw is None:
        log.warning(
            "whatsapp status %s for unknown message %s ignored", report.status, report.wamid
        )
        return False
    try:
        moved = await record_delivery(
            deps,
            ws,
            raw["_id"],
            DeliveryStatus(report.status),
            actor=WHATSAPP,
            error=report.error,
        )
    except NotFound:
        return False
    return moved is not None


async def sync_templates(http: httpx.AsyncClient, graph_url: str, ws: str) -> int:
    """Fetch the workspace's approved templates from its WhatsApp Business Account and keep
    them for the composer; returns how many. A failure is kept to show the owner, and the
    templates synced before stay."""
    wid = PydanticObjectId(ws)
    workspace = await Workspace.get(wid)
    channel = workspace.whatsapp if workspace is not None else None
    if channel is None:
        return 0
    headers = {"Authorization": f"Bearer {channel.access_token}"}
    url: str | None = whatsapp.templates_url(graph_url, channel.waba_id)
    found: list[whatsapp.Template] = []
    collection = Workspace.get_pymongo_collection()
    try:
        for _ in range(MAX_TEMPLATE_PAGES):
            if url is None:
                break
            answer = await http.get(url, headers=headers, timeout=TIMEOUT)
            if answer.status_code != 200:
                result = whatsapp.parse_send_answer(answer.status_code, answer.content)
                raise TransientDelivery(f"{answer.status_code}: {result.reason}")
            found += whatsapp.parse_templates(answer.content)
            url = whatsapp.next_page(answer.content)
    except (httpx.HTTPError, whatsapp.Unprocessable, TransientDelivery) as exc:
        why = f"could not fetch the templates: {exc}"[:300]
        await collection.update_one({"_id": wid}, {"$set": {"whatsapp.templates_error": why}})
        raise TransientDelivery(why) from exc
    kept = [
        WhatsAppTemplate(
            name=t.name,
            language=t.language,
            category=t.category,
            body_text=t.body_text,
            param_count=t.param_count,
        ).model_dump()
        for t in found
    ]
    synced: datetime = utcnow()
    await collection.update_one(
        {"_id": wid, "whatsapp": {"$ne": None}},
        {
            "$set": {"whatsapp.templates": kept, "whatsapp.templates_synced_at": synced},
            "$unset": {"whatsapp.templates_error": ""},
        },
    )
    return len(kept)


async def fetch_media(
    deps: Deps,
    http: httpx.AsyncClient,
    graph_url: str,
    job: MediaJob,
    *,
    limit: int,
    attempt: int = WAIT,
) -> None:
    """A file a customer sent on WhatsApp, fetched by its media id through the Graph API and
    kept in the blob store; one over the limit is not downloaded at all, and becomes an
    attachment saying so. A fault on Meta's side raises, and the job is retried."""
    wid = PydanticObjectId(job.ws)
    raw = await Message.get_pymongo_collection().find_one(
        {"dedupe_key": f"{job.ws}:p:{job.provider_id}", "workspace_id": wid}, {"_id": 1}
    )
    if raw is None:
        if attempt < WAIT:
            raise NotWrittenYet(f"message {job.provider_id} is not written yet")
        return None
    workspace = await Workspace.get(wid)
    channel = workspace.whatsapp if workspace is not None else None
    if channel is None:
        refused = too_large_note("media", 0, limit).model_copy(
            update={"refused": "WhatsApp is no longer connected; the file could not be fetched"}
        )
        await settle_attachment(deps, wid, raw["_id"], job.media_id, refused, actor=WHATSAPP)
        return None
    headers = {"Authorization": f"Bearer {channel.access_token}"}
    try:
        answer = await http.get(
            whatsapp.media_url(graph_url, job.media_id), headers=headers, timeout=TIMEOUT
        )
        if answer.status_code != 200:
            raise TransientDelivery(f"media {job.media_id}: Graph answered {answer.status_code}")
        info = whatsapp.parse_media_info(answer.content)
        if info.file_size > limit:
            note = too_large_note(job.filename or "media", info.file_size, limit)
            await settle_attachment(deps, wid, raw["_id"], job.media_id, note, actor=WHATSAPP)
            return None
        data = await _download(http, info.url, headers, limit)
    except (httpx.HTTPError, whatsapp.Unprocessable) as exc:
        raise TransientDelivery(f"media {job.media_id}: {exc}") from exc
    if data is None:  # larger than Meta said, and than Tandem keeps
        note = too_large_note(job.filename or "media", limit + 1, limit)
        await settle_attachment(deps, wid, raw["_id"], job.media_id, note, actor=WHATSAPP)
        return None
    name = job.filename or f"whatsapp-{job.media_id}"
    kept = await keep_bytes(deps.blobs, job.ws, name, info.mime_type, data, limit)
    settled = await settle_attachment(deps, wid, raw["_id"], job.media_id, kept, actor=WHATSAPP)
    if settled is None and kept.blob_id and deps.blobs is not None:
        await deps.blobs.delete(job.ws, kept.blob_id)  # settled by an earlier run


async def _download(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], limit: int
) -> bytes | None:
    """The file's bytes; None once they pass `limit` (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    async with http.stream("GET", url, headers=headers, timeout=TIMEOUT) as answer:
        if answer.status_code != 200:
            raise TransientDelivery(f"media download answered {answer.status_code}")
        async for chunk in answer.aiter_bytes():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    return b"".join(chunks)
