from __future__ import annotations

from datetime import datetime
from typing import Any

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field

from app.documents.common import utcnow
from realtime.events import DeliveryStatus, Direction, Kind

__all__ = ["Attachment", "Author", "DeliveryStatus", "Direction", "Kind", "Message"]


class Author(BaseModel):
    kind: str  # agent | contact | system | integration
    id: str | None = None
    name: str | None = None


class Attachment(BaseModel):
    """A file on a message. Its bytes are a blob in the workspace's blob store (`blob_id`);
    one Tandem did not keep says why (`refused`: too large, a type not allowed); one still
    being fetched from its channel has the channel's `media_id` and no blob yet."""

    filename: str
    content_type: str
    size: int
    url: str | None = None
    blob_id: str | None = None
    refused: str | None = None
    media_id: str | None = None


class Message(Document):
    workspace_id: PydanticObjectId
    ticket_id: PydanticObjectId
    direction: Direction
    kind: Kind = Kind.MESSAGE
    author: Author
    text: str
    html: str
    attachments: list[Attachment] = Field(default_factory=list)
    provider_message_id: str | None = None
    # How later messages name this one when they answer it (an email's Message-ID): the
    # first thing inbound threading looks for.
    message_ref: str | None = None
    # "<workspace>:p:<provider id>" or "<workspace>:c:<client id>"; present only when there is
    # such an id, so a retried delivery or a resent client message is stored once.
    dedupe_key: str | None = None
    delivery_status: DeliveryStatus | None = None
    delivery_error: str | None = None  # the provider's reason, when delivery failed
    # Sends started: a second one first asks the provider whether the first went out.
    delivery_attempts: int = 0
    # Set while a send whose outcome cannot be asked afterwards (WhatsApp) is in flight.
    sending_since: datetime | None = None
    parts_sent: int = 0  # a reply that goes out as several (WhatsApp: text, then each file)
    # A WhatsApp template this reply is sent as ({name, language, params}); `text` holds it
    # filled in, as the customer reads it.
    template: dict[str, Any] | None = None
    mentions: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    outbox: list[dict[str, Any]] = Field(default_factory=list)

    class Settings:
        name = "messages"
        keep_nulls = False
        indexes = [
            pymongo.IndexModel([("workspace_id", 1), ("ticket_id", 1), ("_id", 1)]),
            pymongo.IndexModel([("dedupe_key", 1)], unique=True, sparse=True),
            pymongo.IndexModel([("message_ref", 1)], sparse=True),
        ]
