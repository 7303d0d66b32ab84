"""The event envelope every part of Tandem speaks: the one shape a state change travels in.

`seq` is strictly increasing per workspace and assigned by the broker when the event is
appended to the workspace's replay log; an event that has not been published yet has
`seq == 0`. `at` is an ISO-8601 UTC timestamp. `ticket` is the ticket id the event concerns,
when it concerns one; `data` is type-specific and always a JSON object.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Actor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kind: str  # "agent" | "contact" | "system" | "integration"
    id: str | None = None
    name: str | None = None


class Event(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    ws: str
    type: str
    actor: Actor
    at: str
    data: dict[str, Any] = msgspec.field(default_factory=dict)
    ticket: str | None = None
    id: str = ""  # unique id of the event, so a republished outbox entry is applied once
    seq: int = 0


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Event)


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def decode_event(raw: bytes | str) -> Event:
    return _decoder.decode(raw)
