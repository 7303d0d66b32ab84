from realtime.envelope import Actor, Event
from realtime.topics import event_topics

ACTOR = Actor(kind="agent", id="u1")


def event(type_: str, ticket: str | None = None, data: dict | None = None) -> Event:
    return Event(
        ws="w", type=type_, actor=ACTOR, at="2026-11-23T00:00:00Z", ticket=ticket, data=data or {}
    )


def test_ticket_events_reach_the_inbox_the_ticket_and_its_team() -> None:
    topics = event_topics(event("ticket.updated", "t1", {"ticket": {"team_id": "billing"}}))
    assert topics == {"inbox", "ticket:t1", "team:billing"}


def test_contact_changes_reach_the_inbox_for_open_contact_sidebars() -> None:
    assert event_topics(event("contact.updated", data={"contact": {"id": "c1"}})) == {"inbox"}
