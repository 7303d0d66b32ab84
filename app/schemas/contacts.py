from __future__ import annotations

from typing import Annotated, Any

import msgspec

from app.documents import Contact
from app.schemas.common import Page, iso
from realtime.events import ContactView

Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=254)]


ContactOut = ContactView


def contact_out(c: Contact) -> ContactView:
    return ContactView(
        id=str(c.id),
        name=c.name,
        email=c.email,
        phone=c.phone,
        whatsapp_id=c.whatsapp_id,
        external_id=c.external_id,
        verified=c.verified,
        custom_attributes=dict(c.custom_attributes),
        created_at=iso(c.created_at),
        updated_at=iso(c.updated_at),
        email_bounce=c.email_bounce,
        email_verified=c.email_key is not None,
    )


class ContactIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    email: Ident | None = None
    phone: Ident | None = None
    whatsapp_id: Ident | None = None
    external_id: Ident | None = None
    custom_attributes: dict[str, Any] = msgspec.field(default_factory=dict)


class ContactPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=200)] | msgspec.UnsetType | None = msgspec.UNSET
    email: Ident | msgspec.UnsetType | None = msgspec.UNSET
    phone: Ident | msgspec.UnsetType | None = msgspec.UNSET
    whatsapp_id: Ident | msgspec.UnsetType | None = msgspec.UNSET
    external_id: Ident | msgspec.UnsetType | None = msgspec.UNSET
    custom_attributes: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


class ContactQuery(msgspec.Struct, forbid_unknown_fields=True):
    q: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    cursor: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50


class LookupQuery(msgspec.Struct, forbid_unknown_fields=True):
    email: str | None = None
    phone: str | None = None
    whatsapp_id: str | None = None
    external_id: str | None = None


class ContactPage(Page, kw_only=True):
    items: list[ContactOut]


class CannedIn(msgspec.Struct, forbid_unknown_fields=True):
    shortcut: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
    title: Annotated[str, msgspec.Meta(max_length=200)] = ""


class CannedPatch(msgspec.Struct, forbid_unknown_fields=True):
    shortcut: (
        Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")] | msgspec.UnsetType
    ) = msgspec.UNSET
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    title: Annotated[str, msgspec.Meta(max_length=200)] | msgspec.UnsetType = msgspec.UNSET


class CannedOut(msgspec.Struct):
    id: str
    shortcut: str
    title: str
    body: str
