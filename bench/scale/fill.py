"""Grow one workspace fast: documents built with the app's own Beanie models and written with
`insert_many`, so they are stored exactly as the app stores them (Beanie's encoder, each
model's `keep_nulls`), without paying for one HTTP request, lock and event per document.

Each ticket has ~5 messages (customer and agent turns, the last few ending on the customer so
some customers wait), one contact per two tickets (with its identity keys), and timeline lines
for the status changes its state implies, as `change_lines` words them. The store's ticket
counter is set to the last number written and the app's Redis counter cleared, so the app's
next ticket continues from there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import redis.asyncio as aioredis
from beanie import PydanticObjectId
from bson import ObjectId

from app.actions.numbers import counter_key
from app.documents import Contact, Counter, Message, Ticket
from app.documents.message import Author, DeliveryStatus, Direction, Kind
from app.domain.tickets import Channel, Priority, Status
from app.domain.timeline import change_lines
from app.services.contacts import identity_fields
from app.services.text import text_to_html
from realtime.events import Actor

BATCH = 1000  # documents per insert_many: big enough to amortise a round trip, small in memory
MESSAGES_PER_TICKET = 5
TICKETS_PER_CONTACT = 2
SPAN = timedelta(days=60)  # filled tickets are spread over the last 60 days, oldest first

# A common word (about a third of subjects) and a rare one (one subject in 2,000, so even the
# first 1,000 tickets hold it) for the search metric.
COMMON_WORD = "refund"
RARE_WORD = "zeppelin"
RARE_EVERY = 2000
SUBJECT_WORDS = [
    "invoice", "login", "password", "shipping", "delivery", "account", "upgrade", "bug",
    "export", "integration", "billing", "cancel", "order", "address", "mobile", "error",
]  # fmt: skip
TAGS = ["billing", "bug", "vip", "shipping", "feature", "urgent-review"]
# Roughly a working inbox: most tickets are done, a fifth still active.
STATUS_WEIGHTS = {
    Status.OPEN: 12,
    Status.PENDING: 5,
    Status.SNOOZED: 3,
    Status.RESOLVED: 60,
    Status.CLOSED: 20,
}
CHANNEL_WEIGHTS = {Channel.EMAIL: 5, Channel.WEBCHAT: 3, Channel.WHATSAPP: 1, Channel.API: 1}
LIVE_CHANNELS = {Channel.API, Channel.WEBCHAT}  # replies on these are `sent`, others `queued`


@dataclass(frozen=True)
class Owner:
    workspace_id: PydanticObjectId
    user_id: str
    name: str

    @property
    def actor(self) -> Actor:
        return Actor(kind="agent", id=self.user_id, name=self.name)


@dataclass
class Filled:
    tickets: int = 0
    messages: int = 0
    contacts: int = 0


def counter_id(workspace_id: object) -> str:
    return f"{workspace_id}:tickets"  # the floor app/actions/numbers.py starts from


async def ticket_count(owner: Owner, redis: aioredis.Redis) -> int:
    """The last ticket number the workspace gave out, 0 before any: its Redis counter, or the
    store's counter document the last fill left."""
    raw = await Counter.get_pymongo_collection().find_one({"_id": counter_id(owner.workspace_id)})
    given = await redis.get(counter_key(owner.workspace_id))
    return max(int(raw["value"]) if raw else 0, int(given or 0))


