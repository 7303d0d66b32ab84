"""What one block of work costs the store and the broker, watched from outside the app.

Three observers, none of them inside Tandem's code:

- the store: a pymongo `CommandListener`, registered process-wide with
  `pymongo.monitoring.register`, sees every command a client sends. pymongo hands listeners
  only to clients created after the registration, so build the `ActionSpy` (or call
  `install_store_listener()`) before the app creates its client;
- Redis: a raw connection in MONITOR mode sees every command the server executes, in execution
  order, the ones a Lua script runs included (counted apart: they cost no round trip);
- events: a pub/sub connection PSUBSCRIBEd to every workspace's event channel.

A measured window is bounded by barriers: the spy PUBLISHes a fresh token on its own channel
and waits until MONITOR has shown that PUBLISH and the subscriber has received the token.
Redis runs commands one at a time and a subscriber gets its messages in publish order, so the
Redis commands and events of a window are exactly those between its two barriers. Store
commands are recorded while the window is open; the listener runs synchronously as the app's
client sends each command, so whatever the measured code awaited is in. Before closing, the
window waits until nothing new has been seen for `settle_s`, so work the block left running in
the background (a task it started) is counted as well.

    spy = ActionSpy(redis_url)          # before the app builds its store client
    async with running_app(settings) as app, spy:
        async with spy.measure() as window:
            await client.patch(...)
        print(window.counts.totals())
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple, Self
from urllib.parse import urlsplit

import msgspec
import redis.asyncio as aioredis
from pymongo import monitoring
from redis.asyncio.client import PubSub

WRITE_COMMANDS = frozenset({"insert", "update", "findAndModify", "delete"})
LOCK_PREFIX = "tandem:lock:"
EVENTS_PATTERN = "tandem:{ws:*}:events"
BARRIER_CHANNEL = "bench:spy:barrier"
# Not the measured work: the broker's pub/sub keepalive, and what a client sends when it
# opens a new connection.
IGNORED_REDIS = frozenset({"PING", "CLIENT", "HELLO", "SELECT", "AUTH"})
BARRIER_WAIT_S = 10.0
QUIET_MAX_S = 3.0  # the longest a window waits for the work a block started to die down
MONITOR_LINE_LIMIT = 1 << 24


class StoreCommand(NamedTuple):
    name: str
    collection: str


class StoreListener(monitoring.CommandListener):
    """Records each store command started while `recording` is on."""

    def __init__(self) -> None:
        self.recording = False
        self.log: list[StoreCommand] = []
        self.failures: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.recording:
            return
        name = event.command_name
        target = event.command.get(name)
        collection = target if isinstance(target, str) else str(event.command.get("collection", ""))
        self.log.append(StoreCommand(name, collection))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if self.recording:
            self.failures.append(event.command_name)

    def begin(self) -> None:
        self.log = []
        self.failures = []
        self.recording = True

    def end(self) -> tuple[list[StoreCommand], list[str]]:
        self.recording = False
        return self.log, self.failures


_listener: StoreListener | None = None


def install_store_listener() -> StoreListener:
    """The process's one store listener, registered with pymongo the first time."""
    global _listener
    if _listener is None:
        _listener = StoreListener()
        monitoring.register(_listener)
    return _listener


class RedisCommand(NamedTuple):
    client: str  # "lua" for a command a script ran, else the client's "host:port"
    args: tuple[str, ...]


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", "\\": "\\", '"': '"'}


def split_quoted(text: str) -> list[str]:
    """The arguments of a MONITOR line: each in double quotes, escaped as Redis's sdscatrepr
    escapes them (\\\\, \\", \\n, \\r, \\t, \\a, \\b, \\xHH)."""
    args: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] != '"':
            i += 1
            continue
        i += 1
        out: list[str] = []
        while i < n and text[i] != '"':
            ch = text[i]
            if ch == "\\" and i + 1 < n:
                nxt = text[i + 1]
                if nxt == "x" and i + 3 < n:
                    out.append(chr(int(text[i + 2 : i + 4], 16)))
                    i += 4
                else:
                    out.append(_ESCAPES.get(nxt, nxt))
                    i += 2
                continue
            out.append(ch)
            i += 1
        args.append("".join(out))
        i += 1  # the closing quote
    return args


