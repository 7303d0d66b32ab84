"""Notes that mention me, newest first (the app's #/mentions page)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from beanie import PydanticObjectId

from app.api.endpoint import Api, Call
from app.documents import Ticket
from app.domain.errors import Invalid
from app.domain.roles import Action
from app.schemas.common import Page
from app.views.mentions import parse_mention_cursor

api = Api()


class MentionQuery(msgspec.Struct, forbid_unknown_fields=True):
    cursor: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20


class MentionOut(msgspec.Struct):
    message_id: str
    ticket_id: str
    ticket_number: int
    ticket_subject: str
    author_name: str | None
    text: str  # the note, shortened to a few lines
    created_at: str | None


class MentionPage(Page, kw_only=True):
    items: list[MentionOut]


@api.op(
    "GET",
    "/mentions",
    summary="Private notes that mention me, newest first",
    tag="tickets",
    query=MentionQuery,
    response=MentionPage,
    errors=(422,),
)
async def list_mentions(call: Call) -> MentionPage:
    principal = call.agent
    principal.require(Action.WORK_TICKETS)
    q: MentionQuery = call.query
    cursor = None
    if q.cursor:
        cursor = parse_mention_cursor(q.cursor)
        if cursor is None:
            raise Invalid("not a cursor this list gave", field="cursor")
    ws = principal.workspace_id
    views = call.runtime.views
    entries, after = await views.mentions.page(ws, principal.user_id, cursor, q.limit)
    tickets = await _tickets(call, sorted({e.t for e in entries}))
    items = [
        MentionOut(e.m, e.t, t[0], t[1], e.a, e.x, e.at)
        for e in entries
        if (t := tickets.get(e.t)) is not None  # a ticket deleted since is left out
    ]
    return MentionPage(items=items, next_cursor=str(after) if after else None)


async def _tickets(call: Call, ids: list[str]) -> dict[str, tuple[int, str]]:
    """Number and subject of a page's tickets, read from the inbox views (by id), or from
    the store by id while the views are being rebuilt."""
    ws = call.agent.workspace_id
    views = call.runtime.views
    if await views.is_built(ws):
        return {t.id: (t.number, t.subject) for t in await views.snapshots(ws, ids)}
    found: dict[str, tuple[int, str]] = {}
    for tid in ids:
        raw = await Ticket.get_pymongo_collection().find_one(
            {"_id": PydanticObjectId(tid), "workspace_id": PydanticObjectId(ws)},
            {"number": 1, "subject": 1},
        )
        if raw is not None:
            found[tid] = (int(raw["number"]), str(raw["subject"]))
    return found
