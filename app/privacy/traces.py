"""A person's traces in Redis outside the projections: the replay log, the job queue, kept
API answers, the widget's flood counter and typing marks.

The projections (inbox views, search index, mentions) are rewritten by the erasure itself
(app/privacy/erasure.py); what is here is removed, never rewritten: an event, a job or a kept
answer about the person has no anonymous form worth keeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import redis.asyncio as aioredis

from app.jobs.queue import JobQueue
from app.privacy.redact import byte_forms, found_in
from app.privacy.subject import Subject
from realtime.presence import CollisionStore

SCAN_COUNT = 500


@runtime_checkable
class ForgettingBroker(Protocol):
    """A broker whose replay log can drop events (RedisBroker; the in-memory one of a
    single-process development server forgets everything when it stops)."""

    async def forget(self, ws: str, concerns: Callable[[bytes], bool]) -> int: ...


@dataclass
class Forgotten:
    events: int = 0
    jobs: int = 0
    kept_answers: int = 0


def about(subject: Subject, *, broadly: bool, spare: set[str]) -> Callable[[bytes], bool]:
    """Whether a kept record mentions the person. `broadly`: any of their conversations, or
    their name or what they wrote, counts (events, kept answers); otherwise only what is theirs
    alone and their identifiers (jobs: a reply's delivery to their conversation stays).
    Records naming one of the `spare` event ids (the erasure's own) are kept."""
    ids = subject.ids() if broadly else subject.own_ids()
    id_forms = [i.encode() for i in ids]
    words = subject.traces.needles() if broadly else sorted(subject.traces.identifying())
    forms = byte_forms(words)
    spared = [f'"id":"{e}"'.encode() for e in spare]

    def concerns(raw: bytes) -> bool:
        if any(s in raw for s in spared):
            return False
        return any(i in raw for i in id_forms) or found_in(raw, forms)

    return concerns


async def forget_kept_answers(
    redis: aioredis.Redis, ws: str, concerns: Callable[[bytes], bool]
) -> int:
    """Drop the answers kept for idempotency keys (app/api/idempotency.py) that show the
    person: a retry of such a request runs again instead of replaying their data."""
    pattern = _glob_escape(f"tandem:idem:{ws}:") + "*"
    dropped = 0
    async for key in redis.scan_iter(match=pattern, count=SCAN_COUNT):
        raw = await redis.get(key)
        if raw is not None and concerns(raw if isinstance(raw, bytes) else raw.encode()):
            dropped += int(await redis.delete(key))
    return dropped


async def forget_in_redis(
    redis: aioredis.Redis, broker: object, subject: Subject, spare: set[str]
) -> Forgotten:
    ws = str(subject.workspace_id)
    done = Forgotten()
    if isinstance(broker, ForgettingBroker):
        done.events = await broker.forget(ws, about(subject, broadly=True, spare=spare))
    done.jobs = await JobQueue(redis).discard_matching(about(subject, broadly=False, spare=spare))
    done.kept_answers = await forget_kept_answers(
        redis, ws, about(subject, broadly=True, spare=spare)
    )
    collision = CollisionStore(redis)
    for contact_id in subject.contact_ids:
        await redis.delete(f"tandem:widget:flood:{contact_id}")
        for ticket in subject.tickets:
            await collision.set_typing(ws, str(ticket.id), contact_id, False)
    return done


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
