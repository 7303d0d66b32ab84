from realtime.topics import event_topics
from tests.events import contact_event, message_event, ticket_event


def test_ticket_events_reach_the_inbox_the_ticket_and_its_team() -> None:
    topics = event_topics(ticket_event(ticket="t1", team_id="billing"))
    assert topics == {"inbox", "ticket:t1", "team:billing"}


def test_messages_reach_the_inbox_and_their_ticket() -> None:
    assert event_topics(message_event(1, ticket="t2")) == {"inbox", "ticket:t2"}


def test_contact_changes_reach_the_inbox_for_open_contact_sidebars() -> None:
    assert event_topics(contact_event(contact="c1")) == {"inbox"}
