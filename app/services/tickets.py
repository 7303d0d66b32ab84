"""Reading tickets: one by id, lists with filters, and a ticket's thread. Writes are actions
(app/actions)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from beanie import PydanticObjectId

from app.auth.principal import Principal
from app.documents import Message, Ticket
from app.documents.message import Kind
from app.domain import views
from app.domain.errors import NotFound
from app.domain.views import ACTIVE, ListFilter
from app.schemas.tickets import TicketQuery, line_out, message_out, ticket_out
from app.search.index import SearchIndex
from app.services.ids import require_id
from app.services.search import find_tickets
from app.views.rebuild import request_rebuild
from app.views.store import ViewStore
from realtime.events import MessageView, TicketView

# What reads leave out of a ticket: the outbox is the relay's, the timeline is the thread's.
HIDDEN = {"outbox": 0, "activity": 0}


async def read_ticket(
    workspace_id: PydanticObjectId, ticket_id: PydanticObjectId, *, outbox: bool = False
) -> Ticket:
    """One ticket of the workspace; with its outbox for a write that will add to it."""
    raw = await Ticket.get_pymongo_collection().find_one(
        {"_id": ticket_id, "workspace_id": workspace_id}, {"activity": 0} if outbox else HIDDEN
    )
    if raw is None:
        raise NotFound("no such ticket")
    ticket: Ticket = Ticket.model_validate(raw)
    return ticket


async def get_ticket(workspace_id: str, ticket_id: str) -> Ticket:
    return await read_ticket(require_id(workspace_id, "workspace"), require_id(ticket_id, "ticket"))


# Each order: the fields it sorts by, and which way. Newest/oldest page by `_id` (creation);
# "updated" puts the most recently active first (a customer writing again brings an old
# ticket up); "waiting" lists the tickets waiting for a reply, longest first.
ORDERS: dict[str, tuple[str | None, int]] = {
    "newest": (None, -1),
    "oldest": (None, 1),
    "updated": ("updated_at", -1),
    "waiting": ("waiting_since", 1),
}


def page_cursor(ticket: Ticket, order: str) -> str:
    field, _ = ORDERS[order]
    if field is None:
        return str(ticket.id)
    moment: datetime | None = getattr(ticket, field)
    assert moment is not None
    return f"{round(moment.timestamp() * 1000)}.{ticket.id}"


def after_cursor(cursor: str, order: str) -> dict[str, Any]:
    """The query condition for "after this cursor" in `order`; a malformed cursor is 404
    like any id that does not exist."""
    field, direction = ORDERS[order]
    op = "$gt" if direction > 0 else "$lt"
    if field is None:
        return {"_id": {op: require_id(cursor, "cursor")}}
    ms, _, oid = cursor.partition(".")
    if not ms.isdigit():
        raise NotFound("no such cursor")
    moment = datetime.fromtimestamp(int(ms) / 1000, UTC)
    last = require_id(oid, "cursor")
    return {"$or": [{field: {op: moment}}, {field: moment, "_id": {op: last}}]}


def ticket_number(text: str) -> int | None:
    """The ticket number that "#123" or "123" names: plain digits 0-9, as many as a
    workspace's numbers can have (more is no number at all, so it matches nothing rather than
    overflow the store's 64-bit integers)."""
    digits = text.strip().lstrip("#")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        return None
    return int(digits)


def build_filter(principal: Principal, q: TicketQuery) -> dict[str, Any]:
    query: dict[str, Any] = {"workspace_id": require_id(principal.workspace_id, "workspace")}
    if q.status == "active":
        query["status"] = {"$in": [s.value for s in ACTIVE]}
    elif q.status is not None:
        query["status"] = q.status
    if q.assignee == "me":
        query["assignee_id"] = principal.user_id
    elif q.assignee == "unassigned":
        query["assignee_id"] = None
    elif q.assignee:
        query["assignee_id"] = q.assignee
    if q.team:
        query["team_id"] = q.team
    if q.tag:
        query["tags"] = q.tag.strip().lower()
    if q.channel is not None:
        query["channel"] = q.channel.value
    if q.contact:
        query["contact_id"] = require_id(q.contact, "contact")
    if q.order == "waiting":
        query["waiting_since"] = {"$ne": None}
    both: list[dict[str, Any]] = []
    if q.text:
        text = q.text.strip()
        ors: list[dict[str, Any]] = [{"subject": {"$regex": re.escape(text), "$options": "i"}}]
        number = ticket_number(text)
        if number is not None:
            ors.append({"number": number})
        both.append({"$or": ors})
    if q.cursor:
        both.append(after_cursor(q.cursor, q.order))
    if both:
        query["$and"] = both
    return query


