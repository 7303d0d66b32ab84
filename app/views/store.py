"""The inbox views in Redis, kept with the events: lists and counts without scanning the store.

Keys of a workspace share its hash tag, like the broker's:

    tandem:{ws:<id>}:v:<view>       sorted set of ticket ids (app/domain/views.py names them)
    tandem:{ws:<id>}:v:#counts      hash: view name -> size, for the `n:` views
    tandem:{ws:<id>}:v:@<ticket>    hash: r = the ticket's write counter (`rev`), p = its
                                    placements, s = its list snapshot (TicketView JSON),
                                    m = its last public message as the row shows it, with
                                    mr = the `rev` that message gave the ticket
    tandem:{ws:<id>}:v:#names       hash: contact id -> the name a list row shows
    tandem:{ws:<id>}:v:#built       set once the views hold every ticket of the workspace

Every ticket event carries the ticket as it is after the write; `apply` moves the ticket's
placements from the old to the new in one script, and only if the event's `rev` is newer
than the one applied last — so an event applied twice (an outbox retry) or late (a slower
writer, a rebuild racing a write) changes nothing. The relay applies it before it publishes
the event, so a client that sees an event finds the views already showing it.

Lists read the ids of one view, in order from a cursor, and the rows of those tickets (the
snapshot, the last message, the contact's name): three Redis round trips a page, whatever the
workspace holds. A list whose filter needs more
than one set walks the smallest and checks the rest on each snapshot, for at most
`SCAN_BUDGET` tickets a page (a page may then come back short, with a cursor to go on).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec
import redis.asyncio as aioredis

from app.documents.common import utcnow
from app.domain import views
from app.domain.views import Cursor, ListFilter
from app.schemas.tickets import TicketRow, preview_of
from app.views.mentions import MentionStore
from realtime.events import (
    ContactCreated,
    ContactUpdated,
    ContactView,
    Direction,
    Event,
    Kind,
    MessageCreated,
    MessageView,
    TicketCreated,
    TicketUpdated,
    TicketView,
)

log = logging.getLogger("tandem.views")

SCAN_BUDGET = 2_000
DAY_TTL = (views.DAYS_KEPT + 1) * 86_400
FIELD, ENTRY = "\x1f", "\x1e"

# KEYS: the ticket's record, the counts hash. ARGV: rev, snapshot, the views' key prefix, the
# day views' TTL, the ticket's id, then (view, member, score) triples. Day views are not
# counted. The record lists each placement as "view" when its member is the ticket's id (all
# but one), else "view<US>member".
APPLY_LUA = """
local current = redis.call('HGET', KEYS[1], 'r')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
local prefix, own = ARGV[3], ARGV[5]
local wanted = {}
for i = 6, #ARGV, 3 do wanted[ARGV[i]] = ARGV[i + 1] end
local old = redis.call('HGET', KEYS[1], 'p') or ''
for entry in string.gmatch(old, '[^\\30]+') do
  local view, member = string.match(entry, '^(.-)\\31(.*)$')
  if not view then view, member = entry, own end
  if wanted[view] ~= member then
    local removed = redis.call('ZREM', prefix .. view, member)
    if removed == 1 and string.sub(view, 1, 2) == 'n:' then
      if redis.call('HINCRBY', KEYS[2], view, -1) <= 0 then redis.call('HDEL', KEYS[2], view) end
    end
  end
