"""A keyword search index per workspace, kept in Redis (the store, FerretDB, has no `$text`).

The core is generic: a *document* of a *kind* ("ticket", "contact", later "article") is a set
of named *fields*, each a text with a weight and an audience. Every key of a workspace shares
the hash tag `{ws:<id>}`, so each Lua script and each ZINTERSTORE stays in one Cluster slot:

    tandem:{ws:<id>}:search:<kind>:p:<audience>:<term>  ZSET posting: doc id -> relevance
    tandem:{ws:<id>}:search:<kind>:lex                  ZSET of every known term, score 0,
                                                        walked by ZRANGEBYLEX for prefixes
    tandem:{ws:<id>}:search:<kind>:recency              ZSET doc id -> created_at (epoch s)
    tandem:{ws:<id>}:search:<kind>:d:<doc>              HASH field name -> the field's record
    tandem:{ws:<id>}:search:tmp:<uuid>                  a query's scratch sets, 30 s expiry

Audiences are nested: "all" (anyone who may see the document, e.g. the customer) is inside
"agents". A field of audience "all" enters the postings of both; a field of "agents" (a note)
only the agents' postings. A query reads the postings of its own audience, so a word written
only in notes is never matched for "all".

Tickets and contacts are searched by agents only, so only the agents' postings are kept for
them (SEARCHED_BY); the audiences matter for kinds others search too: a knowledge-base article
is "all" once published and public (the help center and the widget find it), else "agents".

Articles are indexed from the store, not from their events: an article event carries no body,
so taking one in reads the article by `_id` and indexes it as it is now (a tombstone or a
missing one is removed). A retried or late event therefore indexes the current article, never
an older body, and the events that reach every agent's socket stay small.

Idempotency: a field's record is exactly what it added to the postings: its audiences and its
(term, amount) pairs. Setting a field compares the new record with the stored one in a Lua
script: equal means nothing to do (an outbox retry, a ticket update that kept the subject);
different means the old amounts are taken back and the new ones added, atomically. A message
is a field of its ticket named after the message id, so re-applying a message event is a
no-op.

Ranking: a posting's score is the sum over the document's fields of weight * min(tf, 3). A
query ANDs its terms; a document's relevance is the sum of its postings' scores over the query
terms (the prefix counts its best expansion). Among equal relevance the newer document comes
first, then the larger id. Both are packed into one ZINTERSTORE score, relevance * 2**32 +
created_at, which stays exact while relevance stays under 2**21.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import msgspec
import redis.asyncio as aioredis
from beanie import Document
from bson import ObjectId
from bson.errors import InvalidId

from app.documents import Article, Contact, Message, Ticket
from app.domain.errors import Invalid, NotFound
from app.domain.kb import audience_of, plain_text
from app.search.tokens import query_terms, terms
from realtime.events import (
    ArticleCreated,
    ArticleDeleted,
    ArticleUpdated,
    ContactCreated,
    ContactUpdated,
    ContactView,
    Event,
    Kind,
    MessageCreated,
    TicketCreated,
    TicketUpdated,
    TicketView,
)

TICKET: Final = "ticket"
CONTACT: Final = "contact"
ARTICLE: Final = "article"

# Narrowest first: a field enters its own audience's postings and every wider one's.
AUDIENCES: Final = ("all", "agents")
WIDEST: Final = AUDIENCES[-1]
# Tickets and contacts are searched by agents only, so only their postings are kept: the
# narrower ones would double the index for no reader. Other kinds (the knowledge base's
# articles) keep every audience's.
SEARCHED_BY: Final[dict[str, tuple[str, ...]]] = {TICKET: (WIDEST,), CONTACT: (WIDEST,)}

TF_CAP: Final = 3  # repeating a word more often than this adds nothing
SUBJECT_WEIGHT: Final = 3
MESSAGE_WEIGHT: Final = 1
NAME_WEIGHT: Final = 3
IDENTIFIER_WEIGHT: Final = 2  # email, phone, WhatsApp id
TITLE_WEIGHT: Final = 3  # an article's title
BODY_WEIGHT: Final = 1  # an article's body

MAX_QUERY_TERMS: Final = 8  # further words of a query are ignored
MIN_PREFIX: Final = 2
MAX_EXPANSIONS: Final = 30  # a prefix stands for at most this many terms (first by order)
# The cap on work for very common words: the one posting a query walks (its rarest whole term,
# or each expansion of a prefix typed alone) is first cut to its MAX_CANDIDATES best-scored
# documents, so a query touches about MAX_EXPANSIONS * MAX_CANDIDATES entries at most, however
# large the workspace. A query made only of words that common may miss low-relevance matches.
MAX_CANDIDATES: Final = 1000
MAX_LIMIT: Final = 100
TEMP_TTL: Final = 30
BATCH: Final = 500

RECENCY_SCALE: Final = 2**32  # recency is epoch seconds, below 2**32 until 2106

# Adds (sign 1) or takes back (sign -1) a field's record for one document: its terms'
# amounts in each audience's posting, and the term in the lex set while the widest
# audience's posting holds it. KEYS[2] is the lex set.
_APPLY_RECORD = """
local function apply(record, sign, prefix, doc, widest)
  local parts = cjson.decode(record)
  for _, audience in ipairs(parts[1]) do
    local terms = parts[2]
    for i = 1, #terms, 2 do
      local term, amount = terms[i], terms[i + 1]
      local posting = prefix .. audience .. ':' .. term
      local score = tonumber(redis.call('ZINCRBY', posting, sign * amount, doc))
      if sign < 0 then
        if score <= 0 then redis.call('ZREM', posting, doc) end
        if audience == widest and redis.call('ZCARD', posting) == 0 then
          redis.call('ZREM', KEYS[2], term)
        end
      elseif audience == widest then
        redis.call('ZADD', KEYS[2], 0, term)
      end
    end
  end
