"""The search index on a real Redis: what a person typing into the search box gets back."""

from __future__ import annotations

import bson
import msgspec
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette

from app.domain.errors import Invalid, NotFound
from app.search.index import CONTACT, TICKET, DocUpdate, FieldText, Hit, SearchIndex
from realtime.events import (
    AuthorView,
    ContactCreated,
    ContactData,
    ContactUpdated,
    ContactView,
    Direction,
    Event,
    Kind,
    MessageCreated,
    MessageData,
    MessageView,
    TicketCreated,
    TicketData,
)
from tests.apiclient import sign_up
from tests.events import ADA, AT, ticket_view


def new_ws() -> str:
    return str(bson.ObjectId())


def opened(ws: str, ticket: str, subject: str, day: int = 1) -> TicketCreated:
    view = msgspec.structs.replace(
        ticket_view(ticket), subject=subject, created_at=f"2025-01-{day:02d}T10:00:00Z"
    )
    return TicketCreated(ws=ws, actor=ADA, at=AT, ticket=ticket, data=TicketData(view))


def posted(
    ws: str, ticket: str, message: str, text: str, kind: Kind = Kind.MESSAGE, day: int = 1
) -> MessageCreated:
    view = MessageView(
        id=message,
        ticket_id=ticket,
        direction=Direction.IN,
        kind=kind,
        author=AuthorView("contact", None, None),
        text=text,
        html=text,
        attachments=[],
        delivery_status=None,
        mentions=[],
        created_at=None,
    )
    ticket_after = msgspec.structs.replace(
        ticket_view(ticket), subject="", created_at=f"2025-01-{day:02d}T10:00:00Z"
    )
    return MessageCreated(
        ws=ws, actor=ADA, at=AT, ticket=ticket, data=MessageData(view, ticket_after)
    )


def contact(
    ws: str,
    contact_id: str,
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    updated: bool = False,
) -> Event:
    view = ContactView(
        id=contact_id,
        name=name,
        email=email,
        phone=phone,
        whatsapp_id=None,
        external_id=None,
        verified=False,
        custom_attributes={},
        created_at="2025-01-01T10:00:00Z",
        updated_at=None,
    )
    kind = ContactUpdated if updated else ContactCreated
    return kind(ws=ws, actor=ADA, at=AT, data=ContactData(view))


def ids(hits: list[Hit]) -> list[str]:
    return [hit.id for hit in hits]


@pytest.fixture
def index(redis_client: aioredis.Redis) -> SearchIndex:
    return SearchIndex(redis_client)


async def test_accents_and_case_are_ignored(index: SearchIndex) -> None:
    ws = new_ws()
    await index.project([opened(ws, "t1", "Ação de cobrança")])
    hits, _ = await index.search(ws, "acao COBRANCA ", kind=TICKET)
    assert ids(hits) == ["t1"]


async def test_prefix_finds_the_word_being_typed(index: SearchIndex) -> None:
    ws = new_ws()
    await index.project([opened(ws, "t1", "Refund request"), opened(ws, "t2", "Invoice")])
    hits, _ = await index.search(ws, "refu", kind=TICKET)
    assert ids(hits) == ["t1"]
    assert (await index.search(ws, "refu ", kind=TICKET))[0] == []


async def test_all_terms_must_match(index: SearchIndex) -> None:
    ws = new_ws()
    await index.project(
        [
            opened(ws, "t1", "Refund for order"),
            opened(ws, "t2", "Refund"),
            opened(ws, "t3", "Order missing"),
        ]
    )
    hits, _ = await index.search(ws, "refund order ", kind=TICKET)
    assert ids(hits) == ["t1"]


async def test_subject_match_ranks_before_body_match(index: SearchIndex) -> None:
    ws = new_ws()
    await index.project(
        [
            opened(ws, "body", "Question", day=9),
            posted(ws, "body", "m1", "I want a refund", day=9),
            opened(ws, "subject", "Refund", day=1),
        ]
    )
    hits, _ = await index.search(ws, "refund ", kind=TICKET)
    assert ids(hits) == ["subject", "body"]
    assert hits[0].score > hits[1].score


