"""A customer's message from any channel: find the conversation, store the message once.

A resend (same provider or client id) finds the first copy and changes nothing. Otherwise the
customer's open conversation on that channel takes the message — a pending, snoozed or
resolved one reopens — or a new ticket starts: `ticket.created`, then `message.created`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from app.actions.attachments import MAX_PER_MESSAGE, keep_from_channel
from app.actions.attachments import kept as kept_uploads
from app.actions.base import Deps
from app.actions.contacts import find_or_create
from app.actions.messages import NewMessage, find_duplicate, post_message
from app.actions.tickets import open_ticket
from app.documents import Contact, Message, Ticket
from app.documents.message import Attachment, Author, Direction, Kind
from app.domain.attachments import MAX_ATTACHMENT_BYTES, safe_filename
from app.domain.errors import NotFound
from app.services.ids import require_id
from app.services.text import clean_email_html
from app.services.tickets import HIDDEN, read_ticket
from channels.adapter import Inbound
from channels.postmark import thread_subject
from realtime.events import Actor, Channel, Status

MAX_REFS = 10  # refs of an answered message looked up, nearest first
MEDIA_JOB = "message.media"  # fetch a file a channel sent by reference


@dataclass(frozen=True)
class Received:
    contact: Contact
    ticket: Ticket
    message: Message
    created: bool  # False when this was a resend of a message already stored


async def current_conversation(contact: Contact, channel: Channel) -> Ticket | None:
    """The contact's latest ticket on `channel` that is not closed."""
    query: dict[str, Any] = {
        "workspace_id": contact.workspace_id,
        "contact_id": contact.id,
        "channel": channel.value,
        "status": {"$ne": Status.CLOSED.value},
    }
    raw = (
        await Ticket.get_pymongo_collection().find(query, HIDDEN).sort("_id", -1).limit(1).to_list()
    )
    return Ticket.model_validate(raw[0]) if raw else None


async def sender_of(deps: Deps, ws: PydanticObjectId, inbound: Inbound) -> Contact:
    """The contact who wrote: named by the channel (webchat), or found — on first contact,
    made — by the identifier it came from (an email address, a WhatsApp id)."""
    if inbound.contact_id is not None:
        contact = await Contact.find_one(
            Contact.id == require_id(inbound.contact_id, "contact"), Contact.workspace_id == ws
        )
        if contact is None:
            raise NotFound("no such contact")
        return contact
    if inbound.identifier is None:
        raise NotFound("the message names no sender")
    kind, value = inbound.identifier
    return await find_or_create(
        deps, ws, kind, value, actor=Actor(kind="channel"), name=inbound.sender_name
    )


def _open_and_theirs(ticket: Ticket | None, contact: Contact) -> Ticket | None:
    """A conversation only ever takes its own contact's messages, and a closed one none."""
    if ticket is None or ticket.contact_id != contact.id or ticket.status is Status.CLOSED:
        return None
    return ticket


async def thread_of(contact: Contact, channel: Channel, inbound: Inbound) -> Ticket | None:
    """The conversation a message continues, scoped to its sender, tried in order: a
    message it answers (its refs, nearest first), the ticket its thread token names, then —
    for email, the same subject — the contact's open conversation on the channel."""
    ws = contact.workspace_id
    for ref in inbound.reply_to_refs[:MAX_REFS]:
        raw = await Message.get_pymongo_collection().find_one(
            {"message_ref": ref, "workspace_id": ws}, {"ticket_id": 1}
        )
        if raw is not None:
            found = _open_and_theirs(await _ticket(ws, raw["ticket_id"]), contact)
            if found is not None:
                return found
    if inbound.thread_token and ObjectId.is_valid(inbound.thread_token):
        found = _open_and_theirs(await _ticket(ws, ObjectId(inbound.thread_token)), contact)
        if found is not None:
            return found
    current = await current_conversation(contact, channel)
    if (
        current is not None
        and channel is Channel.EMAIL
        and thread_subject(current.subject) != thread_subject(inbound.subject or "")
    ):
        return None
    return current


