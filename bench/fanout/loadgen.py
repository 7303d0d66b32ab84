"""The load generator: N subscribed sockets, one writer, the latency of every delivery.

Runs on uvloop in its own process so the servers' CPU and its own are told apart. Sockets are
spread round-robin over the server URLs. Once every socket is subscribed, the writer makes K
changes one at a time: each change waits until every socket has it (or a timeout), then a
pause, so changes never overlap and each one is measured on its own. A delivery's latency is
its frame's receive time minus the start of the write request, on one monotonic clock.

    python -m bench.fanout.loadgen floor --urls ws://127.0.0.1:9001,ws://127.0.0.1:9002 \
        --sockets 1000 --payload-bytes 700 --result floor.json
    python -m bench.fanout.loadgen tandem --urls ws://127.0.0.1:8001,ws://127.0.0.1:8002 \
        --agent agent.json --sockets 1000 --result tandem.json
    python -m bench.fanout.loadgen tandem ... --hold 120   # idle sockets until stdin closes
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import uvloop

from bench.fanout.floor_server import raise_fd_limit
from bench.fanout.modes import CHANGES, FloorMode, Mode, SetupFrames, TandemMode
from bench.fanout.stats import Latency, RunResult, percentile
from bench.fanout.tandem_api import AgentSession
from bench.fanout.wsclient import WsClient

OPEN_CONCURRENCY = 100  # handshakes in flight: above the servers' accept backlog they stall
OPEN_DEADLINE = 240.0
STEP_TIMEOUT = 10.0  # one change's fan-out; past it the rest are counted late or missing
GRACE = 3.0
MAX_HOLD = 900.0  # --hold is capped here


def log(message: str) -> None:
    print(f"[loadgen] {message}", file=sys.stderr, flush=True)


class Tracker:
    """Counts deliveries per change and wakes the writer when a change has reached everyone."""

    def __init__(self) -> None:
        self.expected = 0
        self.counts: collections.Counter[int] = collections.Counter()
        self.duplicates = 0
        self.sizes: list[int] = []
        self.waiting: tuple[int, asyncio.Event] | None = None

    def hit(self, key: int, size: int) -> None:
        self.counts[key] += 1
        if len(self.sizes) < 1000:
            self.sizes.append(size)
        waiting = self.waiting
        if waiting is not None and waiting[0] == key and self.counts[key] >= self.expected:
            waiting[1].set()

    async def wait_all(self, key: int, wait_s: float) -> bool:
        if self.counts[key] >= self.expected:
            return True
        done = asyncio.Event()
        self.waiting = (key, done)
        try:
            async with asyncio.timeout(wait_s):
                await done.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self.waiting = None


class Subscriber:
    __slots__ = ("client", "key_of", "ready", "received", "setup", "tracker")

    def __init__(self, key_of: Callable[[bytes], int | None], tracker: Tracker) -> None:
        self.key_of = key_of
        self.tracker = tracker
        self.received: dict[int, float] = {}
        self.setup = SetupFrames()
        self.ready = False
        self.client: WsClient | None = None

    def on_message(self, payload: bytes, at: float) -> None:
        key = self.key_of(payload)
        if key is None:
            if not self.ready:
                self.setup.put(payload)
            return  # pongs, presence signals, other events
        if key in self.received:
            self.tracker.duplicates += 1
            return
        self.received[key] = at
        self.tracker.hit(key, len(payload))


async def open_sockets(
    mode: Mode, urls: list[str], count: int, tracker: Tracker
) -> tuple[list[Subscriber], list[str]]:
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    failures: list[str] = []

    async def open_one(i: int) -> Subscriber | None:
        sub = Subscriber(mode.key_of, tracker)
        async with gate:
            try:
                sub.client = await mode.open(urls[i % len(urls)], sub.on_message, 15.0)
                await mode.subscribe(sub.client, sub.setup, 15.0)
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                if sub.client is not None and sub.client.transport is not None:
                    sub.client.transport.abort()
                return None
        sub.ready = True
        return sub

    async with asyncio.timeout(OPEN_DEADLINE):
        opened = await asyncio.gather(*(open_one(i) for i in range(count)))
    return [s for s in opened if s is not None], failures


async def heartbeat(mode: Mode, subs: list[Subscriber]) -> None:
    # Cancelled when the run ends; the bound only keeps a forgotten process from living on.
    for _ in range(int(OPEN_DEADLINE + MAX_HOLD + 600)):
        await asyncio.sleep(1.0)
        now = time.monotonic()
        for sub in subs:
            if sub.client is not None:
                mode.heartbeat(sub.client, now)


def closed_by_server(subs: list[Subscriber]) -> dict[str, int]:
    codes: collections.Counter[str] = collections.Counter()
    for sub in subs:
        client = sub.client
        if client is not None and (client.closed.done() or client.close_code is not None):
            codes[str(client.close_code or "no close frame")] += 1
    return dict(codes)


async def measure(mode: Mode, subs: list[Subscriber], tracker: Tracker, args: Args) -> RunResult:
    await mode.start_writer()
    t0s: dict[int, float] = {}
    deadlines: dict[int, float] = {}
    writes: list[float] = []
    registered: dict[int, float] = {}
    for _ in range(args.changes):
        key, took = await mode.write(registered.__setitem__)
        t0s[key] = registered[key]
        writes.append(took)
        if not await tracker.wait_all(key, STEP_TIMEOUT):
            log(f"change {key}: {tracker.counts[key]}/{tracker.expected} after {STEP_TIMEOUT}s")
        deadlines[key] = time.monotonic()
        spread = sorted(sub.received[key] - t0s[key] for sub in subs if key in sub.received)
        if spread:
            log(
                f"change {key}: write {took * 1000:.1f} ms, deliveries "
                f"{spread[0] * 1000:.1f}..{spread[-1] * 1000:.1f} ms "
                f"(p50 {spread[len(spread) // 2] * 1000:.1f})"
            )
        await asyncio.sleep(args.pause)
    window = (min(t0s.values(), default=0.0), time.monotonic())
    closed = closed_by_server(subs)  # before the grace period, in which nothing is written
    grace_end = time.monotonic() + GRACE
    for key in t0s:  # stragglers: late is reported, missing only if never received
        await tracker.wait_all(key, max(0.0, grace_end - time.monotonic()))

    latencies: list[float] = []
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    late = unexpected = 0
    for sub in subs:
        for key, at in sub.received.items():
            t0 = t0s.get(key)
            if t0 is None:
                unexpected += 1
                continue
            latencies.append(at - t0)
            first[key] = min(first.get(key, at), at)
            last[key] = max(last.get(key, at), at)
            late += at > deadlines[key]
    busy = sum(last[k] - t0s[k] for k in last)
    expected = len(subs) * len(t0s)
    return RunResult(
        mode=mode.name,
        servers=len(args.urls),
        sockets=len(subs),
        connect_failures=0,
        changes=len(t0s),
        latency=Latency.of(latencies),
        first_delivery=Latency.of([first[k] - t0s[k] for k in first]),
        write=Latency.of(writes),
        deliveries=len(latencies),
        expected=expected,
        missing=expected - len(latencies),
        late=late,
        duplicates=tracker.duplicates,
        unexpected=unexpected,
        deliveries_per_s=len(latencies) / busy if busy > 0 else 0.0,
        frame_bytes=int(percentile(sorted(map(float, tracker.sizes)), 50)) if tracker.sizes else 0,
        closed_by_server=closed,
        open_seconds=0.0,
        deflate_negotiated=sum(1 for s in subs if s.client is not None and s.client.deflate),
        conflicts=getattr(mode, "conflicts", 0),
        window=window,
        notes=[],
    )


async def hold(subs: list[Subscriber], seconds: float) -> None:
    """Keep the sockets open until the runner closes our stdin (or `seconds` pass)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        async with asyncio.timeout(seconds):
            await reader.readline()
    except TimeoutError:
        log(f"held {len(subs)} sockets for {seconds:g}s without being released")