async def test_newer_ticket_first_on_equal_relevance(index: SearchIndex) -> None:
    ws = new_ws()
    await index.project(
        [
            opened(ws, "old", "Refund", day=1),
            opened(ws, "new", "Refund", day=5),
            opened(ws, "mid", "Refund", day=3),
        ]
    )
    hits, _ = await index.search(ws, "refund ", kind=TICKET)
    assert ids(hits) == ["new", "mid", "old"]


async def test_note_words_reach_agents_only(index: SearchIndex) -> None:
    ws = new_ws()
    await index.project(
        [
            opened(ws, "t1", "Delivery"),
            posted(ws, "t1", "m1", "customer is grumpy", kind=Kind.NOTE),
            posted(ws, "t1", "m2", "Where is my parcel"),
        ]
    )
    assert ids((await index.search(ws, "grumpy ", kind=TICKET, audience="agents"))[0]) == ["t1"]
    assert ids((await index.search(ws, "parcel ", kind=TICKET, audience="agents"))[0]) == ["t1"]
    # Only agents search tickets: no narrower audience's postings are kept for them.
    with pytest.raises(Invalid):
        await index.search(ws, "parcel ", kind=TICKET, audience="all")
    # A kind the public searches too (an article with an internal note) keeps both.
    article = [
        FieldText("body", "Returns take five days", 1),
        FieldText("internal", "grumpy carrier lately", 1, audience="agents"),
    ]
    await index.index(ws, [DocUpdate("article", "a1", article, recency=1)])
    assert ids((await index.search(ws, "grumpy ", kind="article", audience="agents"))[0]) == ["a1"]
    assert (await index.search(ws, "grumpy ", kind="article", audience="all"))[0] == []
    assert (await index.search(ws, "grum", kind="article", audience="all"))[0] == []
    assert ids((await index.search(ws, "returns ", kind="article", audience="all"))[0]) == ["a1"]


async def test_system_lines_are_not_indexed(index: SearchIndex) -> None:
    ws = new_ws()
    await index.project(
        [opened(ws, "t1", "Hello"), posted(ws, "t1", "m1", "Ada assigned", kind=Kind.SYSTEM)]
    )
    assert (await index.search(ws, "assigned ", kind=TICKET))[0] == []


async def test_applying_events_twice_changes_nothing(index: SearchIndex) -> None:
    ws = new_ws()
    events: list[Event] = [
        opened(ws, "t1", "Refund"),
        posted(ws, "t1", "m1", "refund refund please"),
        opened(ws, "t2", "Other"),
        posted(ws, "t2", "m2", "a refund"),
    ]
    await index.project(events)
    first = await index.search(ws, "refund ", kind=TICKET)
    await index.project(events)
    await index.project(events[1:2])
    assert await index.search(ws, "refund ", kind=TICKET) == first


async def test_changed_subject_replaces_the_old_terms(index: SearchIndex) -> None:
    ws = new_ws()
    await index.project([opened(ws, "t1", "Refund"), opened(ws, "t1", "Invoice")])
    assert (await index.search(ws, "refund ", kind=TICKET))[0] == []
    assert ids((await index.search(ws, "invoice ", kind=TICKET))[0]) == ["t1"]


async def test_changed_email_no_longer_matches_the_old_one(index: SearchIndex) -> None:
    ws = new_ws()
    await index.project([contact(ws, "c1", name="Ana Silva", email="ana@old.example")])
    assert ids((await index.search(ws, "ana@old.example", kind=CONTACT))[0]) == ["c1"]
    await index.project(
        [contact(ws, "c1", name="Ana Silva", email="ana@new.example", updated=True)]
    )
    assert (await index.search(ws, "ana@old.example", kind=CONTACT))[0] == []
    assert (await index.search(ws, "old ", kind=CONTACT))[0] == []
    assert ids((await index.search(ws, "ana@new.example", kind=CONTACT))[0]) == ["c1"]
    assert ids((await index.search(ws, "silva ", kind=CONTACT))[0]) == ["c1"]


async def test_phone_found_by_digits_and_local_number(index: SearchIndex) -> None:
    ws = new_ws()
    await index.project([contact(ws, "c1", name="Rui", phone="+351 912 345 678")])
    for query in ("351912345678", "+351912345678", "912345678", "912 345 678", "91234"):
        assert ids((await index.search(ws, query, kind=CONTACT))[0]) == ["c1"], query


