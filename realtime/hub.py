"""The process's WebSocket connections, and the fan-out of broker events to them.

One broker handler per process receives every event; the hub hands it to the sessions of
that workspace only. A connection gets frames through its own outgoing queue, written by its
own task, so one slow socket never delays another: the fan-out only appends, and a connection
whose queue of live frames is full is closed with 1013 (its client reconnects and resumes).
An event is encoded once, however many sockets it goes to; only the `prev` prefix differs.

Replies to the client's own frames (a hello's replay, a resume) are queued in one piece right
after the session returns them, so live events queued later come after them; they are exempt
from the live bound, which the session's own `max_replay` bounds instead.

Heartbeat: the client sends `ping` every ~25 s and expects `pong` (browsers cannot send
WebSocket-level pings, so one mechanism serves every client), which also keeps proxies from
cutting an idle connection. The server closes a connection that sent nothing for
`idle_timeout` with 1001, and one that sent no hello within `hello_timeout` with 1008.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from realtime.broker import Broker, Reconnect
from realtime.connection import Connection, Item, Socket
from realtime.events import ACCESS_SIGNALS, Event, Signal
from realtime.frames import (
    EventFrame,
    SignalFrame,
    VisitorEventFrame,
    encode_frame,
    event_body,
    event_frame_text,
)
from realtime.session import INTERNAL_ERROR, POLICY_VIOLATION, Close, Outgoing, Session

log = logging.getLogger(__name__)

GOING_AWAY = 1001  # no heartbeat, or the server is shutting down
UNSUPPORTED_DATA = 1003  # a binary frame: the protocol is JSON text
BINARY_REFUSED = "binary frames are not supported; send JSON text"
TRY_AGAIN_LATER = 1013  # slow consumer
ACCESS_ENDED = "authentication ended: log in again"
SERVICE_RESTART = 1012  # what the person may see changed: reconnect at once
ACCESS_CHANGED = "access changed: reconnect"


class Hub:
    def __init__(
        self,
        broker: Broker,
        *,
        queue_size: int = 256,
        hello_timeout: float = 10.0,
        idle_timeout: float = 75.0,
        close_timeout: float = 5.0,
    ) -> None:
        self.queue_size = queue_size
        self.hello_timeout = hello_timeout
        self.idle_timeout = idle_timeout
        self.close_timeout = close_timeout
        self._by_ws: dict[str, set[Connection]] = {}
        self._all: set[Connection] = set()
        broker.on_event(self._on_event)
        broker.on_signal(self._on_signal)
        broker.on_reconnect(self._on_reconnect)

    def count(self, ws: str | None = None) -> int:
        return len(self._all) if ws is None else len(self._by_ws.get(ws, ()))

    async def serve(self, socket: Socket, session: Session) -> Close | None:
        """Run one accepted connection until it ends; returns how the server closed it (None
        when the client went away)."""
        conn = Connection(socket, session)
        self._all.add(conn)
        session.when_ready(lambda: self._index(conn))
        reader = asyncio.create_task(self._read(conn))
        writer = asyncio.create_task(self._write(conn))
        try:
            await conn.done.wait()
        finally:
            self._unindex(conn)
            self._all.discard(conn)
            tasks = [t for t in (reader, writer, conn.catching_up) if t is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._shut(conn)
        return conn.closing

    async def close(self, code: int = GOING_AWAY, reason: str = "server shutting down") -> None:
        conns = list(self._all)
        for conn in conns:
            conn.finish(Close(code, reason))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.close_timeout * 2):
                for conn in conns:
                    await conn.closed.wait()

    async def _shut(self, conn: Connection) -> None:
        # A stuck peer must not hold the task forever: everything here is time-boxed.
        try:
            if conn.closing is not None:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(self.close_timeout):
                        await conn.socket.close(conn.closing.code, conn.closing.reason)
            try:
                async with asyncio.timeout(self.close_timeout):
                    await conn.session.close()
            except Exception:
                log.warning("withdrawing the presence of %s failed", conn.session.conn_id)
        finally:
            conn.closed.set()

    def _index(self, conn: Connection) -> None:
        ws = conn.session.workspace_id
        if ws is not None and not conn.done.is_set():
            self._by_ws.setdefault(ws, set()).add(conn)

    def _unindex(self, conn: Connection) -> None:
        ws = conn.session.workspace_id
        conns = self._by_ws.get(ws or "")
        if conns is not None and ws is not None:
            conns.discard(conn)
            if not conns:
                del self._by_ws[ws]

    async def _read(self, conn: Connection) -> None:
        session = conn.session
        try:
            while True:
                ready = session.ready
                try:
                    async with asyncio.timeout(self.idle_timeout if ready else self.hello_timeout):
                        # The raw ASGI message: receive_text() raises on a binary frame, which
                        # would end the connection without a close frame.
                        message = await conn.socket.receive()
                except TimeoutError:
                    if ready:
                        conn.finish(Close(GOING_AWAY, f"no frame for {self.idle_timeout:g}s"))
                    else:
                        conn.finish(Close(POLICY_VIOLATION, "no hello"))
                    return
                if message["type"] == "websocket.disconnect":
                    conn.finish(None)
                    return
                text = message.get("text")
                if text is None:
                    replies: list[Outgoing] = [Close(UNSUPPORTED_DATA, BINARY_REFUSED)]
                else:
                    replies = await session.handle_text(text)
                close = self._push_replies(conn, replies)
                if close is not None:
                    # The writer closes once it reached the close; this only bounds the wait.
                    await asyncio.sleep(self.close_timeout)
                    conn.finish(close)
                    return
        except Exception:
            # Not the client going away (that is a message): a bug, or a socket failing in a
            # way it should not. The client is still told the connection ended, and why.
            log.exception("reading from %s failed", session.conn_id)
            conn.finish(Close(INTERNAL_ERROR, "server error"))

    async def _write(self, conn: Connection) -> None:
        try:
            while True:
                item = await conn.queue.get()
                if item.reply:
                    conn.replies -= 1
                if item.close is not None:
                    conn.finish(item.close)
                    return
                await conn.socket.send_text(item.text)
                if item.seq:
                    conn.written = item.seq
        except Exception:
            conn.finish(None)

    def _push_replies(self, conn: Connection, replies: list[Outgoing]) -> Close | None:
        # No await in here: the replies go into the queue as one run, ahead of any later event.
        for reply in replies:
            if isinstance(reply, Close):
                conn.queue.put_nowait(Item("", reply=True, close=reply))
                conn.replies += 1
                return reply
            seq = 0
            if isinstance(reply, EventFrame | VisitorEventFrame):
                seq = reply.event.seq
                if conn.first_prev < 0 and reply.prev is not None:
                    conn.first_prev = reply.prev
            conn.queue.put_nowait(Item(encode_frame(reply), seq=seq, reply=True))
            conn.replies += 1
        return None

    def _push_live(self, conn: Connection, text: str, seq: int = 0) -> None:
        if conn.done.is_set():
            return
        if conn.queue.qsize() - conn.replies >= self.queue_size:
            self._unindex(conn)
            reason = f"slow consumer: resume from seq {conn.resume_point()}"
            conn.finish(Close(TRY_AGAIN_LATER, reason))
            return
        conn.queue.put_nowait(Item(text, seq=seq))

    async def _on_event(self, event: Event) -> None:
        body: str | None = None
        for conn in list(self._by_ws.get(event.ws, ())):
            session = conn.session
            try:
                shown = session.offer(event)
                if shown is not None:
                    if conn.first_prev < 0:
                        conn.first_prev = session.prev_seq
                    if shown is event:  # agents: one encoding for all of them
                        body = body or event_body(event)
                        text = body
                    else:  # a visitor's projection, made for that socket
                        text = event_body(shown)
                    self._push_live(conn, event_frame_text(text, session.prev_seq), event.seq)
                elif session.behind:
                    self._start_catch_up(conn)
            except Exception:
                # The app's view failed: that socket cannot be served correctly, the rest can.
                log.exception("offering event %s to %s failed", event.seq, session.conn_id)
                conn.finish(Close(INTERNAL_ERROR, "server error"))

    async def _on_signal(self, signal: Signal) -> None:
        if signal.type in ACCESS_SIGNALS:
            self._end_access(signal)
            return
        text: str | None = None
        for conn in list(self._by_ws.get(signal.ws, ())):
            try:
                shown = conn.session.offer_signal(signal)
            except Exception:
                log.exception("offering a signal to %s failed", conn.session.conn_id)
                shown = None
            if shown is signal:
                text = text or encode_frame(SignalFrame(signal))
                self._push_live(conn, text)
            elif shown is not None:
                self._push_live(conn, encode_frame(SignalFrame(shown)))

    def _end_access(self, signal: Signal) -> None:
        """Close the sockets of a person whose access ended (logout, deactivation, a revoked
        session or token) or changed (a new role: the client reconnects and is authorized
        afresh): on every process, as soon as the notice arrives."""
        user, credential = signal.data.user, signal.data.credential
        if user is None and credential is None:
            return
        for conn in list(self._by_ws.get(signal.ws, ())):
            auth = conn.session.authorizer
            if (user is None or auth.user_id == user) and (
                credential is None or auth.credential == credential
            ):
                self._unindex(conn)
                ended = signal.type == "ended"
                conn.finish(
                    Close(POLICY_VIOLATION, ACCESS_ENDED)
                    if ended
                    else Close(SERVICE_RESTART, ACCESS_CHANGED)
                )

    async def _on_reconnect(self, info: Reconnect) -> None:
        # Events of a workspace the broker could not re-deliver in order (its log was trimmed
        # or reset meanwhile, or it had no position for it) are each socket's to fetch.
        for ws, conns in list(self._by_ws.items()):
            if ws not in info.recovered:
                for conn in list(conns):
                    self._start_catch_up(conn)

    def _start_catch_up(self, conn: Connection) -> None:
        if conn.catching_up is None or conn.catching_up.done():
            conn.catching_up = asyncio.create_task(self._catch_up(conn))
        else:
            conn.catch_up_again = True  # the running one may have read the log too early

    async def _catch_up(self, conn: Connection) -> None:
        while True:
            conn.catch_up_again = False
            try:
                frames = await conn.session.catch_up()
            except Exception:
                log.exception("catching up %s failed", conn.session.conn_id)
                conn.finish(Close(INTERNAL_ERROR, "server error"))
                return
            self._push_replies(conn, frames)
            if not conn.catch_up_again:
                return
