"""A minimal WebSocket client as a bare asyncio Protocol, for holding thousands of sockets.

Why not the `websockets` client: with thousands of sockets in one load-generator process, the
client's own per-message cost (a task wake-up and an assembler per frame) would be measured
as server latency. Here a frame costs one parse in `data_received`, and the receive time is
taken the moment its bytes reach user space, before any other Python work.

It speaks RFC 6455 as a client: masked frames out; unmasked text, binary, continuation, ping
(answered with pong) and close frames in. It offers permessage-deflate like a browser does
(so a server that would compress for browsers compresses here too, and its memory shows it)
and inflates when the server accepts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import zlib
from collections.abc import Callable
from typing import cast

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OFFER_DEFLATE = "permessage-deflate; client_max_window_bits"
OnMessage = Callable[[bytes, float], None]


class HandshakeError(Exception):
    pass


def _mask(payload: bytes) -> bytes:
    key = os.urandom(4)
    n = len(payload)
    stream = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")
    return key + masked


def encode_frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return header + _mask(payload)


class WsClient(asyncio.Protocol):
    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        on_message: OnMessage,
        *,
        clock: Callable[[], float],
        offer_deflate: bool = True,
    ) -> None:
        self.host, self.port, self.path = host, port, path
        self.on_message = on_message
        self.clock = clock
        self.offer_deflate = offer_deflate
        self.transport: asyncio.Transport | None = None
        self.open: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.deflate = False
        self.last_sent = 0.0
        self._key = base64.b64encode(os.urandom(16))
        self._buf = bytearray()
        self._handshaken = False
        self._parts: list[bytes] = []
        self._compressed = False
        self._inflater: zlib._Decompress | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)
        assert self.transport is not None
        lines = [
            f"GET {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self._key.decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        if self.offer_deflate:
            lines.append(f"Sec-WebSocket-Extensions: {OFFER_DEFLATE}")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.last_sent = self.clock()

    def data_received(self, data: bytes) -> None:
        now = self.clock()
        self._buf += data
        if not self._handshaken and not self._read_handshake():
            return
        self._read_frames(now)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.open.done():
            self.open.set_exception(HandshakeError(f"connection lost: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)

    # Sending

    def send_text(self, text: str | bytes) -> None:
        data = text.encode() if isinstance(text, str) else text
        self._send(0x1, data)

    def close(self, code: int = 1000) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._send(0x8, struct.pack("!H", code))
            self.transport.close()

    def _send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_frame(opcode, payload))
            self.last_sent = self.clock()

    # Receiving

    def _read_handshake(self) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > 16384:
                self._fail("handshake answer too long")
            return False
        head = bytes(self._buf[:end]).decode("latin-1").split("\r\n")
        del self._buf[: end + 4]
        status = head[0].split(" ", 2)
        if len(status) < 2 or status[1] != "101":
            self._fail(f"handshake refused: {head[0]}")
            return False
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(self._key + GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            self._fail("bad Sec-WebSocket-Accept")
            return False
        if "permessage-deflate" in headers.get("sec-websocket-extensions", ""):
            self.deflate = True
            self._inflater = zlib.decompressobj(-15)
        self._handshaken = True
        self.open.set_result(None)
        return True

    def _fail(self, reason: str) -> None:
        if not self.open.done():
            self.open.set_exception(HandshakeError(reason))
        if self.transport is not None:
            self.transport.close()

    def _read_frames(self, now: float) -> None:
        buf = self._buf
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            length, offset = b1 & 0x7F, 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, offset = struct.unpack_from("!H", buf, 2)[0], 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, offset = struct.unpack_from("!Q", buf, 2)[0], 10
            if b1 & 0x80:
                self._fail("the server masked a frame")
                return
            if len(buf) < offset + length:
                return
            payload = bytes(buf[offset : offset + length])
            del buf[: offset + length]
            self._frame(b0, payload, now)

    def _frame(self, b0: int, payload: bytes, now: float) -> None:
        opcode = b0 & 0x0F
        if opcode in (0x1, 0x2):
            self._parts = [payload]
            self._compressed = bool(b0 & 0x40)
        elif opcode == 0x0:
            self._parts.append(payload)
        elif opcode == 0x9:
            self._send(0xA, payload)
            return
        elif opcode == 0x8:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self.close(self.close_code if self.close_code != 1005 else 1000)
            return
        else:
            return  # pong
        if not b0 & 0x80:
            return  # more fragments to come
        message = b"".join(self._parts)
        self._parts = []
        if self._compressed and self._inflater is not None:
            message = self._inflater.decompress(message + b"\x00\x00\xff\xff")
        self.on_message(message, now)


async def connect(
    url_host: str,
    port: int,
    path: str,
    on_message: OnMessage,
    *,
    clock: Callable[[], float],
    wait_s: float,
    offer_deflate: bool = True,
) -> WsClient:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(wait_s):
        _, client = await loop.create_connection(
            lambda: WsClient(
                url_host, port, path, on_message, clock=clock, offer_deflate=offer_deflate
            ),
            url_host,
            port,
        )
    try:
        async with asyncio.timeout(wait_s):
            await client.open
    except BaseException:
        if client.transport is not None:
            client.transport.abort()  # a refused or stalled handshake must not keep its fd
        raise
    return client