def parse_monitor_line(line: str) -> RedisCommand | None:
    """`1700000000.123456 [0 127.0.0.1:53422] "SET" "k" "v"` (or `[0 lua]`) -> the command."""
    _, sep, rest = line.partition(" [")
    if not sep:
        return None
    client_info, sep, arg_text = rest.partition("] ")
    if not sep:
        return None
    _, _, client = client_info.partition(" ")
    return RedisCommand(client, tuple(split_quoted(arg_text)))


def lock_kind(key: str) -> str:
    """`tandem:lock:{tickets:6650…}` -> `tickets`."""
    name = key[len(LOCK_PREFIX) :].strip("{}")
    return name.split(":", 1)[0] or "?"


class ActionCounts(msgspec.Struct):
    """What one window cost. Every mapping is name -> count."""

    events: dict[str, int]  # published events by type
    store: dict[str, int]  # store commands by command name
    store_targets: dict[str, int]  # by "command collection"
    store_failed: int
    redis: dict[
        str, int
    ]  # Redis commands sent by clients, by name (barriers and IGNORED_REDIS out)
    redis_in_scripts: dict[str, int]  # commands run inside Lua scripts, by name
    locks: dict[str, int]  # document-lock SET NX by lock kind (tickets, messages, counters, …)
    ignored: dict[str, int]  # Redis commands left out of `redis` (see IGNORED_REDIS)

    def totals(self) -> dict[str, int]:
        return {
            "events": sum(self.events.values()),
            "store": sum(self.store.values()),
            "writes": sum(n for name, n in self.store.items() if name in WRITE_COMMANDS),
            "locks": sum(self.locks.values()),
            "redis": sum(self.redis.values()),
            "redis_in_scripts": sum(self.redis_in_scripts.values()),
        }


def count_window(
    store: list[StoreCommand],
    store_failures: list[str],
    redis: list[RedisCommand],
    events: list[str],
) -> ActionCounts:
    top: collections.Counter[str] = collections.Counter()
    scripted: collections.Counter[str] = collections.Counter()
    ignored: collections.Counter[str] = collections.Counter()
    locks: collections.Counter[str] = collections.Counter()
    for command in redis:
        if not command.args:
            continue
        name = command.args[0].upper()
        if command.client == "lua":
            scripted[name] += 1
            continue
        if name in IGNORED_REDIS:
            ignored[name] += 1
            continue
        top[name] += 1
        args = command.args
        if (
            name == "SET"
            and len(args) > 1
            and args[1].startswith(LOCK_PREFIX)
            and any(a.upper() == "NX" for a in args[3:])
        ):
            locks[lock_kind(args[1])] += 1
    return ActionCounts(
        events=dict(sorted(collections.Counter(events).items())),
        store=dict(sorted(collections.Counter(c.name for c in store).items())),
        store_targets=dict(
            sorted(collections.Counter(f"{c.name} {c.collection}" for c in store).items())
        ),
        store_failed=len(store_failures),
        redis=dict(sorted(top.items())),
        redis_in_scripts=dict(sorted(scripted.items())),
        locks=dict(sorted(locks.items())),
        ignored=dict(sorted(ignored.items())),
    )


class Window:
    """Handed out by `ActionSpy.measure`; `counts` is set when the block has ended."""

    def __init__(self) -> None:
        self._counts: ActionCounts | None = None

    @property
    def counts(self) -> ActionCounts:
        if self._counts is None:
            raise RuntimeError("the window is still open")
        return self._counts


class _Type(msgspec.Struct):
    type: str = "?"