end
"""

_SET_FIELD = (
    _APPLY_RECORD
    + """
-- KEYS: doc hash, lex, recency. ARGV: field, record ('' removes), posting prefix, doc id,
-- recency ('' leaves it), widest audience.
if ARGV[5] ~= '' then redis.call('ZADD', KEYS[3], ARGV[5], ARGV[4]) end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old == false then old = '' end
if old == ARGV[2] then return 0 end
if old ~= '' then apply(old, -1, ARGV[3], ARGV[4], ARGV[6]) end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  apply(ARGV[2], 1, ARGV[3], ARGV[4], ARGV[6])
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 1
"""
)

_DROP_DOC = (
    _APPLY_RECORD
    + """
-- KEYS: doc hash, lex, recency. ARGV: posting prefix, doc id, widest audience.
local fields = redis.call('HVALS', KEYS[1])
for _, record in ipairs(fields) do apply(record, -1, ARGV[1], ARGV[2], ARGV[3]) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[2])
return #fields
"""
)


class Hit(msgspec.Struct, frozen=True):
    """One matching document; `score` is its relevance (recency only breaks ties)."""

    id: str
    kind: str
    score: float


class FieldText(msgspec.Struct, frozen=True):
    """One field of a document as indexed: no text (None or blank) removes the field."""

    name: str
    text: str | None
    weight: int
    audience: str = "all"


class DocUpdate(msgspec.Struct, frozen=True):
    """What to index of one document; `recency` (epoch seconds) orders equal relevance."""

    kind: str
    doc_id: str
    fields: list[FieldText]
    recency: int | None = None


def prefix_of(ws: str) -> str:
    return f"tandem:{{ws:{ws}}}:search:"


def epoch(value: str | datetime | None) -> int | None:
    """Seconds since the epoch of an ISO string or a datetime (naive ones are UTC)."""
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(int(when.timestamp()), 0), RECENCY_SCALE - 1)


def searched_by(kind: str) -> tuple[str, ...]:
    """The audiences whose searches a kind's postings are kept for."""
    return SEARCHED_BY.get(kind, AUDIENCES)


def record(field: FieldText, kind: str = "") -> str:
    """The field's contribution to the postings: JSON `[[audience, ...], [term, amount,
    ...]]`, each term added to each audience's posting, in a fixed order, so the same text
    always gives the same record. A field no audience of the kind searches adds nothing."""
    counts: dict[str, int] = {}
    for term in terms(field.text or ""):
        counts[term] = counts.get(term, 0) + 1
    reach = [a for a in AUDIENCES[AUDIENCES.index(field.audience) :] if a in searched_by(kind)]
    if not counts or not reach:
        return ""
    flat: list[str | int] = []
    for term in sorted(counts):
        flat.extend((term, field.weight * min(counts[term], TF_CAP)))
    return msgspec.json.encode([reach, flat]).decode()


