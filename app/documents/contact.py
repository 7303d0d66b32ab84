from __future__ import annotations

from datetime import datetime
from typing import Any

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field

from app.documents.common import utcnow

IDENTIFIERS = ("email", "phone", "whatsapp_id", "external_id")


def identity_key(workspace_id: object, kind: str, value: str) -> str:
    return f"{workspace_id}:{kind}:{value}"


class Contact(Document):
    """A customer. Each identifier is unique within its workspace, enforced by a `*_key`
    field that exists only while the identifier does (a sparse unique index, which MongoDB
    and FerretDB both honour, unlike partial indexes)."""

    workspace_id: PydanticObjectId
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    whatsapp_id: str | None = None
    external_id: str | None = None
    email_key: str | None = None
    phone_key: str | None = None
    whatsapp_id_key: str | None = None
    external_id_key: str | None = None
    verified: bool = False  # identity proven by the host site's HMAC (webchat)
    # Why email to `email` stopped: set by a hard bounce, cleared when the address changes.
    email_bounce: str | None = None
    custom_attributes: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    outbox: list[dict[str, Any]] = Field(default_factory=list)  # see app/outbox.py
    # Set while the contact is being erased (app/privacy): the anonymous contact their
    # conversations move to, so an erasure that stopped half way resumes with the same one.
    erased_into: PydanticObjectId | None = None

    class Settings:
        name = "contacts"
        keep_nulls = False
        indexes = [
            pymongo.IndexModel([("workspace_id", 1), ("_id", -1)]),
            *(
                pymongo.IndexModel([(f"{kind}_key", 1)], unique=True, sparse=True)
                for kind in IDENTIFIERS
            ),
        ]
