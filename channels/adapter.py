"""The one small interface every customer channel satisfies.

Inbound: a channel turns what the provider (or the widget) sent into an `Inbound` and hands
it to `ChannelAdapter.receive`, which finds or makes the contact, finds the open ticket or
starts one, stores the message once (provider or client ids make retries harmless) and emits
the events. Outbound: `deliver` sends an agent's reply through the provider; webchat delivers
over the visitor's socket, so its `deliver` only marks the message sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from app.documents import Contact, Message, Ticket


@dataclass(frozen=True)
class Inbound:
    workspace_id: str
    text: str
    # How the channel knows the sender: ("email", "a@b.c"), ("whatsapp_id", "1555…"), or the
    # contact itself when the channel already resolved it (webchat visitors).
    identifier: tuple[str, str] | None = None
    contact_id: str | None = None
    sender_name: str | None = None
    subject: str | None = None
    provider_message_id: str | None = None
    client_id: str | None = None
    attachments: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class Received:
    contact: Contact
    ticket: Ticket
    message: Message
    created: bool  # False when this was a retry of a message already stored


class ChannelAdapter(Protocol):
    name: str

    async def receive(self, inbound: Inbound) -> Received: ...

    async def deliver(self, ticket: Ticket, message: Message) -> None: ...
