"""Contacts: CRUD, lookup by identifier, and find-or-create for inbound channels."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.documents import Contact, Ticket
from app.documents.common import utcnow
from app.documents.contact import IDENTIFIERS, identity_key
from app.domain.errors import Conflict, Invalid, NotFound
from app.outbox import EventRelay, lock_name, outbox_entry
from app.schemas.contacts import contact_out
from app.services.ids import require_id
from realtime.envelope import Actor


def normalize_identifier(kind: str, value: str) -> str:
    value = value.strip()
    if kind == "email":
        value = value.lower()
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise Invalid("not an email address", field="email")
    elif kind in ("phone", "whatsapp_id"):
        digits = re.sub(r"[\s().-]", "", value)
        if not re.fullmatch(r"\+?\d{5,20}", digits):
            raise Invalid(f"not a phone number: {value!r}", field=kind)
        value = digits if kind == "whatsapp_id" else "+" + digits.lstrip("+")
    return value


def identity_fields(
    ws: PydanticObjectId, values: dict[str, str | None]
) -> tuple[dict[str, Any], list[str]]:
    """The $set and $unset for identifier changes, keys included."""
    to_set: dict[str, Any] = {}
    to_unset: list[str] = []
    for kind, value in values.items():
        if value is None:
            to_unset += [kind, f"{kind}_key"]
        else:
            clean = normalize_identifier(kind, value)
            to_set[kind] = clean
            to_set[f"{kind}_key"] = identity_key(ws, kind, clean)
    return to_set, to_unset


async def _duplicate(fields: dict[str, Any], own_id: object = None) -> Conflict:
    """Name the identifier that clashed (not every store's error names the index)."""
    for kind in IDENTIFIERS:
        key = fields.get(f"{kind}_key")
        if key and await Contact.find_one({f"{kind}_key": key, "_id": {"$ne": own_id}}):
            break
    else:
        kind = "identifier"
    return Conflict(
        f"another contact has this {kind}", code="duplicate_identifier", details={"field": kind}
    )


async def create_contact(
    relay: EventRelay,
    ws: PydanticObjectId,
    *,
    actor: Actor,
    name: str | None,
    identifiers: dict[str, str | None],
    custom_attributes: dict[str, Any],
    verified: bool = False,
) -> Contact:
    fields, _ = identity_fields(ws, {k: v for k, v in identifiers.items() if v is not None})
    contact = Contact(
        id=PydanticObjectId(),
        workspace_id=ws,
        name=name,
        custom_attributes=custom_attributes,
        verified=verified,
        **fields,
    )
    contact.outbox = [_contact_event("contact.created", contact, actor)]
    try:
        await contact.insert()
    except DuplicateKeyError:
        raise await _duplicate(fields) from None
    await relay.flush(Contact, contact)
    return contact


async def get_contact(ws: PydanticObjectId, contact_id: str) -> Contact:
    contact = await Contact.find_one(
        Contact.id == require_id(contact_id, "contact"), Contact.workspace_id == ws
    )
    if contact is None:
        raise NotFound("no such contact")
    return contact


def _contact_event(type_: str, contact: Contact, actor: Actor) -> dict[str, Any]:
    data = {"contact": msgspec.to_builtins(contact_out(contact))}
    return outbox_entry(str(contact.workspace_id), type_, actor, data)


async def update_contact(
    relay: EventRelay,
    ws: PydanticObjectId,
    contact_id: str,
    changes: dict[str, Any],
    actor: Actor,
) -> Contact:
    identifiers = {k: changes.pop(k) for k in IDENTIFIERS if k in changes}
    to_set, to_unset = identity_fields(ws, identifiers)
    to_set.update(changes)
    to_set["updated_at"] = utcnow()
    update: dict[str, Any] = {"$set": to_set}
    if to_unset:
        update["$unset"] = dict.fromkeys(to_unset, "")
    cid = require_id(contact_id, "contact")
    try:
        async with relay.locks.hold(lock_name(Contact, cid)):
            before = await get_contact(ws, contact_id)
            after = before.model_copy(update={**to_set, **dict.fromkeys(to_unset)})
            update["$push"] = {"outbox": _contact_event("contact.updated", after, actor)}
            raw = await Contact.get_pymongo_collection().find_one_and_update(
                {"_id": cid, "workspace_id": ws}, update, return_document=ReturnDocument.AFTER
            )
    except DuplicateKeyError:
        raise await _duplicate(to_set, cid) from None
    if raw is None:
        raise NotFound("no such contact")
    await relay.flush(Contact, raw)
    contact: Contact = Contact.model_validate(raw)
    return contact


async def delete_contact(ws: PydanticObjectId, contact_id: str) -> None:
    contact = await get_contact(ws, contact_id)
    if await Ticket.find_one(Ticket.workspace_id == ws, Ticket.contact_id == contact.id):
        raise Conflict("this contact has tickets; it cannot be deleted", code="has_tickets")
    await contact.delete()


async def lookup(ws: PydanticObjectId, kind: str, value: str) -> Contact | None:
    key = identity_key(ws, kind, normalize_identifier(kind, value))
    return await Contact.find_one({f"{kind}_key": key, "workspace_id": ws})


async def find_or_create(
    relay: EventRelay,
    ws: PydanticObjectId,
    kind: str,
    value: str,
    *,
    actor: Actor,
    name: str | None = None,
    verified: bool = False,
) -> Contact:
    """For inbound channels: the contact with this identifier, made on first contact. Two
    simultaneous first messages race on the unique key; the loser reads the winner's."""
    existing = await lookup(ws, kind, value)
    if existing is not None:
        return existing
    try:
        return await create_contact(
            relay,
            ws,
            actor=actor,
            name=name,
            identifiers={kind: value},
            custom_attributes={},
            verified=verified,
        )
    except Conflict:
        found = await lookup(ws, kind, value)
        if found is None:
            raise
        return found


async def search(
    ws: PydanticObjectId, q: str | None, cursor: str | None, limit: int
) -> list[Contact]:
    query: dict[str, Any] = {"workspace_id": ws}
    if q:
        pattern = {"$regex": re.escape(q.strip()), "$options": "i"}
        query["$or"] = [{"name": pattern}, {"email": pattern}, {"phone": pattern}]
    if cursor:
        query["_id"] = {"$lt": require_id(cursor, "cursor")}
    raw = (
        await Contact.get_pymongo_collection()
        .find(query)
        .sort("_id", -1)
        .limit(limit + 1)
        .to_list()
    )
    return [Contact.model_validate(r) for r in raw]
