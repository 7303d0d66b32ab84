"""One person as the store holds them: their contact, their conversations, every message of
those, and the traces (app/privacy/redact.py) that recognise them elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field

from beanie import PydanticObjectId

from app.documents import Contact, Message, Ticket
from app.privacy.redact import Traces
from realtime.events import Direction

ERASED_NAME = "Erased contact"
ERASED_SUBJECT = "Erased conversation"


def written_by_them(message: Message) -> bool:
    """What the person wrote (their email, widget or WhatsApp messages), as opposed to what
    the team wrote to them or about them."""
    return message.direction is Direction.IN or message.author.kind == "contact"


@dataclass
class Subject:
    workspace_id: PydanticObjectId
    contact: Contact
    tickets: list[Ticket]
    messages: list[Message]  # of those tickets, oldest first
    traces: Traces = field(default_factory=Traces)

    @property
    def contact_ids(self) -> set[str]:
        ids = {str(self.contact.id)}
        if self.contact.erased_into is not None:
            ids.add(str(self.contact.erased_into))
        return ids

    @property
    def theirs(self) -> list[Message]:
        return [m for m in self.messages if written_by_them(m)]

    @property
    def team(self) -> list[Message]:
        return [m for m in self.messages if not written_by_them(m)]

    def ids(self) -> set[str]:
        """The ids whose mention makes a kept record about this person: the contact (and the
        anonymous one they become), their conversations and their own messages."""
        ids = self.contact_ids | {str(t.id) for t in self.tickets}
        ids |= {str(m.id) for m in self.theirs}
        ids |= {m.provider_message_id for m in self.theirs if m.provider_message_id}
        return ids

    def own_ids(self) -> set[str]:
        """Ids of what belongs to the person alone (not their conversations, which stay)."""
        ids = {str(self.contact.id)} | {str(m.id) for m in self.theirs}
        return ids | {m.provider_message_id for m in self.theirs if m.provider_message_id}


def traces_of(contact: Contact, tickets: list[Ticket], messages: list[Message]) -> Traces:
    traces = Traces()
    if contact.name != ERASED_NAME:
        traces.add_name(contact.name)
    for value in (contact.email, contact.external_id, contact.whatsapp_id):
        traces.add_identifier(value)
    traces.add_phone(contact.phone)
    traces.add_phone(contact.whatsapp_id)
    for message in messages:
        if written_by_them(message):
            traces.add_text(message.text)
            if message.author.name and message.author.name != ERASED_NAME:
                traces.add_name(message.author.name)
    for ticket in tickets:
        if ticket.subject != ERASED_SUBJECT:
            traces.add_text(ticket.subject)
    return traces


async def gather(workspace_id: PydanticObjectId, contact: Contact) -> Subject:
    """The contact's conversations and messages, read from the store (FerretDB answers the
    ticket query from its (workspace, contact) index, the messages one from (workspace,
    ticket))."""
    owners = [contact.id]
    if contact.erased_into is not None:
        owners.append(contact.erased_into)
    tickets = await Ticket.find(
        {"workspace_id": workspace_id, "contact_id": {"$in": owners}}
    ).to_list()
    tickets.sort(key=lambda t: t.number)
    messages: list[Message] = []
    for ticket in tickets:
        messages += (
            await Message.find({"workspace_id": workspace_id, "ticket_id": ticket.id})
            .sort("_id")
            .to_list()
        )
    return Subject(workspace_id, contact, tickets, messages, traces_of(contact, tickets, messages))
