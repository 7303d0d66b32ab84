"""Fill one workspace with N tickets, ~3 messages each and their contacts, straight into the
store with `insert_many`: the documents are the app's own Beanie models, so they are stored
exactly as the actions store them, at a fraction of the cost of N API calls.

Their events count as already published (empty outboxes), the way a worker's sweep leaves a
settled store. The ticket counter is set to N, so tickets created afterwards continue the
numbering.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from beanie import PydanticObjectId

from app.documents import Contact, Counter, Message, Ticket
from app.documents.common import utcnow
from app.documents.contact import identity_key
from app.documents.message import Author, DeliveryStatus, Direction, Kind
from app.domain.tickets import Channel, Priority, Status
from app.services.text import text_to_html

BATCH = 1000
HISTORY = timedelta(days=90)
# A support inbox's usual shape: most tickets long resolved or closed, a working queue open.
STATUS_WEIGHTS = {
    Status.OPEN: 25,
    Status.PENDING: 10,
    Status.SNOOZED: 5,
    Status.RESOLVED: 40,
    Status.CLOSED: 20,
}
TAGS = ("billing", "refund", "bug", "login", "shipping", "vip", "feature", "urgent")
WORDS = (
    *("order", "invoice", "charged", "twice", "refund", "password", "reset", "cannot", "login"),
    *("shipping", "delayed", "parcel", "tracking", "number", "broken", "screen", "replacement"),
    *("subscription", "cancel", "upgrade", "plan", "account", "locked", "email", "address"),
    *("change", "thanks", "please", "help", "asap", "still", "waiting", "update"),
)


def object_id_at(when: datetime, rng: random.Random) -> PydanticObjectId:
    """An id whose time part is `when`, so `_id` order (what lists sort by) follows the
    documents' own dates as it does for documents created over time."""
    return PydanticObjectId(struct.pack(">I", int(when.timestamp())) + rng.randbytes(8))


@dataclass
class Working:
    """A ticket a status toggle can move (open ↔ pending), as last seen."""

    status: str
    version: int = 1


@dataclass
class Filled:
    workspace_id: PydanticObjectId
    tickets: int
    messages: int
    contacts: int
    working: dict[str, Working] = field(default_factory=dict)
    ticket_ids: list[str] = field(default_factory=list)


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


async def fill(
    ws: PydanticObjectId, agents: list[tuple[str, str]], n: int, seed: int = 7
) -> Filled:
    """`agents` is (user id, name) of the workspace's members; tickets get spread over them."""
    rng = random.Random(seed)
    now = utcnow()
    start = now - HISTORY
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    n_contacts = max(1, n // 2)
    contacts: list[Contact] = []
    for i in range(n_contacts):
        email = f"customer{i}@example.com"
        when = start + HISTORY * (i / n_contacts)
        contacts.append(
            Contact(
                id=object_id_at(when, rng),
                workspace_id=ws,
                name=f"Customer {i}",
                email=email,
                email_key=identity_key(ws, "email", email),
                created_at=when,
                updated_at=when,
            )
        )
    for start_at in range(0, len(contacts), BATCH):
        await Contact.insert_many(contacts[start_at : start_at + BATCH])

    filled = Filled(workspace_id=ws, tickets=n, messages=0, contacts=n_contacts)
    tickets: list[Ticket] = []
    messages: list[Message] = []

    async def flush() -> None:
        if tickets:
            await Ticket.insert_many(tickets)
        if messages:
            await Message.insert_many(messages)
        filled.messages += len(messages)
        tickets.clear()
        messages.clear()

    for number in range(1, n + 1):
        created = start + HISTORY * (number / (n + 1))
        status = rng.choices(statuses, weights)[0]
        assignee = None if rng.random() < 0.3 else rng.choice(agents)
        contact = contacts[rng.randrange(n_contacts)]
        customer = Author(kind="contact", id=str(contact.id), name=contact.name)
        ticket_id = object_id_at(created, rng)
        replied_at = created + timedelta(minutes=rng.randint(5, 600))
        last_in = replied_at + timedelta(minutes=rng.randint(5, 600))
        # The last word is the customer's, so an open ticket is waiting for a reply.
        thread = [
            (created, Direction.IN, Kind.MESSAGE, customer, _sentence(rng, 14)),
            (
                replied_at,
                Direction.OUT,
                Kind.MESSAGE,
                Author(
                    kind="agent", id=(assignee or agents[0])[0], name=(assignee or agents[0])[1]
                ),
                _sentence(rng, 20),
            ),
            (last_in, Direction.IN, Kind.MESSAGE, customer, _sentence(rng, 10)),
        ]
        for at, direction, kind, author, text in thread:
            outbound = direction is Direction.OUT
            messages.append(
                Message(
                    id=object_id_at(min(at, now), rng),
                    workspace_id=ws,
                    ticket_id=ticket_id,
                    direction=direction,
                    kind=kind,
                    author=author,
                    text=text,
                    html=text_to_html(text),
                    delivery_status=DeliveryStatus.READ if outbound else None,
                    created_at=min(at, now),
                )
            )
        done = status in (Status.RESOLVED, Status.CLOSED)
        tickets.append(
            Ticket(
                id=ticket_id,
                workspace_id=ws,
                number=number,
                subject=_sentence(rng, 5),
                status=status,
                priority=rng.choice(list(Priority)),
                channel=rng.choice(list(Channel)),
                contact_id=contact.id,
                assignee_id=assignee[0] if assignee else None,
                tags=sorted(set(rng.sample(TAGS, rng.randint(0, 2)))),
                created_at=created,
                updated_at=min(last_in, now),
                first_response_at=min(replied_at, now),
                last_customer_message_at=min(last_in, now),
                waiting_since=None if done else min(last_in, now),
                snoozed_until=now + timedelta(days=30) if status is Status.SNOOZED else None,
                resolved_at=min(last_in, now) if done else None,
            )
        )
        filled.ticket_ids.append(str(ticket_id))
        if status in (Status.OPEN, Status.PENDING):
            filled.working[str(ticket_id)] = Working(status.value)
        if len(tickets) >= BATCH:
            await flush()
    await flush()
    await Counter(id=f"{ws}:tickets", value=n).insert()
    return filled