async def list_tickets(
    principal: Principal,
    q: TicketQuery,
    views: ViewStore | None = None,
    index: SearchIndex | None = None,
) -> tuple[list[TicketView], str | None]:
    """A page of the list. Words go to the search index (best match first); the inbox
    views answer the rest (app/views); a contact filter, or views or an index still being
    rebuilt, read the store."""
    if q.text and q.text.strip() and views is not None and index is not None and not q.contact:
        wanted = view_filter(principal, q)
        found = await find_tickets(index, views, principal.workspace_id, q, wanted)
        if found is not None:
            return found
    if views is not None and not q.text and not q.contact:
        if await views.is_built(principal.workspace_id):
            return await _from_views(views, principal, q)
        await request_rebuild(views, principal.workspace_id)
    return await _from_store(principal, q)


def view_filter(principal: Principal, q: TicketQuery) -> ListFilter:
    assignee = q.assignee
    if assignee == "me":
        assignee = principal.user_id
    elif assignee == "unassigned":
        assignee = views.NONE
    return ListFilter(
        status=q.status,
        assignee=assignee or None,
        team=q.team or None,
        tag=q.tag.strip().lower() if q.tag else None,
        channel=q.channel.value if q.channel else None,
        order=q.order,
    )


async def _from_views(
    store: ViewStore, principal: Principal, q: TicketQuery
) -> tuple[list[TicketView], str | None]:
    cursor = views.parse_cursor(q.cursor) if q.cursor else None
    wanted = view_filter(principal, q)
    items, after = await store.page(principal.workspace_id, wanted, cursor, q.limit)
    return items, str(after) if after else None


async def _from_store(principal: Principal, q: TicketQuery) -> tuple[list[TicketView], str | None]:
    query = build_filter(principal, q)
    field, direction = ORDERS[q.order]
    sort = [("_id", direction)] if field is None else [(field, direction), ("_id", direction)]
    raw = await (
        Ticket.get_pymongo_collection().find(query, HIDDEN).sort(sort).limit(q.limit + 1).to_list()
    )
    tickets = [Ticket.model_validate(r) for r in raw[: q.limit]]
    cursor = page_cursor(tickets[-1], q.order) if len(raw) > q.limit else None
    return [ticket_out(t) for t in tickets], cursor


async def messages_of(
    ticket: Ticket, *, include_notes: bool = True, limit: int = 1000
) -> list[MessageView]:
    """The ticket's replies and, unless left out, its notes, oldest first."""
    query: dict[str, Any] = {"workspace_id": ticket.workspace_id, "ticket_id": ticket.id}
    if not include_notes:
        query["kind"] = Kind.MESSAGE.value
    raw = await (
        Message.get_pymongo_collection()
        .find(query, {"outbox": 0})
        .sort("_id", 1)
        .limit(limit)
        .to_list()
    )
    return [message_out(Message.model_validate(r)) for r in raw]


async def detail(
    workspace_id: str, ticket_id: str, *, limit: int = 1000
) -> tuple[Ticket, list[MessageView]]:
    """A ticket and its whole thread for agents — replies, notes and the timeline lines it
    keeps, oldest first — in two reads."""
    raw = await Ticket.get_pymongo_collection().find_one(
        {
            "_id": require_id(ticket_id, "ticket"),
            "workspace_id": require_id(workspace_id, "workspace"),
        },
        {"outbox": 0},
    )
    if raw is None:
        raise NotFound("no such ticket")
    ticket: Ticket = Ticket.model_validate(raw)
    lines = [line_out(str(ticket.id), line) for line in ticket.activity]
    messages = await messages_of(ticket, limit=limit)
    return ticket, sorted(messages + lines, key=lambda m: (m.created_at or "", m.id))[-limit:]