class _Marks:
    """Positions in a log where barrier tokens were seen, and who is waiting for which."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.waiting: dict[str, asyncio.Event] = {}

    def mark(self, token: str, position: int) -> None:
        self.seen[token] = position
        waiter = self.waiting.pop(token, None)
        if waiter is not None:
            waiter.set()

    async def wait(self, token: str) -> int:
        if token not in self.seen:
            event = self.waiting.setdefault(token, asyncio.Event())
            await event.wait()
        return self.seen.pop(token)


class ActionSpy:
    def __init__(self, redis_url: str, *, settle_s: float = 0.05) -> None:
        self.store = install_store_listener()
        parts = urlsplit(redis_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.redis_url = redis_url
        # Before the closing barrier, until nothing new was seen for this long: work the block
        # left running (a task it started) is counted too, up to QUIET_MAX_S.
        self.settle_s = settle_s
        self._client: aioredis.Redis | None = None
        self._pubsub: PubSub | None = None
        self._monitor: asyncio.StreamWriter | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._commands: list[RedisCommand] = []
        self._events: list[str] = []
        self._command_marks = _Marks()
        self._event_marks = _Marks()
        self._own_clients: set[str] = set()
        self._open = False

    async def start(self) -> None:
        reader, writer = await asyncio.open_connection(
            self.host, self.port, limit=MONITOR_LINE_LIMIT
        )
        writer.write(b"*1\r\n$7\r\nMONITOR\r\n")
        await writer.drain()
        answer = await reader.readline()
        if answer != b"+OK\r\n":
            writer.close()
            raise RuntimeError(f"MONITOR refused: {answer!r}")
        self._monitor = writer
        self._client = aioredis.from_url(self.redis_url)
        self._pubsub = self._client.pubsub()
        await self._pubsub.psubscribe(EVENTS_PATTERN)
        await self._pubsub.subscribe(BARRIER_CHANNEL)
        self._tasks = [
            asyncio.create_task(self._read_monitor(reader), name="spy-monitor"),
            asyncio.create_task(self._read_events(self._pubsub), name="spy-events"),
        ]
        await self._barrier()  # both observers are live from here on

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        if self._client is not None:
            await self._client.aclose()
        if self._monitor is not None:
            self._monitor.close()
            with contextlib.suppress(ConnectionError):
                await self._monitor.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def measure(self) -> AsyncIterator[Window]:
        """Count what the block costs; windows do not nest."""
        if self._open:
            raise RuntimeError("windows do not nest")
        self._open = True
        window = Window()
        try:
            start = await self._barrier()
            self.store.begin()
            try:
                yield window
                await self._quiet()
            finally:
                store, failures = self.store.end()
            end = await self._barrier()
            window._counts = count_window(
                store,
                failures,
                self._commands[start[0] : end[0]],
                self._events[start[1] : end[1]],
            )
            del self._commands[: end[0]]
            del self._events[: end[1]]
        finally:
            self._open = False

    def _seen(self) -> tuple[int, int, int]:
        return len(self.store.log), len(self._commands), len(self._events)

    async def _quiet(self) -> None:
        seen = self._seen()
        for _ in range(max(1, int(QUIET_MAX_S / self.settle_s))):
            await asyncio.sleep(self.settle_s)
            now = self._seen()
            if now == seen:
                return
            seen = now

    async def _barrier(self) -> tuple[int, int]:
        """Publish a token; answer where it landed in the command log and the event log."""
        assert self._client is not None
        token = uuid.uuid4().hex
        async with asyncio.timeout(BARRIER_WAIT_S):
            await self._client.publish(BARRIER_CHANNEL, token)
            return await self._command_marks.wait(token), await self._event_marks.wait(token)

    async def _read_monitor(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():  # ends when the connection closes
            command = parse_monitor_line(line[1:].rstrip(b"\r\n").decode("latin-1"))
            if command is None:
                continue
            args = command.args
            if len(args) == 3 and args[0].upper() == "PUBLISH" and args[1] == BARRIER_CHANNEL:
                self._own_clients.add(command.client)
                self._command_marks.mark(args[2], len(self._commands))
            elif command.client not in self._own_clients:
                self._commands.append(command)

    async def _read_events(self, pubsub: PubSub) -> None:
        decode = msgspec.json.Decoder(_Type).decode
        while True:  # cancelled by close()
            message: dict[str, Any] | None = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=1.0
            )
            if message is None:
                continue
            if message["type"] == "pmessage":
                self._events.append(decode(message["data"]).type)
            elif message["type"] == "message":
                token = message["data"]
                token = token.decode() if isinstance(token, bytes) else str(token)
                self._event_marks.mark(token, len(self._events))
