"""What a socket can subscribe to, and which topics an event or a signal belongs to.

    inbox          every ticket, message and contact event of the workspace (as far as the
                   principal may see it), and typing/viewing on any ticket
    team:<id>      events whose data names the team (`team_id`, or `ticket.team_id`)
    ticket:<id>    events and typing/viewing of one ticket
    presence       who is online or away

Whether the principal may subscribe is the app's `Authorizer`'s call, not this module's.
"""

from __future__ import annotations

from typing import Any

from realtime.broker import Signal
from realtime.envelope import Event

PREFIXED = ("team:", "ticket:")
PLAIN = frozenset({"inbox", "presence"})


def valid_topic(topic: str) -> bool:
    if topic in PLAIN:
        return True
    return any(topic.startswith(p) and len(topic) > len(p) for p in PREFIXED)


def _team_of(data: dict[str, Any]) -> str | None:
    team = data.get("team_id")
    ticket = data.get("ticket")
    if team is None and isinstance(ticket, dict):
        team = ticket.get("team_id")
    return team if isinstance(team, str) and team else None


def event_topics(event: Event) -> frozenset[str]:
    topics: set[str] = set()
    if event.ticket:
        topics.add(f"ticket:{event.ticket}")
    if event.ticket or event.type.startswith(("ticket.", "message.", "contact.")):
        topics.add("inbox")
    team = _team_of(event.data)
    if team:
        topics.add(f"team:{team}")
    return frozenset(topics)


def signal_topics(signal: Signal) -> frozenset[str]:
    if signal.type == "presence":
        return frozenset({"presence"})
    if signal.ticket:
        # Collision warnings ("Ada is replying") show in the ticket list as well as the ticket.
        return frozenset({f"ticket:{signal.ticket}", "inbox"})
    return frozenset()