class Args(argparse.Namespace):
    mode: str
    urls: list[str]
    sockets: int
    changes: int
    pause: float
    payload_bytes: int
    agent: Path | None
    result: Path | None
    hold: float
    change: str


def build_mode(args: Args) -> Mode:
    if args.mode == "floor":
        return FloorMode(args.urls, args.payload_bytes)
    if args.agent is None:
        raise SystemExit("tandem mode needs --agent (written by bench.fanout.run)")
    return TandemMode(args.urls, AgentSession.load(args.agent), args.change)


async def main(args: Args) -> None:
    mode = build_mode(args)
    tracker = Tracker()
    started = time.monotonic()
    subs, failures = await open_sockets(mode, args.urls, args.sockets, tracker)
    opened = time.monotonic() - started
    tracker.expected = len(subs)
    log(f"{args.mode}: {len(subs)}/{args.sockets} sockets subscribed in {opened:.1f}s")
    for failure in collections.Counter(failures).most_common(5):
        log(f"open failed x{failure[1]}: {failure[0]}")
    beat = asyncio.create_task(heartbeat(mode, subs))
    try:
        if not subs:
            raise SystemExit("no socket could subscribe")
        if args.hold > 0:
            ready = {"ready": len(subs), "failures": len(failures), "open_seconds": opened}
            print(json.dumps(ready), flush=True)
            await hold(subs, min(args.hold, MAX_HOLD))
            print(json.dumps({"closed_by_server": closed_by_server(subs)}), flush=True)
            return
        # The measured part allocates little; a full collection over every socket's objects
        # in the middle of a fan-out would be the load generator's pause, not the server's.
        gc.collect()
        gc.freeze()
        await asyncio.sleep(1.0)  # let the servers finish what the subscriptions started
        result = await measure(mode, subs, tracker, args)
        result.connect_failures = len(failures)
        result.open_seconds = round(opened, 2)
        result.notes = [
            f"open failed x{n}: {text}" for text, n in collections.Counter(failures).most_common(3)
        ]
        encoded = msgspec.json.encode(result)
        if args.result is not None:
            args.result.write_bytes(encoded)
        log(encoded.decode())
    finally:
        beat.cancel()
        for sub in subs:
            if sub.client is not None:
                sub.client.close()
        await mode.close()
        await asyncio.sleep(0.5)


def parse(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["floor", "tandem"])
    parser.add_argument("--urls", required=True, type=lambda s: s.split(","))
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--pause", type=float, default=0.1, help="seconds between changes")
    parser.add_argument("--payload-bytes", type=int, default=700, help="floor frame size")
    parser.add_argument("--agent", type=Path, help="agent session JSON (tandem mode)")
    parser.add_argument("--result", type=Path, help="write the result JSON here")
    parser.add_argument("--hold", type=float, default=0.0, help="only hold sockets open")
    parser.add_argument(
        "--change", choices=sorted(CHANGES), default="priority", help="what the writer toggles"
    )
    return parser.parse_args(argv, namespace=Args())


def run(argv: list[str] | None = None) -> None:
    args = parse(argv)
    raise_fd_limit()
    uvloop.run(main(args))


if __name__ == "__main__":
    run()