async def _ticket(ws: PydanticObjectId, ticket_id: object) -> Ticket | None:
    raw = await Ticket.get_pymongo_collection().find_one(
        {"_id": ticket_id, "workspace_id": ws}, HIDDEN
    )
    return Ticket.model_validate(raw) if raw else None


async def receive(
    deps: Deps,
    channel: Channel,
    inbound: Inbound,
    *,
    file_limit: int = MAX_ATTACHMENT_BYTES,
    before_opening: Callable[[], Awaitable[None]] | None = None,
) -> Received:
    """`before_opening` runs just before a new conversation would start and may refuse it by
    raising (the widget's limits on new conversations); nothing is written then."""
    ws = require_id(inbound.workspace_id, "workspace")
    contact = await sender_of(deps, ws, inbound)
    new = NewMessage(
        text=inbound.text,
        direction=Direction.IN,
        kind=Kind.MESSAGE,
        author=Author(kind="contact", id=str(contact.id), name=contact.name),
        client_id=inbound.client_id,
        provider_message_id=inbound.provider_message_id,
        message_ref=inbound.message_ref,
        html=clean_email_html(inbound.html) if inbound.html else None,
    )
    # Checked before choosing a conversation: a resend must not start a new one.
    duplicate = await find_duplicate(ws, new)
    if duplicate is not None:
        return Received(contact, await read_ticket(ws, duplicate.ticket_id), duplicate, False)
    files = await _attachments(deps, ws, inbound, file_limit)
    new = replace(new, attachments=tuple(files))
    # One lock per contact: two first messages at once start one conversation, not two.
    async with deps.relay.locks.hold(f"conversation:{contact.id}"):
        ticket = await thread_of(contact, channel, inbound)
        if ticket is None:
            if before_opening is not None:
                await before_opening()
            ticket = await open_ticket(
                deps,
                workspace_id=ws,
                subject=inbound.subject or inbound.text,
                channel=channel,
                actor=Actor(kind="contact", id=str(contact.id), name=contact.name),
                contact_id=contact.id,
            )
        assert ticket.id is not None
        posted = await post_message(deps, ws, ticket.id, new)
    if not posted.created and deps.blobs is not None:
        for kept in files:  # a copy of this message won the race: its files are the ones kept
            if kept.blob_id:
                await deps.blobs.delete(str(ws), kept.blob_id)
    return Received(contact, posted.ticket, posted.message, posted.created)


async def _attachments(
    deps: Deps, ws: PydanticObjectId, inbound: Inbound, limit: int
) -> list[Attachment]:
    """The message's files: those that came inline kept now; those the channel sent by
    reference (WhatsApp media) pending, each fetched by a job enqueued before the message is
    written, so a crash in between loses none."""
    inline = [a for a in inbound.attachments if "content" in a]
    kept = await keep_from_channel(deps.blobs, str(ws), inline, limit)
    uploads = [str(a["blob_id"]) for a in inbound.attachments if a.get("blob_id")]
    if uploads and deps.blobs is not None:
        kept += await kept_uploads(deps.blobs, str(ws), uploads)
    pending: list[Attachment] = []
    for item in inbound.attachments:
        media_id = item.get("media_id")
        if not media_id or len(kept) + len(pending) >= MAX_PER_MESSAGE:
            continue
        pending.append(
            Attachment(
                filename=safe_filename(str(item.get("filename") or item.get("kind") or "media")),
                content_type=str(item.get("content_type") or ""),
                size=0,
                media_id=str(media_id),
            )
        )
        if deps.timers is not None and inbound.provider_message_id:
            payload = {"ws": str(ws), "provider_id": inbound.provider_message_id,
                       "media_id": str(media_id), "filename": item.get("filename")}  # fmt: skip
            await deps.timers.queue.enqueue(MEDIA_JOB, payload, key=f"media:{ws}:{media_id}")
    return kept + pending
