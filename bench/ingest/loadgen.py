"""The load generator: N requests from C concurrent senders, each one's start and answer time.

Runs on uvloop in its own process, apart from the socket readers and the servers. Each sender
holds one keep-alive connection to each server process (bench/ingest/httpclient.py), opened
before the clock starts. Every request is built, and every WhatsApp webhook signed, before the
first one is sent. Requests go round-robin over the servers. Closed loop by default: each sender
posts its next request as soon as the last is answered. With --rate R, request i starts no
earlier than i/R seconds after the first (open loop, still at most C in flight).

    python -m bench.ingest.loadgen tandem --target target.json --run r1 --messages 1000 \
        --concurrency 32 --result r1.json
    python -m bench.ingest.loadgen floor --target target.json --urls http://127.0.0.1:9001 ...
    python -m bench.ingest.loadgen healthz --target target.json ...

Modes: `tandem` posts the webhooks to Tandem; `floor` posts the same requests (same bodies and
headers) to the floor app; `healthz` sends `GET /healthz` to Tandem.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import sys
import time
from pathlib import Path

import httpx
import msgspec
import uvloop

from bench.ingest.httpclient import Connection, ConnectionClosed, open_connection, prepare
from bench.ingest.payloads import EMAIL, channel_of, request
from bench.ingest.setup import Target

TIMEOUT = 60.0


class Sent(msgspec.Struct):
    mode: str
    run: str
    concurrency: int
    rate: float
    t0: list[float]  # monotonic start of each request
    t1: list[float]  # monotonic time its answer was read (or it failed)
    status: list[int]  # HTTP status; 0 when no answer came
    stored: list[bool]  # the answer says the message was stored as new (tandem mode)
    channel: list[str]
    errors: dict[str, int]  # a few kinds of failure, and how often
    cpu_seconds: float


def log(message: str) -> None:
    print(f"[loadgen] {message}", file=sys.stderr, flush=True)


def stored_as_new(channel: str, body: bytes) -> bool:
    answer = msgspec.json.decode(body)
    return bool(answer.get("created")) if channel == EMAIL else int(answer.get("messages", 0)) == 1


async def main(args: argparse.Namespace) -> None:
    target = Target.load(args.target)
    urls: list[str] = args.urls or target.apis
    n, c = args.messages, args.concurrency
    hosts = [httpx.URL(u) for u in urls]

    def raw(i: int) -> bytes:
        url = hosts[i % len(hosts)]
        if args.mode == "healthz":
            return prepare("GET", url.host, url.port or 80, "/healthz", b"", {})
        path, body, headers = request(target, args.run, i, args.customers)
        return prepare("POST", url.host, url.port or 80, path, body, headers)

    built = [raw(i) for i in range(n)]
    sent = Sent(
        mode=args.mode,
        run=args.run,
        concurrency=c,
        rate=args.rate,
        t0=[0.0] * n,
        t1=[0.0] * n,
        status=[0] * n,
        stored=[False] * n,
        channel=[channel_of(i) if args.mode != "healthz" else "healthz" for i in range(n)],
        errors={},
        cpu_seconds=0.0,
    )
    errors: collections.Counter[str] = collections.Counter()
    # Each sender has its own connection to each server, opened before the clock starts.
    pools = [await asyncio.gather(*(open_connection(u) for u in urls)) for _ in range(c)]
    gc.collect()
    gc.freeze()
    cpu0 = time.process_time()
    next_i = 0
    start = time.monotonic()

    async def sender(connections: list[Connection]) -> None:
        nonlocal next_i
        while next_i < n:
            i = next_i
            next_i += 1
            if args.rate > 0:
                delay = start + i / args.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            k = i % len(connections)
            t0 = time.monotonic()
            try:
                if connections[k].closed:
                    connections[k] = await open_connection(urls[k])
                status, body, t1 = await asyncio.wait_for(connections[k].request(built[i]), TIMEOUT)
                sent.status[i] = status
                if status >= 300:
                    errors[f"{status} {body[:120].decode(errors='replace')}"] += 1
                elif args.mode == "tandem":
                    sent.stored[i] = stored_as_new(sent.channel[i], body)
            except (OSError, ConnectionClosed, TimeoutError) as exc:
                t1 = time.monotonic()
                errors[f"{type(exc).__name__}: {exc}"[:160]] += 1
                connections[k].close()
                connections[k] = await open_connection(urls[k])
            sent.t0[i], sent.t1[i] = t0, t1

    try:
        await asyncio.gather(*(sender(pool) for pool in pools))
        sent.cpu_seconds = time.process_time() - cpu0
    finally:
        for pool in pools:
            for conn in pool:
                conn.close()
    sent.errors = dict(errors.most_common(5))
    took = max(sent.t1) - min(sent.t0)
    ok = sum(1 for s in sent.status if 200 <= s < 300)
    log(f"{args.mode} {args.run}: {ok}/{n} answered 2xx in {took:.2f}s ({n / took:.0f}/s)")
    for text, count in sent.errors.items():
        log(f"x{count}: {text}")
    args.result.write_bytes(msgspec.json.encode(sent))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["tandem", "floor", "healthz"])
    parser.add_argument("--target", type=Path, required=True, help="written by bench.ingest.run")
    parser.add_argument("--urls", type=lambda s: s.split(","), help="servers, if not Tandem's")
    parser.add_argument("--run", default="r0", help="tag in every message text")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s; 0: closed loop")
    parser.add_argument("--result", type=Path, required=True)
    return parser.parse_args(argv)


if __name__ == "__main__":
    uvloop.run(main(parse()))
