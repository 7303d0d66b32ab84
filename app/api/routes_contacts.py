"""Contacts and canned responses."""

from __future__ import annotations

import msgspec

from app.actions import canned as canned_actions
from app.actions import contacts as contact_actions
from app.actions.base import agent_actor
from app.api.endpoint import Api, Call
from app.documents import CannedResponse
from app.domain.errors import Invalid, NotFound
from app.domain.roles import Action
from app.schemas.contacts import (
    CannedIn,
    CannedOut,
    CannedPatch,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    ContactQuery,
    LookupQuery,
    contact_out,
)
from app.search.index import CONTACT
from app.services import canned, contacts
from app.services.audit import record
from app.services.ids import require_id
from app.services.search import find_contacts

api = Api()
C = "contacts"


@api.op(
    "GET",
    "/contacts",
    summary="Search contacts by name, email or phone",
    tag=C,
    query=ContactQuery,
    response=ContactPage,
    errors=(404,),  # a cursor that names nothing
)
async def list_contacts(call: Call) -> ContactPage:
    call.agent.require(Action.MANAGE_CONTACTS)
    q: ContactQuery = call.query
    ws = require_id(call.agent.workspace_id, "workspace")
    if q.q and q.q.strip():
        # Words go to the search index, best match first (the store while it is rebuilt).
        matched = await find_contacts(call.runtime.search, ws, q.q, q.cursor, q.limit)
        if matched is not None:
            items, after = matched
            return ContactPage(items=[contact_out(c) for c in items], next_cursor=after)
    found = await contacts.search(ws, q.q, q.cursor, q.limit)
    cursor = str(found[q.limit - 1].id) if len(found) > q.limit else None
    return ContactPage(items=[contact_out(c) for c in found[: q.limit]], next_cursor=cursor)


@api.op(
    "POST",
    "/contacts",
    summary="Create a contact",
    tag=C,
    body=ContactIn,
    response=ContactOut,
    status=201,
    errors=(409, 422),
)
async def create_contact(call: Call) -> ContactOut:
    call.agent.require(Action.MANAGE_CONTACTS)
    body: ContactIn = call.body
    ws = require_id(call.agent.workspace_id, "workspace")
    identifiers = {
        "email": body.email,
        "phone": body.phone,
        "whatsapp_id": body.whatsapp_id,
        "external_id": body.external_id,
    }
    if not (body.name and body.name.strip()) and not any(identifiers.values()):
        # A contact nobody can name or reach would only be found again by its id.
        raise Invalid(
            "a contact needs a name or one of email, phone, whatsapp_id, external_id",
            field="name",
            code="empty_contact",
        )
    contact = await contact_actions.create_contact(
        call.runtime.deps,
        ws,
        actor=agent_actor(call.agent),
        name=body.name,
        custom_attributes=body.custom_attributes,
        identifiers=identifiers,
    )
    return contact_out(contact)


@api.op(
    "GET",
    "/contacts/lookup",
    summary="Find a contact by one identifier",
    tag=C,
    query=LookupQuery,
    response=ContactOut,
    errors=(404, 422),
)
async def lookup_contact(call: Call) -> ContactOut:
    call.agent.require(Action.MANAGE_CONTACTS)
    given = {k: v for k, v in msgspec.structs.asdict(call.query).items() if v}
    if len(given) != 1:
        raise Invalid("give exactly one of email, phone, whatsapp_id, external_id")
    ((kind, value),) = given.items()
    contact = await contacts.lookup(require_id(call.agent.workspace_id, "workspace"), kind, value)
    if contact is None:
        raise NotFound("no contact with that identifier")
    return contact_out(contact)


@api.op(
    "GET", "/contacts/{contact_id}", summary="A contact", tag=C, response=ContactOut, errors=(404,)
)
async def get_contact(call: Call) -> ContactOut:
    call.agent.require(Action.MANAGE_CONTACTS)
    ws = require_id(call.agent.workspace_id, "workspace")
    return contact_out(await contacts.get_contact(ws, call.path("contact_id")))


@api.op(
    "PATCH",
    "/contacts/{contact_id}",
    summary="Change a contact; null removes a field",
    tag=C,
    body=ContactPatch,
    response=ContactOut,
    errors=(404, 409, 422),
)
async def patch_contact(call: Call) -> ContactOut:
    call.agent.require(Action.MANAGE_CONTACTS)
    changes = {k: v for k, v in msgspec.structs.asdict(call.body).items() if v is not msgspec.UNSET}
    ws = require_id(call.agent.workspace_id, "workspace")
    return contact_out(
        await contact_actions.update_contact(
            call.runtime.deps, ws, call.path("contact_id"), changes, agent_actor(call.agent)
        )
    )


@api.op(
    "DELETE",
    "/contacts/{contact_id}",
    summary="Delete a contact without tickets (admin)",
    tag=C,
    status=204,
    errors=(403, 404, 409),
)
async def delete_contact(call: Call) -> None:
    call.agent.require(Action.DELETE_CONTACTS)
    ws = require_id(call.agent.workspace_id, "workspace")
    await contacts.delete_contact(ws, call.path("contact_id"))
    await call.runtime.search.remove(str(ws), CONTACT, call.path("contact_id"))
    await record(ws, call.agent.user_id, "contact.deleted", "contact", call.path("contact_id"))


def canned_out(c: CannedResponse) -> CannedOut:
    return CannedOut(id=str(c.id), shortcut=c.shortcut, title=c.title, body=c.body)


@api.op(
    "GET",
    "/canned-responses",
    summary="All canned responses",
    tag="canned",
    response=list[CannedOut],
)
async def list_canned(call: Call) -> list[CannedOut]:
    ws = require_id(call.agent.workspace_id, "workspace")
    return [canned_out(c) for c in await canned.list_canned(ws)]


@api.op(
    "POST",
    "/canned-responses",
    summary="Create a canned response (supervisor)",
    tag="canned",
    body=CannedIn,
    response=CannedOut,
    status=201,
    errors=(403, 409, 422),
)
async def create_canned(call: Call) -> CannedOut:
    call.agent.require(Action.MANAGE_CANNED)
    body: CannedIn = call.body
    ws = require_id(call.agent.workspace_id, "workspace")
    return canned_out(
        await canned_actions.create_canned(
            ws, shortcut=body.shortcut, title=body.title, body=body.body
        )
    )


@api.op(
    "PATCH",
    "/canned-responses/{canned_id}",
    summary="Change a canned response",
    tag="canned",
    body=CannedPatch,
    response=CannedOut,
    errors=(403, 404, 409, 422),
)
async def patch_canned(call: Call) -> CannedOut:
    call.agent.require(Action.MANAGE_CANNED)
    changes = {k: v for k, v in msgspec.structs.asdict(call.body).items() if v is not msgspec.UNSET}
    ws = require_id(call.agent.workspace_id, "workspace")
    return canned_out(await canned_actions.change_canned(ws, call.path("canned_id"), changes))


@api.op(
    "DELETE",
    "/canned-responses/{canned_id}",
    summary="Delete a canned response",
    tag="canned",
    status=204,
    errors=(403, 404),
)
async def delete_canned(call: Call) -> None:
    call.agent.require(Action.MANAGE_CANNED)
    ws = require_id(call.agent.workspace_id, "workspace")
    await canned_actions.delete_canned(ws, call.path("canned_id"))
