"""What an agent's reply on a ticket may be, by its channel, checked before it is stored.

Most channels take any text. WhatsApp takes free text only within 24 hours of the
customer's last message, and an approved template (parameters filled in) at any time; the
composer asks `reply_options` to offer the right one and say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from app.documents import Ticket, Workspace
from app.documents.common import utcnow
from app.domain.errors import Invalid
from app.domain.whatsapp import (
    KnownTemplate,
    TemplateUse,
    checked_reply,
    window_closes_at,
    window_open,
)
from app.services.tickets import read_ticket
from realtime.events import Channel

RECENT_TICKETS = 5  # of a contact's WhatsApp tickets, the newest: where their last message is


@dataclass(frozen=True)
class ReplyOptions:
    channel: Channel
    free_text: bool  # whether a reply of the agent's own words reaches the customer now
    window_closes_at: datetime | None = None  # WhatsApp: when free text stops
    templates: tuple[KnownTemplate, ...] = ()  # WhatsApp: approved templates to send instead
    why: str | None = None  # when free text is not possible


async def last_customer_message(ticket: Ticket) -> datetime | None:
    """The customer's latest message on the ticket's channel, across their conversations:
    the WhatsApp window is per customer, not per ticket."""
    if ticket.contact_id is None:
        return ticket.last_customer_message_at
    raw = (
        await Ticket.get_pymongo_collection()
        .find(
            {"workspace_id": ticket.workspace_id, "contact_id": ticket.contact_id},
            {"channel": 1, "last_customer_message_at": 1},
        )
        .sort("_id", -1)
        .limit(RECENT_TICKETS)
        .to_list()
    )
    times = [
        r["last_customer_message_at"]
        for r in raw
        if r.get("channel") == ticket.channel.value and r.get("last_customer_message_at")
    ]
    if ticket.last_customer_message_at is not None:
        times.append(ticket.last_customer_message_at)
    return max(times, default=None)


def known_templates(workspace: Workspace | None) -> list[KnownTemplate]:
    channel = workspace.whatsapp if workspace is not None else None
    if channel is None:
        return []
    return [
        KnownTemplate(t.name, t.language, t.body_text, t.param_count) for t in channel.templates
    ]


async def reply_options(ws: PydanticObjectId, ticket_id: PydanticObjectId) -> ReplyOptions:
    ticket = await read_ticket(ws, ticket_id)
    if ticket.channel is not Channel.WHATSAPP:
        return ReplyOptions(channel=ticket.channel, free_text=True)
    last = await last_customer_message(ticket)
    is_open = window_open(last, utcnow())
    templates = tuple(known_templates(await Workspace.get(ws)))
    why = None
    if not is_open:
        why = (
            "More than 24 hours since the customer's last message: WhatsApp delivers only "
            "an approved template until they write again."
        )
    return ReplyOptions(
        channel=ticket.channel,
        free_text=is_open,
        window_closes_at=window_closes_at(last),
        templates=templates,
        why=why,
    )


async def checked_text(
    ws: PydanticObjectId,
    ticket_id: PydanticObjectId,
    text: str | None,
    template: TemplateUse | None,
    has_files: bool = False,
) -> tuple[str, dict[str, Any] | None]:
    """The text a reply is stored with, and its template to send (WhatsApp); `Invalid` when
    the channel cannot take it. Other channels take text only."""
    ticket = await read_ticket(ws, ticket_id)
    if ticket.channel is not Channel.WHATSAPP:
        if template is not None:
            raise Invalid(
                f"templates are for WhatsApp; this ticket is {ticket.channel.value}",
                field="template",
            )
        if not text and not has_files:
            raise Invalid("a reply needs text or a file", field="text")
        return text or "", None
    last = await last_customer_message(ticket)
    shown = checked_reply(
        text,
        template,
        is_open=window_open(last, utcnow()),
        templates=known_templates(await Workspace.get(ws)) if template else [],
        has_files=has_files,
    )
    if template is None:
        return shown, None
    use = {"name": template.name, "language": template.language, "params": list(template.params)}
    return shown, use
