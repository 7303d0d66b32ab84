"""A person's rights over their data: an export of everything about a contact, and its
erasure (admins). Correction is `PATCH /contacts/{id}`."""

from __future__ import annotations

import logging
from typing import Literal

import msgspec
from starlette.responses import Response, StreamingResponse

from app.actions.base import agent_actor
from app.api.endpoint import Api, Call
from app.domain.roles import Action
from app.live.endings import end_live_access
from app.privacy.erasure import ErasureOut, erase_contact
from app.privacy.export import build_export, zip_stream
from app.privacy.subject import gather
from app.services.audit import record
from app.services.contacts import get_contact
from app.services.ids import require_id

log = logging.getLogger("tandem.privacy")
api = Api()
P = "privacy"


class ExportQuery(msgspec.Struct, forbid_unknown_fields=True):
    # The team's private notes too: left out unless asked for (see app/privacy/export.py).
    include_notes: bool = False


class ErasureIn(msgspec.Struct, forbid_unknown_fields=True):
    confirm: Literal["erase"]  # erasure cannot be undone: the caller says so in words


@api.op(
    "GET",
    "/contacts/{contact_id}/export",
    summary=(
        "Everything about a contact as a zip (application/zip): export.json (the contact, "
        "their conversations with every message exchanged, notes if asked) and their files "
        "under attachments/ (admin)"
    ),
    tag=P,
    query=ExportQuery,
    errors=(403, 404, 422),
)
async def export_contact(call: Call) -> Response:
    call.agent.require(Action.EXPORT_PERSONAL_DATA)
    q: ExportQuery = call.query
    ws = require_id(call.agent.workspace_id, "workspace")
    contact = await get_contact(ws, call.path("contact_id"))
    subject = await gather(ws, contact)
    blobs = call.runtime.deps.blobs
    document, files = await build_export(subject, blobs, notes=q.include_notes)
    await record(
        ws,
        call.agent.user_id,
        "contact.exported",
        "contact",
        str(contact.id),
        ticket_ids=[str(t.id) for t in subject.tickets],
        files=len(files),
        notes_included=q.include_notes,
    )
    headers = {
        "Content-Disposition": f'attachment; filename="contact-{contact.id}.zip"',
        "Cache-Control": "no-store",
    }
    return StreamingResponse(
        zip_stream(ws, document, files, blobs), media_type="application/zip", headers=headers
    )


@api.op(
    "POST",
    "/contacts/{contact_id}/erase",
    summary=(
        "Erase a contact for good: their identifiers, name and messages everywhere Tandem "
        "keeps data; their conversations stay, anonymized (admin)"
    ),
    tag=P,
    body=ErasureIn,
    response=ErasureOut,
    errors=(403, 404, 422),
)
async def erase_contact_data(call: Call) -> ErasureOut:
    call.agent.require(Action.ERASE_PERSONAL_DATA)
    ws = require_id(call.agent.workspace_id, "workspace")
    contact_id = call.path("contact_id")
    done = await erase_contact(
        call.runtime.deps, call.runtime.redis, ws, contact_id, agent_actor(call.agent)
    )
    # Their widget's sockets close on every process; their visitor tokens name no contact.
    await end_live_access(call.runtime.relay.broker, str(ws), user=contact_id)
    await record(
        ws,
        call.agent.user_id,
        "contact.erased",
        "contact",
        contact_id,
        into=done.contact_id,
        tickets=done.tickets,
        messages_deleted=done.messages_deleted,
        files_deleted=done.files_deleted,
    )
    log.info("workspace %s: contact %s erased by %s", ws, contact_id, call.agent.user_id)
    return done
