"""The floor: the least a WebSocket broadcast can cost with the same library stack.

A bare `websockets` server on uvloop (as uvicorn runs Tandem): no authentication, no store,
no broker, compression off. Every socket on any path but /control is a subscriber and gets
`{"type":"ack","for":"subscribe"}` once it is in the broadcast set, so the load generator
knows when it will receive broadcasts. Each text frame on /control is sent verbatim to every
subscriber with `websockets.broadcast()`, which writes without awaiting (and skips, with a
logged warning, a socket whose write buffer is full — the load generator sees that as a
missing delivery).

    python -m bench.fanout.floor_server --port 9001
"""

from __future__ import annotations

import argparse
import logging
import resource

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve

SUBSCRIBED = '{"type":"ack","for":"subscribe"}'


def raise_fd_limit() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Floor:
    def __init__(self) -> None:
        self.subscribers: set[ServerConnection] = set()

    async def handle(self, ws: ServerConnection) -> None:
        if ws.request is not None and ws.request.path == "/control":
            async for message in ws:
                broadcast(self.subscribers, message)
            return
        self.subscribers.add(ws)
        try:
            await ws.send(SUBSCRIBED)
            await ws.wait_closed()
        finally:
            self.subscribers.discard(ws)


async def serve_forever(port: int) -> None:
    floor = Floor()
    # compression=None: no permessage-deflate, the cheapest setting in memory and CPU.
    async with serve(floor.handle, "127.0.0.1", port, compression=None, backlog=4096) as server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    raise_fd_limit()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    uvloop.run(serve_forever(args.port))


if __name__ == "__main__":
    main()
