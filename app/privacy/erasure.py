"""Erasing one person: nothing that identifies them is left anywhere Tandem keeps data.

What happens, in an order that makes a retry safe after a failure at any point:

1. An anonymous contact ("Erased contact", no identifiers) is made, and the person's contact
   records it (`erased_into`), so a retry moves their conversations to the same one.
2. Their traces in Redis go (app/privacy/traces.py): the replay log's events about them, jobs
   about them, kept API answers that show them. Done first, while everything that recognises
   them is still in the store, and once more at the end for what arrived meanwhile.
3. What they wrote is deleted (their messages, with their files). What the team wrote stays,
   with their identifiers, their name and anything they wrote that it quotes replaced by
   `[erased]`. Each conversation moves to the anonymous contact with the subject
   "Erased conversation", so it still counts in every report; its timeline lines are
   rewritten the same way; its outbox is emptied of events that showed the old state.
4. The projections follow: each conversation's search entry is rebuilt, its list row shows
   the new subject and the team's last reply, the mentions of rewritten notes are replaced.
5. Until their contact is gone they can still write (an email, their widget): steps 2-4 run
   again for what arrived meanwhile, up to `ROUNDS` times.
6. Their identifiers in other people's conversations (a note "same customer as carla@…")
   are replaced as well; their name is not looked for there, where it may be somebody else's.
7. Their contact goes, last: its identifiers are what a retry starts from. Their widget's
   visitor tokens then name no contact, so they open nothing (and the route closes its
   sockets).

A second run on a contact already erased finds no contact: 404, as for any unknown id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import msgspec
import redis.asyncio as aioredis
from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.actions.base import Deps, stamp
from app.actions.contacts import create_contact
from app.blobs.store import BlobStore
from app.documents import Contact, Message, Ticket
from app.outbox import lock_name
from app.privacy.redact import Redactor, store_pattern
from app.privacy.subject import ERASED_NAME, ERASED_SUBJECT, Subject, gather
from app.privacy.traces import forget_in_redis
from app.schemas.tickets import message_out, ticket_out
from app.search.index import CONTACT, TICKET, DocUpdate, FieldText, message_field, ticket_fields
from app.search.index import epoch as search_epoch
from app.services.contacts import get_contact
from app.services.text import text_to_html
from app.views.store import row_preview
from realtime.events import (
    Actor,
    Kind,
    PreviousValues,
    TicketUpdated,
    TicketUpdatedData,
    event_to_document,
)

log = logging.getLogger("tandem.privacy")

ROUNDS = 3
UPLOAD_KEYS = "tandem:upload:*"


class ErasureOut(msgspec.Struct):
    """What an erasure did, in counts: nothing of the person is in it."""

    contact_id: str  # the anonymous contact their conversations now belong to
    tickets: int  # conversations kept, anonymized
    messages_deleted: int  # what they wrote
    messages_redacted: int  # the team's messages that named or quoted them
    files_deleted: int
    events_forgotten: int  # replay-log events about them
    jobs_discarded: int


@dataclass
class _Run:
    deps: Deps
    redis: aioredis.Redis
    subject: Subject
    actor: Actor
    replacement: PydanticObjectId
    published: set[str]

    @property
    def ws(self) -> str:
        return str(self.subject.workspace_id)


async def erase_contact(
    deps: Deps, redis: aioredis.Redis, ws: PydanticObjectId, contact_id: str, actor: Actor
) -> ErasureOut:
    contact = await get_contact(ws, contact_id)
    replacement = await _replacement(deps, ws, contact, actor)
    contact.erased_into = replacement
    subject = await gather(ws, contact)
    run = _Run(deps, redis, subject, actor, replacement, set())
    out = ErasureOut(str(replacement), len(subject.tickets), 0, 0, 0, 0, 0)
    for _ in range(ROUNDS):
        await _erase_round(run, out)
        # Until their contact is gone they can still write (an email, their widget): what
        # arrived meanwhile is erased in another round.
        again = await gather(ws, contact)
        again.traces.merge(run.subject.traces)
        run.subject = again
        if not _dirty(run, again):
            break
    else:
        log.warning("contact %s of workspace %s kept writing during its erasure", contact_id, ws)
    out.messages_redacted += await _scrub_elsewhere(run)
    await _drop_contact(run)
    last = await forget_in_redis(redis, deps.relay.broker, run.subject, run.published)
    out.tickets = len(run.subject.tickets)
    out.events_forgotten += last.events
    out.jobs_discarded += last.jobs
    return out


def _dirty(run: _Run, subject: Subject) -> bool:
    """Whether anything of theirs is left: a message, or a conversation not yet moved."""
    return bool(subject.theirs) or any(
        t.contact_id != run.replacement or t.subject != ERASED_SUBJECT for t in subject.tickets
    )


async def _erase_round(run: _Run, out: ErasureOut) -> None:
    forgotten = await forget_in_redis(run.redis, run.deps.relay.broker, run.subject, run.published)
    out.events_forgotten += forgotten.events
    out.jobs_discarded += forgotten.jobs
    out.files_deleted += await _delete_files(run)
    out.messages_redacted += await _rewrite_team_messages(run)
    out.messages_deleted += await _delete_their_messages(run)
    for ticket in run.subject.tickets:
        theirs = any(m.ticket_id == ticket.id for m in run.subject.theirs)
        if theirs or ticket.contact_id != run.replacement or ticket.subject != ERASED_SUBJECT:
            await _anonymize_ticket(run, ticket)


async def _replacement(
    deps: Deps, ws: PydanticObjectId, contact: Contact, actor: Actor
) -> PydanticObjectId:
    """The anonymous contact the person's conversations move to: the one an earlier attempt
    made, else a new one (of two attempts at once, the first to record theirs wins)."""
    if contact.erased_into is not None:
        return contact.erased_into
    made = await create_contact(
        deps, ws, actor=actor, name=ERASED_NAME, identifiers={}, custom_attributes={}
    )
    assert made.id is not None
    raw = await Contact.get_pymongo_collection().find_one_and_update(
        {"_id": contact.id, "workspace_id": ws, "erased_into": {"$exists": False}},
        {"$set": {"erased_into": made.id}},
        return_document=ReturnDocument.AFTER,
    )
    if raw is not None:
        return made.id
    await Contact.get_pymongo_collection().delete_one({"_id": made.id})
    if deps.search is not None:
        await deps.search.remove(str(ws), CONTACT, str(made.id))
    if deps.views is not None:
        await deps.views.drop_names(str(ws), [str(made.id)])
    winner = await get_contact(ws, str(contact.id))
    assert winner.erased_into is not None
    return winner.erased_into


async def _delete_files(run: _Run) -> int:
    """The files they sent, and the ones they uploaded in the widget and never sent."""
    blobs: BlobStore | None = run.deps.blobs
    if blobs is None:
        return 0
    ids = {a.blob_id for m in run.subject.theirs for a in m.attachments if a.blob_id}
    uploader = f"contact:{run.subject.contact.id}".encode()
    async for key in run.redis.scan_iter(match=UPLOAD_KEYS, count=500):
        if await run.redis.get(key) == uploader:
            ids.add(key.decode().rsplit(":", 1)[1])
            await run.redis.delete(key)
    deleted = 0
    for blob_id in sorted(ids):
        deleted += await blobs.delete(run.ws, blob_id)
        await run.redis.delete(f"tandem:upload:{blob_id}")
    return deleted


async def _rewrite_team_messages(run: _Run) -> int:
    """The team's messages with the person taken out of their text; answers how many
    changed. Every one loses its outbox: its events showed the conversation as it was."""
    redactor = Redactor(run.subject.traces)
    messages = Message.get_pymongo_collection()
    changed = 0
    for message in run.subject.team:
        text = redactor.text(message.text)
        update: dict[str, Any] = {"outbox": []}
        if text != message.text:
            changed += 1
            update["text"] = text
            update["html"] = text_to_html(text)
            message.text, message.html = text, update["html"]
        if message.delivery_error:
            update["delivery_error"] = redactor.text(message.delivery_error)
        if message.template:
            update["template"] = redactor.value(message.template)
        attachments = [a.model_dump() for a in message.attachments]
        for a in attachments:
            a["filename"] = redactor.text(a["filename"])
        update["attachments"] = attachments
        await messages.update_one(
            {"_id": message.id, "workspace_id": run.subject.workspace_id}, {"$set": update}
        )
    mentions = run.deps.views.mentions if run.deps.views is not None else None
    if mentions is not None:
        notes = [m for m in run.subject.team if m.kind is Kind.NOTE]
        await mentions.forget(run.ws, {str(m.id) for m in notes})
        for note in notes:
            if note.mentions:
                await mentions.add(run.ws, message_out(note))
    return changed


async def _scrub_elsewhere(run: _Run) -> int:
    """Their identifiers (address, phone, ids) in other people's conversations — a note
    "same customer as carla@…" — replaced too; their name is not looked for there, where it
    may well be somebody else's. One pass over the workspace's messages, in the store."""
    traces = run.subject.traces.identifying_only()
    pattern = store_pattern(traces)
    if pattern is None:
        return 0
    redactor = Redactor(traces)
    messages = Message.get_pymongo_collection()
    query = {
        "workspace_id": run.subject.workspace_id,
        "ticket_id": {"$nin": [t.id for t in run.subject.tickets]},
        "text": {"$regex": pattern, "$options": "i"},
    }
    changed = 0
    async for raw in messages.find(query, {"outbox": 0}):
        message = Message.model_validate(raw)
        text = redactor.text(message.text)
        if text == message.text:
            continue
        html = text_to_html(text)
        await messages.update_one(
            {"_id": message.id, "workspace_id": run.subject.workspace_id},
            {"$set": {"text": text, "html": html, "outbox": []}},
        )
        message.text, message.html = text, html
        changed += 1
        await _reproject_message(run, message)
    return changed


async def _reproject_message(run: _Run, message: Message) -> None:
    """One rewritten message of another conversation: its search field, its mentions, and
    its list row's last message if it is that one."""
    shown = message_out(message)
    if run.deps.search is not None:
        field = message_field(shown.id, message.kind, message.text)
        if field is not None:
            await run.deps.search.index(run.ws, [DocUpdate(TICKET, shown.ticket_id, [field])])
    views = run.deps.views
    if views is None:
        return
    if message.kind is Kind.NOTE:
        await views.mentions.forget(run.ws, {shown.id})
        if message.mentions:
            await views.mentions.add(run.ws, shown)
    preview = row_preview(shown)
    last = await Message.get_pymongo_collection().find_one(
        {
            "workspace_id": run.subject.workspace_id,
            "ticket_id": message.ticket_id,
            "kind": "message",
        },
        {"_id": 1},
        sort=[("_id", -1)],
    )
    ticket = await Ticket.get(message.ticket_id)
    if preview is not None and last is not None and last["_id"] == message.id and ticket:
        await views.replace_preview(run.ws, shown.ticket_id, ticket.rev, preview)


