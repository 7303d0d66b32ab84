"""Contact actions: create, change, and find-or-create for inbound channels; each write
carries its `contact.created` / `contact.updated` event."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import OperationFailure

from app.actions.base import Deps, stamp
from app.db import is_duplicate_key
from app.documents import Contact
from app.documents.common import utcnow
from app.documents.contact import IDENTIFIERS
from app.domain.errors import Conflict, Invalid, NotFound
from app.outbox import lock_name, merged
from app.schemas.contacts import contact_out
from app.services.contacts import duplicate_error, get_contact, identity_fields, lookup
from app.services.ids import require_id
from realtime.events import Actor, ContactCreated, ContactData, ContactUpdated, event_to_document

# Custom attributes are kept as given, inside the contact and inside each event about it. The
# store refuses a name that starts with `$` or holds a `.`, cannot encode one with a NUL, and
# stops at 100 levels of nesting; an empty name or a `$` further in is refused as well, since
# neither can be named in a query or a filter on the attribute. FerretDB keeps no list directly
# inside a list.
ATTRIBUTE_DEPTH = 16


def check_attributes(attributes: dict[str, Any]) -> None:
    problem = _attribute_problem(attributes, 1)
    if problem is not None:
        raise Invalid(f"custom_attributes: {problem}", field="custom_attributes")


def _attribute_problem(value: Any, depth: int) -> str | None:
    if depth > ATTRIBUTE_DEPTH and isinstance(value, dict | list):
        return f"nested more than {ATTRIBUTE_DEPTH} levels deep"
    inner: list[Any] = []
    if isinstance(value, dict):
        for name, item in value.items():
            if not name or any(c in name for c in "$.\0"):
                return (
                    f"the name {name!r} is not allowed: a name is not empty and has no `$` or `.`"
                )
            inner.append(item)
    elif isinstance(value, list):
        if any(isinstance(item, list) for item in value):
            return "a list directly inside a list cannot be kept: put it in an object"
        inner = value
    for item in inner:
        problem = _attribute_problem(item, depth + 1)
        if problem is not None:
            return problem
    return None


async def create_contact(
    deps: Deps,
    ws: PydanticObjectId,
    *,
    actor: Actor,
    name: str | None,
    identifiers: dict[str, str | None],
    custom_attributes: dict[str, Any],
    verified: bool = False,
) -> Contact:
    check_attributes(custom_attributes)
    fields, _ = identity_fields(ws, {k: v for k, v in identifiers.items() if v is not None})
    contact = Contact(
        id=PydanticObjectId(),
        workspace_id=ws,
        name=name,
        custom_attributes=custom_attributes,
        verified=verified,
        **fields,
    )
    event = stamp(ContactCreated, ws=ws, actor=actor, data=ContactData(contact_out(contact)))
    contact.outbox = [event_to_document(event)]
    await deps.relay.mark(Contact, contact.id, event)
    try:
        await contact.insert()
    except OperationFailure as error:
        if not is_duplicate_key(error):
            raise
        raise await duplicate_error(fields) from None
    await deps.relay.publish([event])
    return contact


async def update_contact(
    deps: Deps,
    ws: PydanticObjectId,
    contact_id: str,
    changes: dict[str, Any],
    actor: Actor,
    *,
    unverified_email: bool = False,
) -> Contact:
    """`unverified_email`: the email in `changes` is one the customer typed (the widget's
    forms), which anyone holding the visitor's token could: it is kept and shown but gets no
    key, so no ticket or email for the address is ever matched to this contact."""
    if "custom_attributes" in changes:
        check_attributes(changes["custom_attributes"])
    identifiers = {k: changes.pop(k) for k in IDENTIFIERS if k in changes}
    to_set, to_unset = identity_fields(ws, identifiers)
    if unverified_email and to_set.pop("email_key", None) is not None:
        to_unset.append("email_key")
    to_set.update(changes)
    to_set["updated_at"] = utcnow()
    update: dict[str, Any] = {"$set": to_set}
    if to_unset:
        update["$unset"] = dict.fromkeys(to_unset, "")
    cid = require_id(contact_id, "contact")
    try:
        async with deps.relay.locks.hold(lock_name(Contact, cid)):
            before = await get_contact(ws, contact_id)
            if _new_address(before, identifiers, to_set):
                to_unset = [*to_unset, "email_bounce"]  # a new address has not bounced
                update.setdefault("$unset", {})["email_bounce"] = ""
            after = before.model_copy(update={**to_set, **dict.fromkeys(to_unset)})
            event = stamp(ContactUpdated, ws=ws, actor=actor, data=ContactData(contact_out(after)))
            update = merged(
                update, await deps.relay.outbox_update(Contact, cid, before.outbox, event)
            )
            raw = await Contact.get_pymongo_collection().find_one_and_update(
                {"_id": cid, "workspace_id": ws}, update, return_document=ReturnDocument.AFTER
            )
    except OperationFailure as error:
        if not is_duplicate_key(error):
            raise
        raise await duplicate_error(to_set, cid) from None
    if raw is None:
        raise NotFound("no such contact")
    await deps.relay.publish([event])
    contact: Contact = Contact.model_validate(raw)
    return contact


def _new_address(before: Contact, identifiers: dict[str, Any], to_set: dict[str, Any]) -> bool:
    """Whether a change replaces an address that bounced (so the mark goes with it)."""
    return (
        before.email_bounce is not None
        and "email" in identifiers
        and "email_bounce" not in to_set
        and to_set.get("email") != before.email
    )


async def find_or_create(
    deps: Deps,
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
            deps,
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


async def mark_bounced(
    deps: Deps, ws: PydanticObjectId, address: str, reason: str, *, actor: Actor
) -> Contact | None:
    """A hard bounce: the contact with this address gets it marked, so later replies say why
    they cannot go out instead of bouncing again. None when no contact has the address (it
    changed since) or the mark is there already."""
    contact = await lookup(ws, "email", address)
    if contact is None or contact.email_bounce is not None:
        return None
    return await update_contact(deps, ws, str(contact.id), {"email_bounce": reason}, actor)
