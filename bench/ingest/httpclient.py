"""A minimal HTTP/1.1 keep-alive client as a bare asyncio Protocol, one request at a time per
connection.

Why not httpx for the measured requests: on this kind of machine its per-request work (the
connection pool, anyio, header models) caps a load generator at a few hundred requests a
second with a core to itself, which would be measured as server latency, and would make the
floor a measure of the client. Here a request is one write of prepared bytes, and an answer
one parse of the status line and headers; the answer time is taken when its last bytes
reach user space.

It reads answers with Content-Length or chunked bodies, which is what uvicorn sends.
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

import httpx


class ConnectionClosed(Exception):
    pass


def prepare(
    method: str, host: str, port: int, path: str, body: bytes, headers: dict[str, str]
) -> bytes:
    """A request's bytes, ready to be written as many times as needed."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.answer: asyncio.Future[tuple[int, bytes, float]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(ConnectionClosed(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buf += data
        answer = self.answer
        if answer is None or answer.done():
            return
        parsed = self._parse()
        if parsed is not None:
            answer.set_result((parsed[0], parsed[1], now))

    def _parse(self) -> tuple[int, bytes] | None:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body, used = _dechunk(self.buf, start)
            if body is None:
                return None
            del self.buf[:used]
            return status, body
        length = int(headers.get("content-length", "0"))
        if len(self.buf) < start + length:
            return None
        body = bytes(self.buf[start : start + length])
        del self.buf[: start + length]
        return status, body

    async def request(self, raw: bytes) -> tuple[int, bytes, float]:
        """Status, body, and the monotonic time the answer's last bytes arrived."""
        if self.closed or self.transport is None:
            raise ConnectionClosed("connection closed")
        self.answer = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.answer

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _dechunk(buf: bytearray, start: int) -> tuple[bytes | None, int]:
    parts = []
    at = start
    while True:
        line_end = buf.find(b"\r\n", at)
        if line_end < 0:
            return None, 0
        size = int(bytes(buf[at:line_end]).split(b";")[0], 16)
        chunk_start = line_end + 2
        if len(buf) < chunk_start + size + 2:
            return None, 0
        if size == 0:
            return b"".join(parts), chunk_start + 2
        parts.append(bytes(buf[chunk_start : chunk_start + size]))
        at = chunk_start + size + 2


async def open_connection(url: str) -> Connection:
    parts = httpx.URL(url)
    assert parts.host == "127.0.0.1", "the benchmark talks to loopback only"
    _, conn = await asyncio.get_running_loop().create_connection(
        Connection, parts.host, int(parts.port or 80)
    )
    return conn
