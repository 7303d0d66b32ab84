"""The agents watching the inbox: S live sockets, each subscribed to `inbox` with its own
socket token, recording when each `message.created` event of a run arrives.

Runs on uvloop in its own process, apart from the load generator. A frame's receive time is
taken when its bytes reach user space (bench/fanout/wsclient.py), on the same monotonic clock
the load generator uses. Sockets are spread round-robin over the Tandem processes. Once all
are subscribed it prints `{"ready": S}`; then it waits for a line `expect <count>` on stdin,
waits until every socket has had `count` events of the run (or a timeout), writes its result
and prints `{"done": …}`.

    python -m bench.ingest.sockets --target target.json --run r1 --sockets 20 --result s.json
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import sys
import time
from pathlib import Path

import httpx
import msgspec
import uvloop

from bench.fanout.modes import SetupFrames
from bench.fanout.wsclient import WsClient, connect
from bench.ingest.payloads import key_of
from bench.ingest.setup import PREFIX, Target

HEARTBEAT_SECONDS = 20.0  # Tandem's hub closes a socket that sent no frame for 75 s
OPEN_SECONDS = 15.0
MARK = b'"message.created"'


class _Message(msgspec.Struct):
    text: str = ""


class _Data(msgspec.Struct):
    message: _Message | None = None


class _Event(msgspec.Struct):
    type: str = ""
    data: _Data | None = None


class _Frame(msgspec.Struct):
    type: str = ""
    event: _Event | None = None


class Received(msgspec.Struct):
    sockets: int
    deliveries: list[list[tuple[int, float]]]  # per socket: (message number, receive time)
    duplicates: int
    other_runs: int  # message.created events of messages another run posted
    closed: dict[str, int]  # close code -> sockets closed before the end
    cpu_seconds: float
    waited_seconds: float


class Reader:
    """One socket's frames: setup replies until subscribed, then the run's message events."""

    decoder = msgspec.json.Decoder(_Frame)

    def __init__(self, run: str) -> None:
        self.run = run
        self.setup = SetupFrames()
        self.ready = False
        self.seen: dict[int, float] = {}
        self.duplicates = 0
        self.other_runs = 0
        self.client: WsClient | None = None

    def on_message(self, payload: bytes, at: float) -> None:
        if not self.ready:
            self.setup.put(payload)
            return
        if MARK not in payload:
            return
        try:
            frame = self.decoder.decode(payload)
        except msgspec.ValidationError:
            return
        event = frame.event
        if event is None or event.type != "message.created" or event.data is None:
            return
        message = event.data.message
        key = key_of(message.text) if message is not None else None
        if key is None or key[0] != self.run:
            self.other_runs += 1
            return
        if key[1] in self.seen:
            self.duplicates += 1
            return
        self.seen[key[1]] = at


async def open_reader(http: httpx.AsyncClient, api: str, reader: Reader, run: str) -> None:
    token = (await http.post(api + PREFIX + "/realtime/token")).raise_for_status().json()["token"]
    host_port = httpx.URL(api)
    assert host_port.host == "127.0.0.1", "the benchmark talks to loopback only"
    reader.client = await connect(
        host_port.host,
        int(host_port.port or 80),
        "/live?token=" + token,
        reader.on_message,
        clock=time.monotonic,
        wait_s=OPEN_SECONDS,
    )
    reader.client.send_text(b'{"type":"hello"}')
    await reader.setup.expect(lambda f: f.get("type") == "ack" and f.get("for") == "hello", 15)
    reader.client.send_text(b'{"type":"subscribe","topic":"inbox","id":"s1"}')
    await reader.setup.expect(lambda f: f.get("type") == "ack" and f.get("for") == "subscribe", 15)
    reader.ready = True


async def heartbeat(readers: list[Reader]) -> None:
    """An application `ping` on every socket every HEARTBEAT_SECONDS. Not timed from the
    client's last write: its pongs to uvicorn's WebSocket-level pings are writes too, but
    Tandem's idle check sees only application frames."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        for reader in readers:
            if reader.client is not None:
                reader.client.send_text(b'{"type":"ping"}')


async def read_line() -> str:
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), sys.stdin)
    return (await stream.readline()).decode()


async def main(args: argparse.Namespace) -> None:
    target = Target.load(args.target)
    readers = [Reader(args.run) for _ in range(args.sockets)]
    async with httpx.AsyncClient(
        cookies=target.cookies, headers={"X-CSRF-Token": target.csrf}, timeout=30
    ) as http:
        for i, reader in enumerate(readers):
            await open_reader(http, target.apis[i % len(target.apis)], reader, args.run)
    beat = asyncio.create_task(heartbeat(readers))
    cpu0 = time.process_time()
    print(json.dumps({"ready": len(readers)}), flush=True)
    try:
        line = (await read_line()).split()
        expected = int(line[1]) if len(line) == 2 and line[0] == "expect" else 0
        started = time.monotonic()
        deadline = started + args.wait
        while time.monotonic() < deadline:
            if all(len(r.seen) >= expected for r in readers):
                break
            await asyncio.sleep(0.01)
        waited = time.monotonic() - started
        closed = collections.Counter(
            str(r.client.close_code or "no close frame")
            for r in readers
            if r.client is not None and (r.client.closed.done() or r.client.close_code)
        )
        result = Received(
            sockets=len(readers),
            deliveries=[sorted(r.seen.items()) for r in readers],
            duplicates=sum(r.duplicates for r in readers),
            other_runs=sum(r.other_runs for r in readers),
            closed=dict(closed),
            cpu_seconds=time.process_time() - cpu0,
            waited_seconds=waited,
        )
        args.result.write_bytes(msgspec.json.encode(result))
        got = sum(len(r.seen) for r in readers)
        print(json.dumps({"done": got, "expected": expected * len(readers)}), flush=True)
    finally:
        beat.cancel()
        for reader in readers:
            if reader.client is not None:
                reader.client.close()
        await asyncio.sleep(0.2)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", type=Path, required=True, help="written by bench.ingest.run")
    parser.add_argument("--run", required=True, help="the run whose messages are counted")
    parser.add_argument("--sockets", type=int, default=20)
    parser.add_argument("--wait", type=float, default=20.0, help="seconds after `expect`")
    parser.add_argument("--result", type=Path, required=True)
    return parser.parse_args(argv)


if __name__ == "__main__":
    uvloop.run(main(parse()))
