"""Finding tickets and contacts by their words, through the keyword index (app/search).

Tickets match on their subject and their messages' text (notes included: only agents
search), contacts on name, email, phone and WhatsApp id; best match first. A ticket list's
other filters (status, assignee, tag...) are checked on each hit's snapshot from the inbox
views, so a page may take a few rounds of hits to fill. While a workspace's index is being
rebuilt, tickets are matched on their subject in the store instead.
"""

from __future__ import annotations

import asyncio

from beanie import PydanticObjectId

from app.documents import Contact, Ticket
from app.domain import views
from app.schemas.tickets import TicketQuery, ticket_out
from app.search.index import CONTACT, TICKET, SearchIndex
from app.services.ids import require_id
from app.views.rebuild import request_reindex
from app.views.store import ViewStore
from realtime.events import TicketView

ROUNDS = 5  # rounds of hits a filtered page may take before it comes back short


async def ticket_by_number(ws: str, text: str) -> TicketView | None:
    """ "#123" or "123" names a ticket by number."""
    digits = text.strip().lstrip("#")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:
        return None
    raw = await Ticket.get_pymongo_collection().find_one(
        {"workspace_id": require_id(ws, "workspace"), "number": int(digits)},
        {"outbox": 0, "activity": 0},
    )
    return ticket_out(Ticket.model_validate(raw)) if raw else None


async def _tickets(store: ViewStore, ws: str, ids: list[str]) -> list[TicketView]:
    if await store.is_built(ws):
        return await store.snapshots(ws, ids)
    oid = require_id(ws, "workspace")
    found = await asyncio.gather(
        *(
            Ticket.get_pymongo_collection().find_one(
                {"_id": PydanticObjectId(i), "workspace_id": oid}
            )
            for i in ids
        )
    )
    return [ticket_out(Ticket.model_validate(raw)) for raw in found if raw]


async def find_tickets(
    index: SearchIndex, store: ViewStore, ws: str, q: TicketQuery, wanted: views.ListFilter
) -> tuple[list[TicketView], str | None] | None:
    """A page of the tickets matching `q.text` and the rest of `q`, best first; None when
    the index is not ready (the caller reads the store)."""
    if not await index.is_built(ws):
        await request_reindex(index.redis, ws)
        return None
    assert q.text is not None
    found: list[TicketView] = []
    cursor = q.cursor
    if cursor is None:
        numbered = await ticket_by_number(ws, q.text)
        if numbered is not None and views.matches(numbered, wanted):
            found.append(numbered)
    if q.text.strip().startswith("#") and q.text.strip()[1:].isdigit():
        return found, None  # "#42" is a ticket number, not a word
    for _ in range(ROUNDS):
        hits, cursor = await index.search(
            ws, q.text, kind=TICKET, cursor=cursor, limit=q.limit - len(found)
        )
        seen = {t.id for t in found}
        tickets = await _tickets(store, ws, [h.id for h in hits if h.id not in seen])
        found += [t for t in tickets if views.matches(t, wanted)]
        if len(found) >= q.limit or cursor is None:
            break
    return found, cursor


async def find_contacts(
    index: SearchIndex, ws: PydanticObjectId, q: str, cursor: str | None, limit: int
) -> tuple[list[Contact], str | None] | None:
    """A page of the contacts matching `q`, best first; None when the index is not ready."""
    if not await index.is_built(str(ws)):
        await request_reindex(index.redis, str(ws))
        return None
    hits, after = await index.search(str(ws), q, kind=CONTACT, cursor=cursor, limit=limit)
    found = await asyncio.gather(
        *(
            Contact.find_one(Contact.id == PydanticObjectId(h.id), Contact.workspace_id == ws)
            for h in hits
        )
    )
    return [c for c in found if c is not None], after
