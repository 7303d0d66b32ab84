from __future__ import annotations

from datetime import datetime
from typing import Any

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field

from app.documents.common import utcnow
from app.domain.tickets import Channel, Priority, Status


class Ticket(Document):
    workspace_id: PydanticObjectId
    number: int
    subject: str
    status: Status = Status.OPEN
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.API
    contact_id: PydanticObjectId | None = None
    assignee_id: str | None = None
    team_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    version: int = 1
    # Grows with every write to the ticket, messages included (`version` only with the edits
    # that can conflict): whoever applies a ticket's snapshots keeps the newest.
    rev: int = 0
    # Who made the change that set `version`: a refused stale write can name them.
    changed_by: dict[str, str | None] | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    first_response_at: datetime | None = None
    last_customer_message_at: datetime | None = None
    # The customer's messages up to this one were seen by an agent (shown as "Seen" to them).
    agent_read_up_to: PydanticObjectId | None = None
    # Since when the customer has been waiting for an agent's reply; cleared by a reply.
    waiting_since: datetime | None = None
    snoozed_until: datetime | None = None
    resolved_at: datetime | None = None
    # The thread's timeline lines ("Ana set the status to pending"), written in the same update
    # as the change they tell of; the thread shows them among the messages.
    activity: list[dict[str, Any]] = Field(default_factory=list)
    # Events written in the same atomic update as the change they describe (app/outbox.py): a
    # crash between the write and the publish delays an event, never loses it.
    outbox: list[dict[str, Any]] = Field(default_factory=list)

    class Settings:
        name = "tickets"
        # One per query Tandem makes: the list's filters and orders (app/services/tickets.py),
        # a contact's conversation (app/actions/inbound.py), the dashboard's day figures and
        # waits (app/services/dashboard.py), overdue snoozes (app/worker.py).
        indexes = [
            pymongo.IndexModel([("workspace_id", 1), ("_id", -1)]),
            pymongo.IndexModel([("workspace_id", 1), ("number", 1)], unique=True),
            pymongo.IndexModel([("workspace_id", 1), ("status", 1), ("_id", -1)]),
            pymongo.IndexModel([("workspace_id", 1), ("assignee_id", 1), ("_id", -1)]),
            pymongo.IndexModel([("workspace_id", 1), ("team_id", 1), ("_id", -1)]),
            pymongo.IndexModel([("workspace_id", 1), ("tags", 1), ("_id", -1)]),
            pymongo.IndexModel([("workspace_id", 1), ("channel", 1), ("_id", -1)]),
            pymongo.IndexModel([("workspace_id", 1), ("contact_id", 1), ("_id", -1)]),
            pymongo.IndexModel([("workspace_id", 1), ("updated_at", -1), ("_id", -1)]),
            pymongo.IndexModel([("workspace_id", 1), ("waiting_since", 1), ("_id", 1)]),
            pymongo.IndexModel([("workspace_id", 1), ("created_at", 1)]),
            pymongo.IndexModel([("workspace_id", 1), ("resolved_at", 1)]),
            pymongo.IndexModel([("workspace_id", 1), ("first_response_at", 1)]),
            pymongo.IndexModel([("status", 1), ("snoozed_until", 1)]),
        ]