def encode_cursor(score: float, doc_id: str) -> str:
    raw = msgspec.json.encode((score, doc_id))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """The position a cursor names; anything that is not one of ours is NotFound."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        return msgspec.json.decode(raw, type=tuple[float, str])
    except (ValueError, msgspec.ValidationError) as error:
        raise NotFound("no such page of results") from error


def ticket_fields(ticket: TicketView) -> list[FieldText]:
    return [FieldText("subject", ticket.subject, SUBJECT_WEIGHT)]


def message_field(message_id: str, kind: str, text: str) -> FieldText | None:
    """A message as a field of its ticket; notes reach agents only, system lines nobody."""
    if kind == Kind.SYSTEM:
        return None
    audience = "agents" if kind == Kind.NOTE else "all"
    return FieldText(f"m:{message_id}", text, MESSAGE_WEIGHT, audience)


def contact_fields(contact: ContactView | dict[str, Any]) -> list[FieldText]:
    def value(name: str) -> str | None:
        got = contact.get(name) if isinstance(contact, dict) else getattr(contact, name)
        return str(got) if got is not None else None

    return [
        FieldText("name", value("name"), NAME_WEIGHT),
        FieldText("email", value("email"), IDENTIFIER_WEIGHT),
        FieldText("phone", value("phone"), IDENTIFIER_WEIGHT),
        FieldText("whatsapp_id", value("whatsapp_id"), IDENTIFIER_WEIGHT),
    ]


# What indexing an article reads of it.
ARTICLE_FIELDS: Final = {
    "title": 1, "body": 1, "status": 1, "visibility": 1, "version": 1, "created_at": 1,
    "deleted_at": 1,
}  # fmt: skip
ARTICLE_ROUNDS: Final = 3  # reads of an article that changed while it was being indexed


def article_update(raw: dict[str, Any]) -> DocUpdate:
    """An article (a store document, at least ARTICLE_FIELDS) as indexed: title and body,
    both in the audience its status and visibility give it."""
    audience = audience_of(str(raw.get("status")), str(raw.get("visibility")))
    fields = [
        FieldText("title", raw.get("title"), TITLE_WEIGHT, audience),
        FieldText("body", plain_text(raw.get("body") or ""), BODY_WEIGHT, audience),
    ]
    return DocUpdate(ARTICLE, str(raw["_id"]), fields, epoch(raw.get("created_at")))


def articles_of(event: Event) -> list[str]:
    """The ids of the articles an event is about, to index from the store."""
    if isinstance(event, ArticleCreated | ArticleUpdated | ArticleDeleted):
        return [event.data.article.id]
    return []


def updates_of(event: Event) -> list[DocUpdate]:
    """What an event says about searchable documents (nothing for reads; articles are read
    from the store, see `articles_of`)."""
    if isinstance(event, TicketCreated | TicketUpdated):
        ticket = event.data.ticket
        return [DocUpdate(TICKET, ticket.id, ticket_fields(ticket), epoch(ticket.created_at))]
    if isinstance(event, MessageCreated):
        # The subject is left to ticket events: a retried old message must not bring back a
        # subject since replaced. The ticket's created_at still gives the doc its recency.
        ticket, message = event.data.ticket, event.data.message
        field = message_field(message.id, message.kind, message.text)
        fields = [field] if field is not None else []
        return [DocUpdate(TICKET, message.ticket_id, fields, epoch(ticket.created_at))]
    if isinstance(event, ContactCreated | ContactUpdated):
        contact = event.data.contact
        return [DocUpdate(CONTACT, contact.id, contact_fields(contact), epoch(contact.created_at))]
    return []


class SearchIndex:
    """Projects events into the index, answers queries, rebuilds a workspace from the store."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._set_field = redis.register_script(_SET_FIELD)
        self._drop_doc = redis.register_script(_DROP_DOC)

    # ---- writing ---------------------------------------------------------------------------

    async def project(self, events: Sequence[Event]) -> None:
        """Index what the events say; applying an event again changes nothing."""
        by_ws = [(event.ws, update) for event in events for update in updates_of(event)]
        if by_ws:
            async with self.redis.pipeline(transaction=False) as pipe:
                for ws, update in by_ws:
                    await self._queue(pipe, ws, update)
                await pipe.execute()
        for event in events:
            for article_id in articles_of(event):
                await self.index_article(event.ws, article_id)

    async def index_article(self, ws: str, article_id: str) -> None:
        """Index the article as the store holds it now; forget it when it is gone. Two writers
        indexing one article at once may finish in either order, so each reads the version
        again afterwards and indexes once more if it moved on meanwhile."""
        try:
            key = {"_id": ObjectId(article_id), "workspace_id": ObjectId(ws)}
        except InvalidId:
            return
        articles = Article.get_pymongo_collection()
        raw = await articles.find_one(key, ARTICLE_FIELDS)
        for _ in range(ARTICLE_ROUNDS):
            if raw is None or raw.get("deleted_at") is not None:
                await self.remove(ws, ARTICLE, article_id)
                return
            await self.index(ws, [article_update(raw)])
            now = await articles.find_one(key, {"version": 1, "deleted_at": 1})
            if now is not None and now.get("deleted_at") is None:
                if now.get("version") == raw.get("version"):
                    return
                now = await articles.find_one(key, ARTICLE_FIELDS)
            raw = now

    async def index(self, ws: str, updates: Sequence[DocUpdate]) -> None:
        """Set fields of documents directly (the generic entry for other kinds)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for update in updates:
                await self._queue(pipe, ws, update)
            await pipe.execute()

    async def _queue(self, pipe: Any, ws: str, update: DocUpdate) -> None:
        """Queue the update's scripts on `pipe` (awaiting a pipelined call only queues it)."""
        base = f"{prefix_of(ws)}{update.kind}:"
        keys = [f"{base}d:{update.doc_id}", f"{base}lex", f"{base}recency"]
        recency = "" if update.recency is None else str(update.recency)
        for field in update.fields:
            if field.audience not in AUDIENCES:
                raise ValueError(f"unknown audience {field.audience!r}")
            args = [
                field.name,
                record(field, update.kind),
                f"{base}p:",
                update.doc_id,
                recency,
                WIDEST,
            ]
            await self._set_field(keys=keys, args=args, client=pipe)
            recency = ""

    async def remove(self, ws: str, kind: str, doc_id: str) -> None:
        """Forget a document (a deleted ticket or contact): it stops matching at once."""
        base = f"{prefix_of(ws)}{kind}:"
        keys = [f"{base}d:{doc_id}", f"{base}lex", f"{base}recency"]
        await self._drop_doc(keys=keys, args=[f"{base}p:", doc_id, WIDEST])

    # ---- reading ---------------------------------------------------------------------------

    async def search(
        self,
        ws: str,
        q: str,
        *,
        kind: str,
        audience: str = "agents",
        cursor: str | None = None,
        limit: int = 20,
    ) -> tuple[list[Hit], str | None]:
        """One page of the documents matching every term of `q`, best first, and the cursor
        of the next page (None on the last)."""
        if audience not in searched_by(kind):
            raise Invalid(f"{kind} search is for {', '.join(searched_by(kind))}", field="audience")
        after = decode_cursor(cursor) if cursor is not None else None
        limit = max(1, min(limit, MAX_LIMIT))
        full, prefix = query_terms(q)
        full = full[:MAX_QUERY_TERMS]
        if prefix is not None and len(prefix) < MIN_PREFIX:
            prefix = None
        if not full and prefix is None:
            return [], None
        temps: list[str] = []
        try:
            result = await self._match(ws, kind, audience, full, prefix, temps)
            if result is None:
                return [], None
            return await self._page(result, kind, after, limit)
        finally:
            if temps:
                await self.redis.unlink(*temps)

    def _temp(self, ws: str, temps: list[str]) -> str:
        key = f"{prefix_of(ws)}tmp:{uuid.uuid4().hex}"
        temps.append(key)
        return key

    async def _sizes(self, keys: list[str]) -> list[int]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zcard(key)
            cards: list[int] = await pipe.execute()
        return cards

    async def _store(self, ws: str, temps: list[str], command: str, *args: Any, **kw: Any) -> str:
        """Run a *STORE command into a new scratch key (expiring, in case we never delete it)."""
        key = self._temp(ws, temps)
        async with self.redis.pipeline(transaction=False) as pipe:
            getattr(pipe, command)(key, *args, **kw)
            pipe.expire(key, TEMP_TTL)
            await pipe.execute()
        return key

    async def _top(self, ws: str, key: str, temps: list[str]) -> str:
        """A scratch copy of the MAX_CANDIDATES best-scored entries of `key`."""
        return await self._store(
            ws,
            temps,
            "zrangestore",
            key,
            "+inf",
            "-inf",
            byscore=True,
            desc=True,
            offset=0,
            num=MAX_CANDIDATES,
        )

    async def _expansions(self, base: str, audience: str, prefix: str) -> list[str]:
        """The postings of the terms starting with `prefix`, at most MAX_EXPANSIONS of them
        (the first in byte order)."""
        start = b"[" + prefix.encode()
        found: list[bytes] = await self.redis.zrangebylex(  # type: ignore[assignment]
            f"{base}lex", start, start + b"\xff", start=0, num=MAX_EXPANSIONS
        )
        return [f"{base}p:{audience}:{term.decode()}" for term in found]

    async def _match(
        self,
        ws: str,
        kind: str,
        audience: str,
        full: list[str],
        prefix: str | None,
        temps: list[str],
    ) -> str | None:
        """A scratch set of every match scored relevance * 2**32 + recency; None if none.

        Whole terms are intersected first: ZINTERSTORE walks its smallest input and only
        looks the others up, so a rare word keeps the work small whatever the size of the
        other postings; only that smallest input is cut to MAX_CANDIDATES. The prefix's
        expansions are then each intersected with those candidates (cost: candidates per
        expansion) and the best kept. A prefix alone unions its expansions, each cut to
        MAX_CANDIDATES."""
        base = f"{prefix_of(ws)}{kind}:"
        recency = f"{base}recency"
        expansions = await self._expansions(base, audience, prefix) if prefix else []
        if prefix and not expansions:
            return None
        if not full:
            cards = await self._sizes(expansions)
            bounded = [
                await self._top(ws, key, temps) if card > MAX_CANDIDATES else key
                for key, card in zip(expansions, cards, strict=True)
            ]
            union = await self._store(ws, temps, "zunionstore", bounded, aggregate="MAX")
            return await self._store(
                ws, temps, "zinterstore", {union: RECENCY_SCALE, recency: 1}, aggregate="SUM"
            )
        keys = [f"{base}p:{audience}:{term}" for term in full]
        cards = await self._sizes(keys)
        if 0 in cards:
            return None
        smallest = cards.index(min(cards))
        if cards[smallest] > MAX_CANDIDATES:
            keys[smallest] = await self._top(ws, keys[smallest], temps)
        weights: dict[str, float] = dict.fromkeys(keys, RECENCY_SCALE)
        weights[recency] = 1
        candidates = await self._store(ws, temps, "zinterstore", weights, aggregate="SUM")
        if not expansions:
            return candidates
        parts = [self._temp(ws, temps) for _ in expansions]
        async with self.redis.pipeline(transaction=False) as pipe:
            for part, key in zip(parts, expansions, strict=True):
                pipe.zinterstore(part, {candidates: 1, key: RECENCY_SCALE}, aggregate="SUM")
                pipe.expire(part, TEMP_TTL)
            await pipe.execute()
        return await self._store(ws, temps, "zunionstore", parts, aggregate="MAX")

    async def _page(
        self, result: str, kind: str, after: tuple[float, str] | None, limit: int
    ) -> tuple[list[Hit], str | None]:
        """Keyset paging in (score desc, id desc) order: the page starts after `after`, so
        each match is on exactly one page while the index stands still."""
        if after is None:
            rows = _scored(
                await self.redis.zrevrangebyscore(
                    result, "+inf", "-inf", start=0, num=limit + 1, withscores=True
                )
            )
        else:
            score, doc_id = after
            ties: int = await self.redis.zcount(result, score, score)
            rows = _scored(
                await self.redis.zrevrangebyscore(
                    result, score, "-inf", start=0, num=ties + limit + 1, withscores=True
                )
            )
            rows = [(member, value) for member, value in rows if value < score or member < doc_id]
        page = rows[:limit]
        hits = [
            Hit(id=member, kind=kind, score=float(value // RECENCY_SCALE)) for member, value in page
        ]
        cursor = encode_cursor(page[-1][1], page[-1][0]) if len(rows) > limit else None
        return hits, cursor

    # ---- rebuilding ------------------------------------------------------------------------

    def _built_key(self, ws: str) -> str:
        # Beside the index's keys, not among them: a drop clears the index, then this.
        return f"tandem:{{ws:{ws}}}:search-built"

    async def is_built(self, ws: str) -> bool:
        """Whether the index holds the whole workspace (false after Redis lost it)."""
        return bool(await self.redis.exists(self._built_key(ws)))

    async def mark_built(self, ws: str) -> None:
        await self.redis.set(self._built_key(ws), "1")

    async def drop(self, ws: str) -> int:
        """Delete every search key of the workspace; returns how many there were."""
        pattern = _glob_escape(prefix_of(ws)) + "*"
        dropped = 0
        batch: list[bytes] = []
        async for key in self.redis.scan_iter(match=pattern, count=BATCH):
            batch.append(key)
            if len(batch) >= BATCH:
                dropped += await self.redis.unlink(*batch)
                batch = []
        if batch:
            dropped += await self.redis.unlink(*batch)
        return dropped

    async def rebuild(self, ws: str) -> int:
        """Drop the workspace's index and index it again from the store in one pass per
        collection; returns how many documents (tickets, contacts, articles) were indexed. The drop
        comes first, so a write that lands meanwhile is indexed by its event, by the pass, or
        by both (setting a field twice changes nothing)."""
        try:
            ws_oid = ObjectId(ws)
        except InvalidId as error:
            raise NotFound("no such workspace") from error
        await self.redis.delete(self._built_key(ws))
        await self.drop(ws)
        indexed = 0
        async for batch in _batches(Ticket, ws_oid, {"subject": 1, "created_at": 1}):
            await self.index(ws, [_ticket_update(raw) for raw in batch])
            indexed += len(batch)
        async for batch in _batches(Message, ws_oid, {"ticket_id": 1, "kind": 1, "text": 1}):
            await self.index(ws, [u for raw in batch if (u := _message_update(raw)) is not None])
        projection = {"name": 1, "email": 1, "phone": 1, "whatsapp_id": 1, "created_at": 1}
        async for batch in _batches(Contact, ws_oid, projection):
            await self.index(ws, [_contact_update(raw) for raw in batch])
            indexed += len(batch)
        async for batch in _batches(Article, ws_oid, ARTICLE_FIELDS):
            live = [raw for raw in batch if raw.get("deleted_at") is None]
            await self.index(ws, [article_update(raw) for raw in live])
            indexed += len(live)
        await self.mark_built(ws)
        return indexed


def _scored(raw: Any) -> list[tuple[str, float]]:
    """ZRANGE ... WITHSCORES rows as (doc id, score)."""
    return [(member.decode(), float(value)) for member, value in raw]


def _glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


async def _batches(
    model: type[Document], ws_oid: ObjectId, projection: dict[str, int]
) -> AsyncIterator[list[dict[str, Any]]]:
    """The workspace's documents of `model`, BATCH at a time from one cursor: one pass over
    the collection (FerretDB sorts in memory, so keyset batches would each scan it again),
    never held whole."""
    found = model.get_pymongo_collection().find({"workspace_id": ws_oid}, projection)
    batch: list[dict[str, Any]] = []
    async for raw in found.batch_size(BATCH):
        batch.append(raw)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _ticket_update(raw: dict[str, Any]) -> DocUpdate:
    field = FieldText("subject", raw.get("subject"), SUBJECT_WEIGHT)
    return DocUpdate(TICKET, str(raw["_id"]), [field], epoch(raw.get("created_at")))


def _message_update(raw: dict[str, Any]) -> DocUpdate | None:
    field = message_field(str(raw["_id"]), str(raw.get("kind", Kind.MESSAGE)), raw.get("text", ""))
    if field is None:
        return None
    return DocUpdate(TICKET, str(raw["ticket_id"]), [field])


def _contact_update(raw: dict[str, Any]) -> DocUpdate:
    return DocUpdate(CONTACT, str(raw["_id"]), contact_fields(raw), epoch(raw.get("created_at")))
