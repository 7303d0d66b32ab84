"""Sending an agent's email reply through Postmark: the worker's `message.deliver` job.

The reply was stored `queued` and its job enqueued before the insert. The job renders the
email (channels/postmark.py), posts it with the workspace's server token and records what
Postmark answered: `sent`, or `failed` with Postmark's reason for what no retry will fix (an
inactive recipient, an invalid address or token). Anything else — a timeout, 429, a 5xx —
raises, and the job queue retries with backoff. A message no longer `queued` is not sent
again. The Message-ID is stored before the request, so a customer's answer threads even if
recording `sent` fails.

A send can reach Postmark and its answer never be recorded: the worker killed mid-request, a
timeout after Postmark took the email. So each send is counted before it starts, and a
later one first searches Postmark's sent messages for this reply (by the `tandem_message`
metadata every email carries): found, it is recorded `sent` and not sent again.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from beanie import PydanticObjectId

from app.actions.base import Deps
from app.actions.messages import record_delivery
from app.blobs.store import BlobNotFound
from app.delivery.common import WAIT_FOR_WRITE_ATTEMPTS as WAIT
from app.delivery.common import TransientDelivery, queued_reply
from app.documents import Contact, Message, Workspace
from app.services.tickets import read_ticket
from channels import postmark
from realtime.events import Actor, DeliveryStatus

log = logging.getLogger("tandem.delivery")

POSTMARK = Actor(kind="channel", name="Postmark")
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_REFS = 20


async def _answers(message: Message) -> list[str]:
    """The Message-IDs of the ticket's earlier emails, oldest first: what this one answers."""
    raw = await (
        Message.get_pymongo_collection()
        .find(
            {"ticket_id": message.ticket_id, "workspace_id": message.workspace_id},
            {"message_ref": 1},
        )
        .sort("_id", 1)
        .to_list()
    )
    refs = [r["message_ref"] for r in raw if r.get("message_ref") and r["_id"] != message.id]
    return refs[-MAX_REFS:]


async def _fail(deps: Deps, message: Message, why: str) -> None:
    assert message.id is not None
    log.warning("email reply %s not delivered: %s", message.id, why)
    await record_delivery(
        deps, message.workspace_id, message.id, DeliveryStatus.FAILED, actor=POSTMARK, error=why
    )


async def deliver_email(
    deps: Deps, http: httpx.AsyncClient, api_url: str, ws: str, message_id: str, attempt: int = WAIT
) -> None:
    wid, mid = PydanticObjectId(ws), PydanticObjectId(message_id)
    message = await queued_reply(wid, mid, attempt)
    if message is None:
        return None
    ticket = await read_ticket(wid, message.ticket_id)
    workspace = await Workspace.get(wid)
    channel = workspace.email if workspace is not None else None
    contact = await Contact.find_one(Contact.id == ticket.contact_id, Contact.workspace_id == wid)
    if channel is None or not channel.server_token or not channel.from_address:
        return await _fail(deps, message, "email sending is not set up for this workspace")
    if contact is None or not contact.email:
        return await _fail(deps, message, "the contact has no email address")
    if contact.email_bounce:
        why = f"{contact.email} bounced earlier, correct the address to send again"
        return await _fail(deps, message, f"{why} ({contact.email_bounce})")
    headers = {"X-Postmark-Server-Token": channel.server_token, "Accept": "application/json"}
    if message.delivery_attempts and await _went_out(http, api_url, headers, message_id):
        log.info("email reply %s went out on an earlier attempt", message_id)
        await record_delivery(deps, wid, mid, DeliveryStatus.SENT, actor=POSTMARK)
        return None
    domain = channel.from_address.rpartition("@")[2] or "tandem.local"
    ref = message.message_ref or f"{message.id}@{domain}"
    await Message.get_pymongo_collection().update_one(
        {"_id": mid, "workspace_id": wid},
        {"$set": {"message_ref": ref}, "$inc": {"delivery_attempts": 1}},
    )
    body = postmark.render_email(
        sender=channel.from_address,
        to=contact.email,
        subject=ticket.subject,
        text=message.text,
        message_ref=ref,
        answers=await _answers(message),
        reply_to=postmark.plus_address(
            channel.reply_address or channel.from_address, str(ticket.id)
        ),
        tag=str(message.id),
        attachments=await _files(deps, ws, message),
    )
    try:
        answer = await http.post(f"{api_url}/email", json=body, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise TransientDelivery(f"Postmark unreachable: {type(exc).__name__}") from exc
    if answer.status_code == 200:
        await record_delivery(deps, wid, mid, DeliveryStatus.SENT, actor=POSTMARK)
        return None
    code, why = _error(answer)
    if code in postmark.PERMANENT_ERRORS:
        return await _fail(deps, message, f"{postmark.PERMANENT_ERRORS[code]}: {why}")
    raise TransientDelivery(f"Postmark answered {answer.status_code}: {why}")


async def _files(deps: Deps, ws: str, message: Message) -> list[tuple[str, str, bytes]]:
    """The reply's files, to go with it (Postmark takes them inline, base64)."""
    if deps.blobs is None:
        return []
    files = []
    for a in message.attachments:
        if not a.blob_id:
            continue
        try:
            files.append((a.filename, a.content_type, await deps.blobs.read_all(ws, a.blob_id)))
        except BlobNotFound:
            log.warning("reply %s: file %s is gone, sent without it", message.id, a.blob_id)
    return files


async def _went_out(
    http: httpx.AsyncClient, api_url: str, headers: dict[str, str], message_id: str
) -> bool:
    """Whether Postmark has an email of this reply among its sent messages. When it cannot
    say, the job is retried: not knowing must not lead to a second email."""
    query: dict[str, str | int] = {"count": 1, "offset": 0, "metadata_tandem_message": message_id}
    try:
        answer = await http.get(
            f"{api_url}/messages/outbound", params=query, headers=headers, timeout=TIMEOUT
        )
        found = answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        raise TransientDelivery(f"could not ask Postmark about an earlier send: {exc}") from exc
    if not isinstance(found, dict) or not isinstance(found.get("TotalCount"), int):
        raise TransientDelivery(f"Postmark's message search answered {answer.status_code}")
    return bool(found["TotalCount"])


def _error(answer: httpx.Response) -> tuple[int | None, str]:
    try:
        data: Any = answer.json()
    except ValueError:
        return None, answer.text[:200]
    if not isinstance(data, dict):
        return None, str(data)[:200]
    code = data.get("ErrorCode")
    return (code if isinstance(code, int) else None), str(data.get("Message", ""))[:300]