class Filler:
    def __init__(self, owner: Owner, max_tickets: int, seed: int = 10) -> None:
        self.owner = owner
        self.rng = random.Random(seed)
        self.start = datetime.now(UTC) - SPAN
        # Number n is created at start + n * step, so the largest size ends about now and
        # the newest tickets fall on today's dashboard.
        self.step = SPAN / max(max_tickets, 1)

    def created_at(self, number: int) -> datetime:
        at = self.start + self.step * number
        return at.replace(microsecond=at.microsecond // 1000 * 1000)  # what BSON keeps

    def subject(self, number: int) -> str:
        words = self.rng.sample(SUBJECT_WORDS, 3)
        if number % RARE_EVERY == 7:
            words.append(RARE_WORD)
        if self.rng.random() < 0.33:
            words.insert(1, COMMON_WORD)
        return f"{' '.join(words).capitalize()} #{number}"

    def contact(self, index: int, at: datetime) -> Contact:
        email = f"customer{index}@example.com"
        values: dict[str, str | None] = {"email": email}
        if index % 3 == 0:  # a third also have a phone, so phone_key is in use too
            values["phone"] = f"+1555{index:07d}"
        identity, _ = identity_fields(self.owner.workspace_id, values)
        return Contact(
            id=PydanticObjectId(),
            workspace_id=self.owner.workspace_id,
            name=f"Customer {index}",
            created_at=at,
            updated_at=at,
            **identity,
        )

    def messages(
        self, ticket_id: PydanticObjectId, contact_id: PydanticObjectId, channel: Channel,
        status: Status, at: datetime,
    ) -> list[Message]:  # fmt: skip
        # Active tickets end on the customer's turn half the time (they wait); done ones on ours.
        ends_in = status in (Status.OPEN, Status.PENDING) and self.rng.random() < 0.5
        count = MESSAGES_PER_TICKET
        out: list[Message] = []
        for i in range(count):
            inbound = (i % 2 == 0) if not ends_in else ((count - 1 - i) % 2 == 0)
            when = at + timedelta(minutes=7 * i)
            if inbound:
                author = Author(kind="contact", id=str(contact_id))
                text = f"Hello, I have a question about my {self.rng.choice(SUBJECT_WORDS)}."
            else:
                author = Author(kind="agent", id=self.owner.user_id, name=self.owner.name)
                text = "Thanks for writing! See https://help.example.com/articles/42 for details."
            out.append(
                Message(
                    id=PydanticObjectId(),
                    workspace_id=self.owner.workspace_id,
                    ticket_id=ticket_id,
                    direction=Direction.IN if inbound else Direction.OUT,
                    kind=Kind.MESSAGE,
                    author=author,
                    text=text,
                    html=text_to_html(text),
                    created_at=when,
                    delivery_status=None
                    if inbound
                    else (
                        DeliveryStatus.SENT if channel in LIVE_CHANNELS else DeliveryStatus.QUEUED
                    ),
                )
            )
        return out

    def line(
        self, at: datetime, changed: list[str], status: Status, assignee: str | None
    ) -> list[dict[str, Any]]:
        actor = self.owner.actor
        texts = change_lines(
            actor, changed, status=status, assignee_id=assignee, assignee_name=self.owner.name
        )
        return [
            {"id": str(ObjectId()), "at": at, "actor": msgspec.to_builtins(actor), "text": t}
            for t in texts
        ]

    def ticket(self, number: int, contact_id: PydanticObjectId) -> tuple[Ticket, list[Message]]:
        rng = self.rng
        at = self.created_at(number)
        status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
        assignee = self.owner.user_id if rng.random() < 0.6 else None
        ticket_id = PydanticObjectId()
        messages = self.messages(ticket_id, contact_id, channel, status, at)
        inbound = [m.created_at for m in messages if m.direction is Direction.IN]
        outbound = [m.created_at for m in messages if m.direction is Direction.OUT]
        last = messages[-1]
        waiting = last.created_at if last.direction is Direction.IN else None
        changed_at = last.created_at + timedelta(minutes=3)
        activity = []
        if assignee is not None:
            activity += self.line(at + timedelta(minutes=1), ["assignee_id"], status, assignee)
        if status is not Status.OPEN:
            activity += self.line(changed_at, ["status"], status, assignee)
        ticket = Ticket(
            id=ticket_id,
            workspace_id=self.owner.workspace_id,
            number=number,
            subject=self.subject(number),
            status=status,
            priority=rng.choices(list(Priority), weights=[2, 14, 3, 1])[0],
            channel=channel,
            contact_id=contact_id,
            assignee_id=assignee,
            tags=sorted(set(rng.sample(TAGS, rng.randint(0, 2)))),
            version=1 + len(activity),
            changed_by=msgspec.to_builtins(self.owner.actor) if activity else None,
            created_at=at,
            updated_at=changed_at if activity else last.created_at,
            first_response_at=min(outbound) if outbound else None,
            last_customer_message_at=max(inbound) if inbound else None,
            waiting_since=waiting if status is Status.OPEN else None,
            snoozed_until=(datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
            if status is Status.SNOOZED
            else None,
            resolved_at=changed_at if status in (Status.RESOLVED, Status.CLOSED) else None,
            activity=activity,
        )
        return ticket, messages

    async def grow(self, first: int, last: int, redis: aioredis.Redis) -> Filled:
        """Tickets numbered `first`..`last` (inclusive), their messages and new contacts, then
        the counter at `last`."""
        done = Filled()
        contacts: dict[int, PydanticObjectId] = {}
        batch_t: list[Ticket] = []
        batch_m: list[Message] = []
        batch_c: list[Contact] = []

        async def flush() -> None:
            # Contacts first, then tickets, then messages: a reader never sees a ticket whose
            # contact is missing.
            if batch_c:
                await Contact.insert_many(batch_c)
            if batch_t:
                await Ticket.insert_many(batch_t)
            for i in range(0, len(batch_m), BATCH):
                await Message.insert_many(batch_m[i : i + BATCH])
            done.contacts += len(batch_c)
            done.tickets += len(batch_t)
            done.messages += len(batch_m)
            batch_c.clear()
            batch_t.clear()
            batch_m.clear()

        for number in range(first, last + 1):
            index = number // TICKETS_PER_CONTACT
            contact_id = contacts.get(index)
            if contact_id is None:
                # Named after its first ticket's number, which no other step reuses, so its
                # email (a unique identity key) never clashes with an earlier step's contact.
                contact = self.contact(number, self.created_at(number))
                assert contact.id is not None
                contacts[index] = contact_id = contact.id
                batch_c.append(contact)
            ticket, messages = self.ticket(number, contact_id)
            batch_t.append(ticket)
            batch_m += messages
            if len(batch_t) >= BATCH // MESSAGES_PER_TICKET:
                await flush()
        await flush()
        await Counter.get_pymongo_collection().update_one(
            {"_id": counter_id(self.owner.workspace_id)}, {"$set": {"value": last}}, upsert=True
        )
        # The app's Redis counter starts again from the store, so its next ticket is last + 1.
        await redis.delete(counter_key(self.owner.workspace_id))
        return done
