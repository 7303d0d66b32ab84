"""A widget visitor's socket may say they are typing, never that they are online or viewing:
either would count the visitor among the agents (the widget's "we're online", the agents'
"viewing" notices)."""

from __future__ import annotations

import time

from app.live.visitor_access import VisitorAccess
from realtime.events import Signal
from realtime.frames import Error, Presence, Viewing
from realtime.memory_broker import MemoryBroker
from realtime.session import Limits
from realtime.signals import SignalSender

WS, CONTACT, TICKET = (
    "6565f0f0f0f0f0f0f0f0f0f0",
    "6565f0f0f0f0f0f0f0f0f0f1",
    "6565f0f0f0f0f0f0f0f0f0f2",
)


async def test_a_visitor_cannot_claim_to_be_online_or_viewing() -> None:
    broker = MemoryBroker()
    heard: list[Signal] = []

    async def hear(signal: Signal) -> None:
        heard.append(signal)

    broker.on_signal(hear)
    sender = SignalSender(
        broker, VisitorAccess(WS, CONTACT, "Carla"), None, "conn-1", Limits(), time.monotonic
    )
    for frame in (Presence(state="online"), Viewing(ticket=TICKET, on=True)):
        refused = await sender.handle(frame)
        assert isinstance(refused, Error)
        assert refused.code == "forbidden"
    await sender.withdraw()  # leaving says nothing either: nothing was announced
    assert heard == []