end
local parts = {}
for i = 6, #ARGV, 3 do
  local view, member, score = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local added = redis.call('ZADD', prefix .. view, score, member)
  if added == 1 and string.sub(view, 1, 2) == 'n:' then redis.call('HINCRBY', KEYS[2], view, 1) end
  if string.sub(view, 1, 2) == 'd:' then redis.call('EXPIRE', prefix .. view, ARGV[4]) end
  if member ~= own then view = view .. '\\31' .. member end
  parts[#parts + 1] = view
end
redis.call('HSET', KEYS[1], 'r', ARGV[1], 'p', table.concat(parts, '\\30'), 's', ARGV[2])
return 1
"""

# KEYS: the ticket's record. ARGV: the rev the message gave the ticket, the row's preview.
# An older message arriving late (an outbox retry) leaves a newer preview alone.
PREVIEW_LUA = """
local current = redis.call('HGET', KEYS[1], 'mr')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'mr', ARGV[1], 'm', ARGV[2])
return 1
"""


class Preview(msgspec.Struct):
    t: str
    f: Literal["customer", "agent"]


_encode = msgspec.json.Encoder().encode
_decode_row = msgspec.json.Decoder(TicketRow).decode
_decode_preview = msgspec.json.Decoder(Preview).decode


def ticket_of(event: Event) -> TicketView | None:
    """The ticket an event shows as it is after the write, if it shows one."""
    if isinstance(event, TicketCreated | TicketUpdated | MessageCreated):
        return event.data.ticket
    return None


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def contact_label(contact: ContactView) -> str | None:
    """The name a list row shows for a contact: their name, else how they wrote in."""
    return contact.name or contact.email or contact.phone or contact.whatsapp_id


def row_preview(message: MessageView) -> Preview | None:
    """What a list row shows of a message: customers' messages and replies, not notes."""
    if message.kind is not Kind.MESSAGE:
        return None
    return Preview(
        preview_of(message), "customer" if message.direction is Direction.IN else "agent"
    )


