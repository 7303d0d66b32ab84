from __future__ import annotations

from typing import Annotated

import msgspec

from app.schemas.common import Id
from app.schemas.tickets import ClientId
from realtime.events import VisitorMessage

WidgetText = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class VerifiedUser(msgspec.Struct, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    hash: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F]{64}$")]
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    email: Email | None = None


class SessionIn(msgspec.Struct, forbid_unknown_fields=True):
    workspace: Id
    visitor_token: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    user: VerifiedUser | None = None


class VisitorOut(msgspec.Struct):
    contact_id: str
    name: str | None
    email: str | None
    verified: bool


class SessionOut(msgspec.Struct):
    visitor_token: str
    socket_token: str
    socket_path: str
    visitor: VisitorOut
    conversation_id: str | None
    agents_online: bool
    reply_time: str
    greeting: str


class WidgetMessageIn(msgspec.Struct, forbid_unknown_fields=True):
    client_id: ClientId
    text: Annotated[str, msgspec.Meta(max_length=10_000)] = ""  # or files only
    # Files this visitor uploaded (`POST /widget/attachments`), by id.
    attachments: Annotated[list[str], msgspec.Meta(max_length=10)] = []


WidgetMessageOut = VisitorMessage


class ConversationOut(msgspec.Struct):
    conversation_id: str | None
    status: str | None
    messages: list[WidgetMessageOut]
    seq: int
    agents_online: bool
    # The visitor's messages up to this one have been read by an agent (null: none yet).
    seen_up_to: str | None = None


AttributeKey = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
AttributeValue = Annotated[str, msgspec.Meta(max_length=500)] | int | float | bool
# Set by the host page (`Tandem.setAttributes`): shown to agents, never trusted as identity.
Attributes = Annotated[dict[AttributeKey, AttributeValue], msgspec.Meta(max_length=20)]


class ProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    email: Email | None = None
    attributes: Attributes | None = None


class ReadIn(msgspec.Struct, forbid_unknown_fields=True):
    up_to: Id


class WidgetSettingsOut(msgspec.Struct):
    """What a site owner needs to embed the widget; `secret` signs verified identities."""

    workspace_id: str
    allowed_origins: list[str]
    reply_time: str
    greeting: str
    secret: str


class WidgetStatusOut(msgspec.Struct):
    agents_online: bool
    reply_time: str
