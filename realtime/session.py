"""One WebSocket connection's protocol, without the socket: text in, frames out.

The socket layer (realtime/hub.py) passes each received text to `handle_text` and sends what
it returns; the broker's live events reach the session through `offer` and `offer_signal`.
Exact delivery (each event once, in seq order, across replays) is `Delivery`'s job.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass

from realtime.access import Authenticate, Authorizer, PresenceSink
from realtime.broker import Broker
from realtime.delivery import Delivery
from realtime.events import Event, Signal, VisitorEvent
from realtime.frames import (
    Ack,
    ClientFrame,
    Error,
    FrameError,
    Hello,
    Outbound,
    Ping,
    Pong,
    Resume,
    Subscribe,
    Unsubscribe,
    decode_client_frame,
)
from realtime.ratelimit import TokenBucket
from realtime.signals import SignalSender
from realtime.topics import event_topics, signal_topics, valid_topic

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008  # flooding, failed authentication, no hello in time
TOO_BIG = 1009
INTERNAL_ERROR = 1011  # the broker failed mid-replay: the client reconnects and resumes


@dataclass(frozen=True)
class Close:
    """Not a frame: tells the socket layer to close the connection after what came before."""

    code: int
    reason: str


Outgoing = Outbound | Close


@dataclass(frozen=True)
class Limits:
    max_frame_bytes: int = 64 * 1024
    frames_per_second: float = 20.0
    frame_burst: int = 40
    strikes: int = 10  # rate-limited frames forgiven (one more every 5 s) before closing
    # A resume reads up to `max_replay` events from the log, so it has a bucket of its own;
    # going over it costs a strike like any flooding.
    resumes_per_second: float = 0.1
    resume_burst: int = 5
    max_topics: int = 100
    # A hello or resume whose `since` is more than this many of the workspace's events behind
    # gets resync instead: the log is read no further, and a refetch costs less.
    max_replay: int = 2_000
    max_buffer: int = 10_000  # live events held during one replay; past it, catch up again
    typing_ttl: float = 6.0
    viewing_ttl: float = 30.0
    presence_ttl: float = 60.0
    permission_ttl: float = 30.0  # how long a ticket's typing/viewing permission is reused


class Session:
    def __init__(
        self,
        *,
        broker: Broker,
        authorizer: Authorizer | None = None,
        authenticate: Authenticate | None = None,
        presence: PresenceSink | None = None,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
        route: Callable[[Event], Collection[str]] = event_topics,
        conn_id: str | None = None,
    ) -> None:
        self.conn_id = conn_id or uuid.uuid4().hex[:16]
        self.limits = limits or Limits()
        self._broker = broker
        self._auth = authorizer
        self._authenticate = authenticate
        self._presence = presence
        self._clock = clock
        self._route = route
        self._frames = TokenBucket(self.limits.frames_per_second, self.limits.frame_burst)
        self._strikes = TokenBucket(0.2, self.limits.strikes)
        self._resumes = TokenBucket(self.limits.resumes_per_second, self.limits.resume_burst)
        self._ready = False
        self._ready_callbacks: list[Callable[[], None]] = []
        self._topics: set[str] = set()
        self._delivery: Delivery | None = None
        self._signals: SignalSender | None = None

    @property
    def ready(self) -> bool:
        return self._ready

    @property
    def authorizer(self) -> Authorizer:
        if self._auth is None:
            raise RuntimeError("no principal before hello")
        return self._auth

    @property
    def workspace_id(self) -> str | None:
        return self._auth.workspace_id if self._ready and self._auth else None

    @property
    def sent_seq(self) -> int:
        """The resume point of this socket: the last seq it was sent (or started from)."""
        return self._delivery.sent if self._delivery else 0

    @property
    def prev_seq(self) -> int:
        """After `offer` returned an event: the seq that event follows on this socket."""
        return self._delivery.prev_seq if self._delivery else 0

    @property
    def behind(self) -> bool:
        return self._delivery is not None and self._delivery.behind

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._topics)

    def when_ready(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the principal is known, before any replay is read: the hub
        starts offering live events to the session from then on."""
        self._ready_callbacks.append(callback)

    async def handle_text(self, raw: str) -> list[Outgoing]:
        if len(raw) > self.limits.max_frame_bytes or (
            len(raw) * 4 > self.limits.max_frame_bytes
            and len(raw.encode()) > self.limits.max_frame_bytes
        ):
            limit = self.limits.max_frame_bytes
            return [
                Error("too_large", f"frames are limited to {limit} bytes"),
                Close(TOO_BIG, "frame too large"),
            ]
        now = self._clock()
        if not self._frames.take(now):
            if not self._strikes.take(now):
                return [Close(POLICY_VIOLATION, "too many frames")]
            return [Error("rate_limited", "too many frames; slow down")]
        try:
            frame = decode_client_frame(raw)
        except FrameError as exc:
            return [Error(exc.code, exc.message, exc.id)]
        try:
            return await self._dispatch(frame)
        except Exception:
            log.exception("session %s failed on a %s frame", self.conn_id, type(frame).__name__)
            return [
                Error("unavailable", "try again shortly"),
                Close(INTERNAL_ERROR, "server error"),
            ]

    async def _dispatch(self, frame: ClientFrame) -> list[Outgoing]:
        if isinstance(frame, Ping):
            return [Pong(frame.id)]
        if isinstance(frame, Hello):
            return await self._hello(frame)
        delivery, signals = self._delivery, self._signals
        if delivery is None or signals is None:
            return [Error("bad_state", "send hello first")]
        if isinstance(frame, Subscribe):
            error = await self._subscribe(frame.topic, frame.id)
            # Every event of the topic after `seq` will come: state read after this is safe.
            ack = Ack("subscribe", id=frame.id, topic=frame.topic, seq=delivery.cursor)
            return [error or ack]
        if isinstance(frame, Unsubscribe):
            self._topics.discard(frame.topic)
            return [Ack("unsubscribe", id=frame.id, topic=frame.topic, seq=delivery.cursor)]
        if isinstance(frame, Resume):
            now = self._clock()
            if not self._resumes.take(now):
                if not self._strikes.take(now):
                    return [Close(POLICY_VIOLATION, "too many resumes")]
                return [Error("rate_limited", "too many resumes; wait before the next")]
            frames, latest, replayed = await delivery.sync(frame.since, reset=True)
            return [Ack("resume", seq=latest, replayed=replayed), *frames]
        error = await signals.handle(frame)
        return [error] if error else []

    async def _hello(self, frame: Hello) -> list[Outgoing]:
        if self._ready:
            return [Error("bad_state", "hello was already sent")]
        auth = self._auth
        if frame.token is not None and self._authenticate is not None:
            auth = await self._authenticate(frame.token)
        if auth is None:
            return [
                Error("not_authenticated", "sign in again"),
                Close(POLICY_VIOLATION, "not authenticated"),
            ]
        self._auth = auth
        errors = [e for t in dict.fromkeys(frame.topics) if (e := await self._subscribe(t, None))]
        self._signals = SignalSender(
            self._broker, auth, self._presence, self.conn_id, self.limits, self._clock
        )
        self._delivery = Delivery(
            self._broker,
            auth.workspace_id,
            self._view,
            max_replay=self.limits.max_replay,
            max_buffer=self.limits.max_buffer,
        )
        self._ready = True
        for callback in self._ready_callbacks:
            callback()
        frames, latest, replayed = await self._delivery.sync(frame.since, reset=True)
        return [Ack("hello", seq=latest, replayed=replayed), *errors, *frames]

    async def _subscribe(self, topic: str, frame_id: str | None) -> Error | None:
        if not valid_topic(topic):
            return Error("invalid_field", f"unknown topic {topic!r}", frame_id)
        if topic not in self._topics and len(self._topics) >= self.limits.max_topics:
            return Error("too_large", f"at most {self.limits.max_topics} topics", frame_id)
        code = await self.authorizer.can_subscribe(topic)
        if code is not None:
            return Error(code, f"cannot subscribe to {topic!r}", frame_id)
        self._topics.add(topic)
        return None

    def _view(self, event: Event) -> Event | VisitorEvent | None:
        if self._topics.isdisjoint(self._route(event)):
            return None
        return self.authorizer.view(event)

    def offer(self, event: Event) -> Event | VisitorEvent | None:
        """Whether the published `event` goes to this socket now, as its next frame (then
        `prev_seq` is the seq it follows). Events met during a replay are held and come out
        of that replay's result instead."""
        if self._delivery is None or event.ws != self.workspace_id:
            return None
        return self._delivery.offer(event)

    def offer_signal(self, signal: Signal) -> Signal | None:
        """What this socket is shown of `signal`, or None when it is not for it."""
        if not self._ready or signal.ws != self.workspace_id:
            return None
        if signal.data.conn == self.conn_id:
            return None  # the sender's own tab knows already
        if self._topics.isdisjoint(signal_topics(signal)):
            return None
        return self.authorizer.view_signal(signal)

    async def catch_up(self) -> list[Outgoing]:
        """Replay what the broker skipped since the cursor; the hub runs it when `behind`."""
        if self._delivery is None:
            return []
        frames, _, _ = await self._delivery.sync(None, reset=False)
        return list(frames)

    async def close(self) -> None:
        """Withdraw this connection's typing, viewing and presence."""
        if self._signals is not None:
            await self._signals.withdraw()
