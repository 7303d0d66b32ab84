"""Notes that mention an agent, newest first, kept per agent as the notes are written.

    tandem:{ws:<id>}:mentions:<user>    sorted set: score = the note's time (ms), member = the
                                        entry (JSON: message, ticket, author, excerpt, time)

The views' projection adds an entry for every agent a note's `message.created` event names
(the author's own name excepted), so the mentions page reads one agent's entries in O(page)
and never searches the messages. Only the newest `KEEP` entries of an agent are kept. The key
sits outside the views' own keys: a views rebuild leaves it alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import redis.asyncio as aioredis

from realtime.events import MessageView

KEEP = 1_000
EXCERPT_CHARS = 280


class MentionEntry(msgspec.Struct):
    m: str  # the note's id
    t: str  # its ticket's id
    a: str | None  # who wrote it
    x: str  # the note, shortened
    at: str | None  # when


@dataclass(frozen=True)
class MentionCursor:
    score: int
    message_id: str

    def __str__(self) -> str:
        return f"{self.score}.{self.message_id}"


def parse_mention_cursor(text: str) -> MentionCursor | None:
    score, _, message_id = text.partition(".")
    if not score.isdigit() or not message_id.isalnum() or len(message_id) > 40:
        return None
    return MentionCursor(int(score), message_id)


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(MentionEntry).decode


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _ms(at: str | None) -> int:
    if not at:
        return 0
    return int(datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() * 1000)


def excerpt(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= EXCERPT_CHARS else words[: EXCERPT_CHARS - 1].rstrip() + "…"


class MentionStore:
    def __init__(self, redis: aioredis.Redis, *, prefix: str = "tandem") -> None:
        self.redis = redis
        self._prefix = prefix

    def key(self, ws: str, user_id: str) -> str:
        return f"{self._prefix}:{{ws:{ws}}}:mentions:{user_id}"

    async def add(self, ws: str, note: MessageView) -> None:
        """Record `note` for each agent it mentions; adding it again changes nothing."""
        entry = MentionEntry(
            note.id, note.ticket_id, note.author.name, excerpt(note.text), note.created_at
        )
        member, score = _encode(entry).decode(), _ms(note.created_at)
        users = [u for u in note.mentions if u != note.author.id]
        if not users:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for user in users:
                pipe.zadd(self.key(ws, user), {member: score})
                pipe.zremrangebyrank(self.key(ws, user), 0, -(KEEP + 1))
            await pipe.execute()

    async def forget(self, ws: str, message_ids: set[str]) -> int:
        """Remove the entries of these notes from every agent's mentions (notes erased or
        rewritten); answers how many went. Walks the workspace's mention keys: a rare,
        administrative step."""
        if not message_ids:
            return 0
        removed = 0
        pattern = _glob_escape(self.key(ws, "")) + "*"
        async for key in self.redis.scan_iter(match=pattern, count=500):
            members: list[Any] = await self.redis.zrange(key, 0, -1)
            gone = [m for m in members if _decode(_text(m)).m in message_ids]
            if gone:
                removed += int(await self.redis.zrem(key, *gone))
        return removed

    async def page(
        self, ws: str, user_id: str, cursor: MentionCursor | None, limit: int
    ) -> tuple[list[MentionEntry], MentionCursor | None]:
        """Up to `limit` of the agent's entries after `cursor`, newest first, and the cursor
        to go on from (None at the end)."""
        key = self.key(ws, user_id)
        bound: int | str = "+inf"
        offset = 0
        if cursor is not None:
            bound = cursor.score
            found: list[Any] = await self.redis.zrange(
                key, cursor.score, cursor.score, byscore=True
            )
            ties = [_text(m) for m in found]
            at = next((m for m in ties if _decode(m).m == cursor.message_id), None)
            # Members of one score come in reverse member order: those from the cursor's up
            # were on the pages before.
            offset = sum(1 for m in ties if at is not None and m >= at)
        raw: list[Any] = await self.redis.zrange(
            key, bound, "-inf", desc=True, byscore=True, offset=offset, num=limit + 1,
            withscores=True,
        )  # fmt: skip
        entries = [(_decode(_text(member)), int(score)) for member, score in raw]
        more = len(entries) > limit
        entries = entries[:limit]
        after = MentionCursor(entries[-1][1], entries[-1][0].m) if more and entries else None
        return [e for e, _ in entries], after


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
