"""What the queue stores in Redis and answers to admins: msgspec Structs, JSON as they are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec


class JobError(msgspec.Struct, frozen=True):
    """Why a run failed: the exception's type and its message."""

    type: str
    message: str

    @classmethod
    def from_exception(cls, exc: BaseException) -> JobError:
        return cls(type=type(exc).__qualname__, message=str(exc)[:2000])


class Job(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: str
    payload: dict[str, Any]
    key: str | None = None  # idempotency key: enqueued once, never run again once done
    attempt: int = 1  # this run's number, from 1
    # When it was first enqueued; a timer's job is enqueued at its due time.
    enqueued_at: datetime
    last_error: JobError | None = None  # why the previous run failed


Handler = Callable[[Job], Awaitable[None]]


class DeadJob(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # the dead-letter entry: pass it to requeue_dead / discard_dead
    job_id: str
    kind: str
    payload: dict[str, Any]
    key: str | None
    attempts: int
    last_error: JobError | None
    failed_at: datetime


class QueueStats(msgspec.Struct, frozen=True, kw_only=True):
    stream_length: int  # jobs waiting or running
    pending: int  # jobs delivered to a worker and not finished
    dead: int
    scheduled: int  # timers not yet due
    retrying: int  # failed jobs waiting for their next attempt


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Job)


def encode_job(job: Job) -> bytes:
    return _encoder.encode(job)


def decode_job(body: bytes | str) -> Job:
    return _decoder.decode(body)


def utcnow() -> datetime:
    return datetime.now(UTC)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("a due time must carry its time zone")
    return round(moment.timestamp() * 1000)
