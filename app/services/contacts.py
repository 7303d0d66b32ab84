"""Reading contacts: by id, by identifier, search; the identifier rules. Writes are actions
(app/actions/contacts.py)."""

from __future__ import annotations

import re
from typing import Any

from beanie import PydanticObjectId

from app.documents import Contact, Ticket
from app.documents.contact import IDENTIFIERS, identity_key
from app.domain.errors import Conflict, Invalid, NotFound
from app.services.ids import require_id


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


async def duplicate_error(fields: dict[str, Any], own_id: object = None) -> Conflict:
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


async def find_contact(ws: PydanticObjectId | None, contact_id: str) -> Contact | None:
    if ws is None:
        return None
    found: Contact | None = await Contact.find_one(
        Contact.id == require_id(contact_id, "contact"), Contact.workspace_id == ws
    )
    return found


async def get_contact(ws: PydanticObjectId, contact_id: str) -> Contact:
    contact = await find_contact(ws, contact_id)
    if contact is None:
        raise NotFound("no such contact")
    return contact


async def delete_contact(ws: PydanticObjectId, contact_id: str) -> None:
    contact = await get_contact(ws, contact_id)
    if await Ticket.find_one(Ticket.workspace_id == ws, Ticket.contact_id == contact.id):
        raise Conflict("this contact has tickets; it cannot be deleted", code="has_tickets")
    await contact.delete()


async def lookup(ws: PydanticObjectId, kind: str, value: str) -> Contact | None:
    key = identity_key(ws, kind, normalize_identifier(kind, value))
    return await Contact.find_one({f"{kind}_key": key, "workspace_id": ws})


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
