"""The WebSocket wire protocol: every frame is one JSON object whose "type" names it.

Both directions are msgspec tagged unions, so a frame is validated by decoding it. The server
decodes `ClientFrame`s and encodes `ServerFrame`s; `realtime.client` does the opposite.

An event frame carries `prev`: the seq of the event sent on this socket before it (or the
point the socket started from). A socket subscribed to part of a workspace sees gaps in `seq`
all the time; `prev` lets its client tell those from a frame it really missed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from realtime.events import Event, EventBase, Signal, VisitorEvent

Topic = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
# A seq the browser apps can hold exactly (JavaScript numbers are doubles); no workspace gets
# near it, so a larger `since` is a client bug, answered as a bad field rather than a replay.
MAX_SEQ = 2**53 - 1
Seq = Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)]
Token = Annotated[str, msgspec.Meta(max_length=4096)]
PresenceState = Literal["online", "away"]


class _Frame(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, omit_defaults=True):
    pass


# Client -> server.


class Hello(_Frame, tag="hello"):
    token: Token | None = None
    since: Seq | None = None
    # Subscribed before the replay, so the replay covers them: subscribing after hello would
    # miss what happened while the client was away.
    topics: Annotated[list[Topic], msgspec.Meta(max_length=50)] = []


class Subscribe(_Frame, tag="subscribe"):
    topic: Topic
    id: Ident | None = None


class Unsubscribe(_Frame, tag="unsubscribe"):
    topic: Topic
    id: Ident | None = None


class Resume(_Frame, tag="resume"):
    since: Seq


class Typing(_Frame, tag="typing"):
    ticket: Ident
    on: bool


class Viewing(_Frame, tag="viewing"):
    ticket: Ident
    on: bool


class Presence(_Frame, tag="presence"):
    state: PresenceState


class Ping(_Frame, tag="ping"):
    id: Ident | None = None


ClientFrame = Hello | Subscribe | Unsubscribe | Resume | Typing | Viewing | Presence | Ping

# Server -> client.


class EventFrame(_Frame, tag="event"):
    event: Event
    prev: int | None = None


class VisitorEventFrame(_Frame, tag="event"):
    """An event in a widget visitor's projection; the server only ever encodes it."""

    event: VisitorEvent
    prev: int | None = None


def event_frame(event: Event | VisitorEvent, prev: int | None) -> EventFrame | VisitorEventFrame:
    if isinstance(event, EventBase):
        return EventFrame(event, prev)
    return VisitorEventFrame(event, prev)


class SignalFrame(_Frame, tag="signal"):
    signal: Signal


class Ack(_Frame, tag="ack"):
    for_: str = msgspec.field(name="for")
    id: str | None = None
    seq: int | None = None
    topic: str | None = None
    replayed: int | None = None


class Error(_Frame, tag="error"):
    code: str
    message: str
    id: str | None = None


class Resync(_Frame, tag="resync"):
    seq: int


class Pong(_Frame, tag="pong"):
    id: str | None = None


ServerFrame = EventFrame | SignalFrame | Ack | Error | Resync | Pong
# What the server sends: a visitor's events share the "event" tag, so they stay out of the
# union the clients decode with.
Outbound = ServerFrame | VisitorEventFrame

CLIENT_TYPES = frozenset(
    ["hello", "subscribe", "unsubscribe", "resume", "typing", "viewing", "presence", "ping"]
)


class FrameError(Exception):
    """A client frame that cannot be accepted; `code` and `message` go back in an error frame."""

    def __init__(self, code: str, message: str, id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.id = id


_client_decoder: msgspec.json.Decoder[ClientFrame] = msgspec.json.Decoder(ClientFrame)
_server_decoder: msgspec.json.Decoder[ServerFrame] = msgspec.json.Decoder(ServerFrame)
_loose_decoder = msgspec.json.Decoder(Any)
_encoder = msgspec.json.Encoder()


def decode_client_frame(raw: str | bytes) -> ClientFrame:
    try:
        return _client_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise _explain(raw, exc) from None
    except msgspec.DecodeError as exc:
        raise FrameError("bad_frame", f"not JSON: {exc}") from None


def _explain(raw: str | bytes, exc: msgspec.ValidationError) -> FrameError:
    # msgspec says what is wrong but not which of our codes it is; a loose second look at the
    # (already size-limited) frame tells an unknown type from a wrong field.
    try:
        loose = _loose_decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError) as loose_exc:
        # Well-formed JSON no frame can be: a number no float holds (1e999), or nesting deeper
        # than the decoder recurses. There is no type or field to name.
        return FrameError("bad_frame", f"unusable JSON: {loose_exc}")
    if not isinstance(loose, dict):
        return FrameError("bad_frame", "a frame must be a JSON object")
    frame_id = loose.get("id") if isinstance(loose.get("id"), str) else None
    kind = loose.get("type")
    if not isinstance(kind, str):
        return FrameError("bad_frame", 'a frame needs a string "type"', frame_id)
    if kind not in CLIENT_TYPES:
        return FrameError("unknown_type", f"unknown frame type {kind[:40]!r}", frame_id)
    return FrameError("invalid_field", f"{kind}: {exc}", frame_id)


def encode_frame(frame: Outbound | ClientFrame) -> str:
    return _encoder.encode(frame).decode()


def decode_server_frame(raw: str | bytes) -> ServerFrame:
    return _server_decoder.decode(raw)


def event_body(event: Event | VisitorEvent) -> str:
    """The event's JSON, encoded once per event however many sockets it goes to."""
    return _encoder.encode(event).decode()


def event_frame_text(body: str, prev: int) -> str:
    """The same text `encode_frame(EventFrame(event, prev))` gives, from a shared body."""
    return f'{{"type":"event","event":{body},"prev":{prev}}}'