async def test_removed_document_stops_matching(index: SearchIndex) -> None:
    ws = new_ws()
    await index.project([contact(ws, "c1", name="Marta"), contact(ws, "c2", name="Marta")])
    await index.remove(ws, CONTACT, "c1")
    assert ids((await index.search(ws, "marta ", kind=CONTACT))[0]) == ["c2"]
    assert ids((await index.search(ws, "mar", kind=CONTACT))[0]) == ["c2"]


async def test_pages_return_every_hit_once(index: SearchIndex) -> None:
    ws = new_ws()
    events: list[Event] = [opened(ws, f"t{n:02d}", "Refund", day=1 + n % 3) for n in range(23)]
    await index.project(events)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        hits, cursor = await index.search(ws, "refund ", kind=TICKET, cursor=cursor, limit=5)
        seen.extend(ids(hits))
        pages += 1
        if cursor is None:
            break
    assert pages == 5
    assert sorted(seen) == sorted(f"t{n:02d}" for n in range(23))
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("cursor", ["garbage!", "", "bm90IGpzb24", "WzEsMiwzXQ"])
async def test_malformed_cursor_is_not_found(index: SearchIndex, cursor: str) -> None:
    with pytest.raises(NotFound):
        await index.search(new_ws(), "refund", kind=TICKET, cursor=cursor)


async def test_search_leaves_no_scratch_keys(
    index: SearchIndex, redis_client: aioredis.Redis
) -> None:
    ws = new_ws()
    await index.project([opened(ws, "t1", "Refund order"), opened(ws, "t2", "Refund")])
    assert ids((await index.search(ws, "order ref", kind=TICKET))[0]) == ["t1"]
    assert [key async for key in redis_client.scan_iter(match=f"*{ws}*:tmp:*")] == []


async def test_retried_old_message_keeps_the_new_subject(index: SearchIndex) -> None:
    ws = new_ws()
    message = posted(ws, "t1", "m1", "hello")
    await index.project([opened(ws, "t1", "Refund"), message, opened(ws, "t1", "Invoice")])
    await index.project([message])
    assert ids((await index.search(ws, "invoice ", kind=TICKET))[0]) == ["t1"]
    assert (await index.search(ws, "refund ", kind=TICKET))[0] == []


async def test_workspaces_do_not_see_each_other(index: SearchIndex) -> None:
    ws, other = new_ws(), new_ws()
    await index.project([opened(ws, "t1", "Refund")])
    assert (await index.search(other, "refund ", kind=TICKET))[0] == []


async def test_rebuild_restores_results(app: Starlette, index: SearchIndex) -> None:
    owner = await sign_up(app)
    try:
        ws = (await owner.get("/me")).json()["workspace"]["id"]
        for subject, text in [("Refund please", "broken kettle"), ("Invoice", "need a refund")]:
            response = await owner.post(
                "/tickets", json={"subject": subject, "message": {"text": text}}
            )
            assert response.status_code == 201, response.text
        created = await owner.post(
            "/contacts", json={"name": "Zoë Quinn", "email": "zoe@shop.example"}
        )
        assert created.status_code == 201, created.text

        assert await index.rebuild(ws) == 3
        tickets = (await index.search(ws, "refund ", kind=TICKET))[0]
        assert len(tickets) == 2
        assert ids((await index.search(ws, "kettle ", kind=TICKET))[0]) == [tickets[0].id]
        contacts = (await index.search(ws, "zoe@shop.example", kind=CONTACT))[0]
        assert ids(contacts) == [created.json()["id"]]

        assert await index.drop(ws) > 0
        assert (await index.search(ws, "refund ", kind=TICKET))[0] == []
        assert await index.rebuild(ws) == 3
        assert (await index.search(ws, "refund ", kind=TICKET))[0] == tickets
    finally:
        await owner.aclose()


async def test_common_words_are_capped(index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.search.index.MAX_CANDIDATES", 3)
    ws = new_ws()
    events: list[Event] = [opened(ws, f"t{n}", "Refund") for n in range(6)]
    events.append(opened(ws, "rare", "Refund kettle"))
    await index.project(events)
    assert len((await index.search(ws, "refund ", kind=TICKET))[0]) == 3
    assert ids((await index.search(ws, "refund kettle ", kind=TICKET))[0]) == ["rare"]
    assert ids((await index.search(ws, "kettle re", kind=TICKET))[0]) == ["rare"]