async def _delete_their_messages(run: _Run) -> int:
    ids = [m.id for m in run.subject.theirs]
    if not ids:
        return 0
    done = await Message.get_pymongo_collection().delete_many(
        {"_id": {"$in": ids}, "workspace_id": run.subject.workspace_id}
    )
    return int(done.deleted_count)


def _line(line: dict[str, Any], redactor: Redactor, replacement: str) -> dict[str, Any]:
    out = {**line, "text": redactor.text(str(line.get("text", "")))}
    actor = line.get("actor") or {}
    if actor.get("kind") == "contact":
        out["actor"] = {"kind": "contact", "id": replacement, "name": None}
    return out


async def _anonymize_ticket(run: _Run, ticket: Ticket) -> None:
    """The conversation moved to the anonymous contact, subject and timeline rewritten, and
    its projections with it."""
    redactor = Redactor(run.subject.traces)
    ws = run.subject.workspace_id
    async with run.deps.relay.locks.hold(lock_name(Ticket, ticket.id)):
        current = await Ticket.get(ticket.id)
        if current is None:
            return
        changed_by = {"kind": run.actor.kind, "id": run.actor.id, "name": run.actor.name}
        fields: dict[str, Any] = {
            "subject": ERASED_SUBJECT,
            "contact_id": run.replacement,
            "activity": [_line(x, redactor, str(run.replacement)) for x in current.activity],
            "version": current.version + 1,
            "rev": current.rev + 1,
            "changed_by": changed_by,
        }
        after = current.model_copy(update=fields)
        event = stamp(
            TicketUpdated,
            ws=ws,
            actor=run.actor,
            ticket=ticket.id,
            data=TicketUpdatedData(
                ticket=ticket_out(after),
                changed=["subject", "contact_id"],
                previous=PreviousValues(),
            ),
        )
        # Whatever the outbox held showed the person: it goes unpublished, replaced by this.
        await run.deps.relay.mark(Ticket, ticket.id, event)
        fields["outbox"] = [event_to_document(event)]
        await Ticket.get_pymongo_collection().update_one(
            {"_id": ticket.id, "workspace_id": ws}, {"$set": fields}
        )
    run.published.add(event.id)
    await _reproject(run, after)
    await run.deps.relay.publish([event])


