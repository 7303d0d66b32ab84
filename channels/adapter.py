"""What every customer channel hands Tandem, and the small interface adapters satisfy.

An adapter only knows its provider's formats: it **parses** what the provider (or the widget)
sent into an `Inbound` message, channel-neutral, and **renders** an agent's reply into the
provider's request. Finding the contact, threading into a ticket, storing the message once and
announcing it are Tandem's inbound action (app/actions/inbound.py), the same for every
channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    html: str | None = None  # the message as the provider gave it in HTML, when it did
    # Threading. `message_ref` is how later messages will name this one (an email's
    # Message-ID); `reply_to_refs` are the refs this one answers (In-Reply-To, References),
    # nearest first; `thread_token` names a ticket outright (a plus-address's token).
    message_ref: str | None = None
    reply_to_refs: tuple[str, ...] = ()
    thread_token: str | None = None