class ViewStore:
    def __init__(self, redis: aioredis.Redis, *, prefix: str = "tandem") -> None:
        self.redis = redis
        self._prefix = prefix
        self._apply = redis.register_script(APPLY_LUA)
        self._preview = redis.register_script(PREVIEW_LUA)
        self.mentions = MentionStore(redis, prefix=prefix)

    def key(self, ws: str, part: str) -> str:
        return f"{self._prefix}:{{ws:{ws}}}:v:{part}"

    # ---- keeping them -----------------------------------------------------------------------

    async def project(self, events: Sequence[Event]) -> None:
        """Apply what `events` show of their tickets (the relay calls this before publishing)."""
        now = utcnow()
        for event in events:
            ticket = ticket_of(event)
            if ticket is not None:
                await self.apply(event.ws, ticket, now)
            if isinstance(event, MessageCreated):
                message = event.data.message
                preview = row_preview(message)
                if preview is not None:
                    await self.set_preview(
                        event.ws, event.data.ticket.id, event.data.ticket.rev, preview
                    )
                if message.kind is Kind.NOTE and message.mentions:
                    await self.mentions.add(event.ws, message)
            elif isinstance(event, ContactCreated | ContactUpdated):
                await self.set_names(event.ws, [event.data.contact])

    async def set_preview(self, ws: str, ticket_id: str, rev: int, preview: Preview) -> None:
        await self._preview(
            keys=[self.key(ws, f"@{ticket_id}")], args=[rev, _encode(preview).decode()]
        )

    async def replace_preview(
        self, ws: str, ticket_id: str, rev: int, preview: Preview | None
    ) -> None:
        """Show `preview` as the ticket's last message from write `rev` on, whatever was shown
        before (a thread whose messages were erased); None shows none."""
        key = self.key(ws, f"@{ticket_id}")
        if preview is None:
            await self.redis.hdel(key, "m", "mr")
        else:
            await self.redis.hset(key, mapping={"mr": rev, "m": _encode(preview).decode()})

    async def drop_names(self, ws: str, contact_ids: Sequence[str]) -> None:
        """Forget the names rows show for these contacts (contacts that no longer exist)."""
        if contact_ids:
            await self.redis.hdel(self.key(ws, "#names"), *contact_ids)

    async def set_names(self, ws: str, contacts: Sequence[ContactView]) -> None:
        names: dict[str | bytes, str | bytes] = {
            c.id: label for c in contacts if (label := contact_label(c))
        }
        if names:
            await self.redis.hset(self.key(ws, "#names"), mapping=names)  # type: ignore[arg-type]

    async def apply(self, ws: str, ticket: TicketView, now: datetime | None = None) -> bool:
        """Move `ticket` to the views its state puts it in, unless a newer write was applied.
        Returns whether anything changed."""
        args = self._apply_args(ws, ticket, now or utcnow())
        done = await self._apply(
            keys=[self.key(ws, f"@{ticket.id}"), self.key(ws, "#counts")], args=args
        )
        return bool(done)

    def _apply_args(self, ws: str, ticket: TicketView, now: datetime) -> list[str | int | float]:
        args: list[str | int | float] = [
            ticket.rev,
            _encode(ticket).decode(),
            self.key(ws, ""),
            DAY_TTL,
            ticket.id,
        ]
        for p in views.placements(ticket, now):
            args += [p.view, p.member, p.score]
        return args

    async def apply_many(self, ws: str, tickets: Sequence[TicketView]) -> None:
        """Apply a batch in one round trip (a rebuild's)."""
        now = utcnow()
        async with self.redis.pipeline(transaction=False) as pipe:
            for ticket in tickets:
                keys = [self.key(ws, f"@{ticket.id}"), self.key(ws, "#counts")]
                await self._apply(keys=keys, args=self._apply_args(ws, ticket, now), client=pipe)
            await pipe.execute()

    async def is_built(self, ws: str) -> bool:
        return bool(await self.redis.exists(self.key(ws, "#built")))

    async def mark_built(self, ws: str) -> None:
        await self.redis.set(self.key(ws, "#built"), "1")

    async def clear(self, ws: str) -> int:
        """Drop every view key of the workspace (a rebuild's first step)."""
        dropped = 0
        batch: list[bytes] = []
        async for key in self.redis.scan_iter(match=_glob(self.key(ws, "*")), count=1000):
            batch.append(key)
            if len(batch) >= 500:
                dropped += await self.redis.unlink(*batch)
                batch = []
        if batch:
            dropped += await self.redis.unlink(*batch)
        return dropped

    # ---- reading them -----------------------------------------------------------------------

    async def counts(self, ws: str) -> dict[str, int]:
        """Every `n:` view's size, by view name."""
        raw = await self.redis.hgetall(self.key(ws, "#counts"))
        return {_text(k): int(v) for k, v in raw.items() if int(v) > 0}

    def _day_keys(self, ws: str, what: str, start: datetime, end: datetime) -> list[str]:
        """The day views (`created`, `resolved`, `answered`) of the UTC dates from `start` up
        to `end`."""
        day, keys = start.astimezone(UTC).date(), []
        while day <= (end - timedelta(milliseconds=1)).astimezone(UTC).date():
            keys.append(self.key(ws, f"d:{day.isoformat()}:{what}"))
            day += timedelta(days=1)
        return keys

    async def day_counts(
        self, ws: str, what: str, spans: Sequence[tuple[datetime, datetime]]
    ) -> list[int]:
        """How many entries of a day view fall in each span: a count per span, whatever the
        day holds."""
        plan = [
            (i, k, s, e) for i, (s, e) in enumerate(spans) for k in self._day_keys(ws, what, s, e)
        ]
        async with self.redis.pipeline(transaction=False) as pipe:
            for _, key, begin, end in plan:
                pipe.zcount(key, views.ms(begin), views.ms(end) - 1)
            found: list[int] = await pipe.execute()
        counts = [0] * len(spans)
        for (index, *_), n in zip(plan, found, strict=True):
            counts[index] += int(n)
        return counts

    async def day_members(self, ws: str, what: str, start: datetime, end: datetime) -> list[str]:
        """The members of a day view from `start` up to `end`."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in self._day_keys(ws, what, start, end):
                pipe.zrange(key, views.ms(start), views.ms(end) - 1, byscore=True)
            found: list[list[Any]] = await pipe.execute()
        return [_text(member) for rows in found for member in rows]

    async def snapshots(self, ws: str, ids: Sequence[str]) -> list[TicketView]:
        """The list rows of `ids` (TicketRow: the ticket, its last message, its contact's
        name), in order, without the ones the views do not hold."""
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for tid in ids:
                pipe.hmget(self.key(ws, f"@{tid}"), ["s", "m"])
            raw: list[list[Any]] = await pipe.execute()
        rows: list[TicketRow] = []
        for snapshot, preview in raw:
            if snapshot is None:
                continue
            row = _decode_row(snapshot)
            if preview is not None:
                shown = _decode_preview(preview)
                row.preview, row.preview_from = shown.t, shown.f
            rows.append(row)
        contacts = sorted({r.contact_id for r in rows if r.contact_id})
        if contacts:
            names = await self.redis.hmget(self.key(ws, "#names"), contacts)
            by_id = {c: _text(n) for c, n in zip(contacts, names, strict=True) if n is not None}
            for row in rows:
                row.contact_name = by_id.get(row.contact_id or "")
        return list(rows)

    async def page(
        self, ws: str, f: ListFilter, cursor: Cursor | None, limit: int
    ) -> tuple[list[TicketView], Cursor | None]:
        """Up to `limit` tickets matching `f` after `cursor`, and the cursor to go on from."""
        prefix = views.ORDER_PREFIX[f.order]
        candidates = views.candidate_sets(f)
        if len(candidates) > 1:
            sizes = await self.redis.hmget(
                self.key(ws, "#counts"), [f"n:{name}" for name in candidates]
            )
            candidates = [min(zip(candidates, sizes, strict=True), key=lambda c: int(c[1] or 0))[0]]
        key = self.key(ws, f"{prefix}:{candidates[0]}")
        desc = views.DESCENDING[f.order]
        found: list[TicketView] = []
        scanned = 0
        last: Cursor | None = None
        async for rows in walk(self.redis, key, desc, cursor, chunk=max(limit * 2, 50)):
            tickets = {t.id: t for t in await self.snapshots(ws, [m for m, _ in rows])}
            for member, score in rows:
                scanned += 1
                last = Cursor(score, member)
                ticket = tickets.get(member)
                if ticket is not None and views.matches(ticket, f):
                    found.append(ticket)
                    if len(found) > limit:
                        # One more than asked exists: the page ends at the one before it.
                        return found[:limit], _cursor_at(found[limit - 1], f.order)
                if scanned >= SCAN_BUDGET and found:
                    break
            if scanned >= SCAN_BUDGET:
                return found, last
        return found, None


def _cursor_at(ticket: TicketView, order: str) -> Cursor:
    for p in views.placements(ticket, utcnow()):
        if p.view.startswith(views.ORDER_PREFIX[order] + ":"):
            return Cursor(int(p.score), ticket.id)
    raise ValueError(f"ticket {ticket.id} has no place in order {order}")


async def walk(
    redis: aioredis.Redis, key: str, desc: bool, cursor: Cursor | None, *, chunk: int
) -> AsyncIterator[list[tuple[str, int]]]:
    """The members of a sorted set after `cursor`, in order, `chunk` at a time.

    Pages by score with an offset into the members that share the boundary score (Redis
    orders those by member), so ties never repeat or skip a ticket."""
    low, high = ("-inf", "+inf")
    if cursor is None:
        bound: str | int = high if desc else low
        offset = 0
    else:
        bound = cursor.score
        found: list[Any] = await redis.zrange(key, cursor.score, cursor.score, byscore=True)
        ties = [_text(m) for m in found]
        offset = sum(1 for m in ties if (m >= cursor.member if desc else m <= cursor.member))
    while True:
        raw: list[Any]
        if desc:
            raw = await redis.zrange(
                key, bound, low, desc=True, byscore=True, offset=offset, num=chunk, withscores=True
            )
        else:
            raw = await redis.zrange(
                key, bound, high, byscore=True, offset=offset, num=chunk, withscores=True
            )
        rows = [(_text(pair[0]), int(pair[1])) for pair in raw]
        if rows:
            yield rows
        if len(rows) < chunk:
            return
        edge = rows[-1][1]
        same = sum(1 for _, s in rows if s == edge)
        offset = offset + same if edge == bound else same
        bound = edge


def _glob(text: str) -> str:
    # Escape the glob characters of the key's literal part; keep the final "*".
    body = text[:-1]
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in body) + "*"
