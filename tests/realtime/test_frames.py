from __future__ import annotations

import msgspec
import pytest

from realtime.events import Signal, SignalData
from realtime.frames import (
    Ack,
    Error,
    EventFrame,
    FrameError,
    Hello,
    Presence,
    Resync,
    SignalFrame,
    Subscribe,
    Typing,
    decode_client_frame,
    decode_server_frame,
    encode_frame,
    event_body,
    event_frame_text,
)
from tests.realtime.helpers import frame, make_event


def test_client_frames_decode_to_their_types() -> None:
    assert decode_client_frame(frame("hello", token="tok", since=5, topics=["inbox"])) == Hello(
        token="tok", since=5, topics=["inbox"]
    )
    assert decode_client_frame(frame("hello")) == Hello()
    assert decode_client_frame(frame("subscribe", topic="ticket:9", id="a")) == Subscribe(
        topic="ticket:9", id="a"
    )
    assert decode_client_frame(frame("typing", ticket="t1", on=True)) == Typing(
        ticket="t1", on=True
    )
    assert decode_client_frame(frame("presence", state="away")) == Presence(state="away")


@pytest.mark.parametrize(
    ("raw", "code", "names"),
    [
        ("{not json", "bad_frame", "JSON"),
        ("[1, 2]", "bad_frame", "object"),
        ('{"since": 1}', "bad_frame", "type"),
        (frame("shout", id="x"), "unknown_type", "shout"),
        (frame("hello", since="yesterday"), "invalid_field", "$.since"),
        (frame("hello", since=-1), "invalid_field", "$.since"),
        (frame("typing", ticket="t1"), "invalid_field", "on"),
        (frame("presence", state="invisible"), "invalid_field", "$.state"),
        (frame("subscribe", topic="inbox", colour="red"), "invalid_field", "colour"),
        (frame("subscribe", topic="x" * 201), "invalid_field", "$.topic"),
        ('{"type": "ping", "id": 1e999}', "bad_frame", "out of range"),
        ('{"type": "ping", "x": ' + "[" * 5000 + "]" * 5000 + "}", "bad_frame", "recursion"),
        ('{"type": "ping"} garbage', "bad_frame", "trailing characters"),
        (frame("resume", since=2**53), "invalid_field", "$.since"),
        (frame("hello", since=10**40), "invalid_field", "$.since"),
    ],
)
def test_a_bad_frame_is_a_typed_error_naming_what_is_wrong(raw: str, code: str, names: str) -> None:
    with pytest.raises(FrameError) as caught:
        decode_client_frame(raw)

    assert caught.value.code == code
    assert names in caught.value.message


def test_the_error_of_a_bad_frame_carries_its_id_when_it_has_one() -> None:
    with pytest.raises(FrameError) as caught:
        decode_client_frame(frame("subscribe", topic=7, id="req-3"))

    assert (caught.value.code, caught.value.id) == ("invalid_field", "req-3")


def test_server_frames_round_trip_with_the_wire_names() -> None:
    ack = Ack("hello", seq=12, replayed=3)
    signal = Signal(ws="w", type="typing", data=SignalData(user="u1", expires_in=6), ticket="t1")

    assert msgspec.json.decode(encode_frame(ack)) == {
        "type": "ack",
        "for": "hello",
        "seq": 12,
        "replayed": 3,
    }
    for sent in (ack, Error("forbidden", "no", "i"), Resync(40), SignalFrame(signal)):
        assert decode_server_frame(encode_frame(sent)) == sent


def test_an_event_frame_built_from_a_shared_body_is_the_same_frame() -> None:
    event = msgspec.structs.replace(make_event(3), seq=41)

    shared = event_frame_text(event_body(event), prev=38)

    assert shared == encode_frame(EventFrame(event, prev=38))
    assert decode_server_frame(shared) == EventFrame(event, prev=38)