async def _reproject(run: _Run, ticket: Ticket) -> None:
    """The conversation's search entry rebuilt from what is left, and its row's last message
    the team's last reply (the event moves the row itself)."""
    tid = str(ticket.id)
    team = [m for m in run.subject.team if m.ticket_id == ticket.id]
    if run.deps.search is not None:
        await run.deps.search.remove(run.ws, TICKET, tid)
        fields: list[FieldText] = ticket_fields(ticket_out(ticket))
        fields += [f for m in team if (f := message_field(str(m.id), m.kind, m.text)) is not None]
        update = DocUpdate(TICKET, tid, fields, search_epoch(ticket.created_at))
        await run.deps.search.index(run.ws, [update])
    if run.deps.views is not None:
        previews = [p for m in team if (p := row_preview(message_out(m))) is not None]
        await run.deps.views.replace_preview(
            run.ws, tid, ticket.rev, previews[-1] if previews else None
        )


async def _drop_contact(run: _Run) -> None:
    cid = str(run.subject.contact.id)
    async with run.deps.relay.locks.hold(lock_name(Contact, run.subject.contact.id)):
        await Contact.get_pymongo_collection().delete_one(
            {"_id": run.subject.contact.id, "workspace_id": run.subject.workspace_id}
        )
    if run.deps.search is not None:
        await run.deps.search.remove(run.ws, CONTACT, cid)
    if run.deps.views is not None:
        await run.deps.views.drop_names(run.ws, [cid])
    log.info("contact %s of workspace %s erased", cid, run.ws)
