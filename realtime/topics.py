"""What a socket can subscribe to, and which topics an event or a signal belongs to.

    inbox          every ticket, message and contact event of the workspace (as far as the
                   principal may see it), and typing/viewing on any ticket
    team:<id>      events whose data names the team (`team_id`, or `ticket.team_id`)
    ticket:<id>    events and typing/viewing of one ticket
    presence       who is online or away

Whether the principal may subscribe is the app's `Authorizer`'s call, not this module's.
"""

from __future__ import annotations

from realtime.events import Event, Signal, team_of

PREFIXED = ("team:", "ticket:")
PLAIN = frozenset({"inbox", "presence"})


def valid_topic(topic: str) -> bool:
    if topic in PLAIN:
        return True
    return any(topic.startswith(p) and len(topic) > len(p) for p in PREFIXED)


def event_topics(event: Event) -> frozenset[str]:
    # Every event kind is about a ticket, a message or a contact: all of them are inbox news.
    topics = {"inbox"}
    if event.ticket:
        topics.add(f"ticket:{event.ticket}")
    team = team_of(event)
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
