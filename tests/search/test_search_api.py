"""Agents find tickets by any word written in them — over email, webchat or in a note — and
contacts by name, email or phone, through the list endpoints, best match first."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from starlette.applications import Starlette

from app.actions.messages import NewMessage, post_message
from app.actions.tickets import open_ticket
from app.documents.message import Author
from realtime.events import Actor, Channel, Direction, Kind
from tests.apiclient import AgentClient, runtime_of, sign_up


async def found(agent: AgentClient, text: str, **filters: str) -> list[str]:
    page = await agent.get("/tickets", params={"text": text, **filters})
    assert page.status_code == 200, page.text
    return [t["subject"] for t in page.json()["items"]]


async def customer_ticket(
    app: Starlette, ws: str, channel: Channel, subject: str, text: str
) -> str:
    deps = runtime_of(app).deps
    ticket = await open_ticket(
        deps,
        workspace_id=PydanticObjectId(ws),
        subject=subject,
        channel=channel,
        actor=Actor(kind="channel"),
    )
    assert ticket.id is not None
    new = NewMessage(
        text=text, direction=Direction.IN, kind=Kind.MESSAGE, author=Author(kind="contact")
    )
    await post_message(deps, PydanticObjectId(ws), ticket.id, new)
    return str(ticket.id)


async def test_words_from_email_webchat_and_notes_find_their_tickets(app: Starlette) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    await customer_ticket(app, ws, Channel.EMAIL, "Order question", "My parcel never arrived")
    await customer_ticket(app, ws, Channel.WEBCHAT, "Chat", "Can I pay with a voucher?")
    noted = (await owner.post("/tickets", json={"subject": "Billing"})).json()
    await owner.post(
        f"/tickets/{noted['id']}/messages", json={"text": "Escalated to finance", "kind": "note"}
    )
    await owner.post("/tickets", json={"subject": "Café closed", "message": {"text": "hi"}})

    assert await found(owner, "parcel") == ["Order question"]  # an email's body
    assert await found(owner, "VOUCHER") == ["Chat"]  # a webchat message, any case
    assert await found(owner, "finance") == ["Billing"]  # an agent's note
    assert await found(owner, "cafe") == ["Café closed"]  # accents folded
    assert await found(owner, "arriv") == ["Order question"]  # the word being typed
    assert await found(owner, "parcel voucher") == []  # every word must match
    assert await found(owner, f"#{noted['number']}") == ["Billing"]  # a ticket number
    await owner.aclose()


async def test_a_subject_match_ranks_first_and_other_filters_still_apply(app: Starlette) -> None:
    owner = await sign_up(app)
    body: dict[str, Any] = {"subject": "Greetings", "message": {"text": "refund please"}}
    await owner.post("/tickets", json=body)
    titled = (await owner.post("/tickets", json={"subject": "Refund for order 5"})).json()
    assert await found(owner, "refund") == ["Refund for order 5", "Greetings"]
    done = await owner.patch(
        f"/tickets/{titled['id']}", json={"version": titled["version"], "status": "resolved"}
    )
    assert done.status_code == 200
    assert await found(owner, "refund", status="active") == ["Greetings"]
    assert await found(owner, "refund", status="resolved") == ["Refund for order 5"]
    await owner.aclose()


async def test_search_pages_through_every_match_once(app: Starlette) -> None:
    owner = await sign_up(app)
    for n in range(9):
        await owner.post("/tickets", json={"subject": f"Printer jam {n}"})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"text": "printer", "limit": "4", **({"cursor": cursor} if cursor else {})}
        page = (await owner.get("/tickets", params=params)).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 9
    assert (
        await owner.get("/tickets", params={"text": "printer", "cursor": "%%"})
    ).status_code == 404
    await owner.aclose()


async def test_contacts_are_found_by_name_email_and_phone(app: Starlette) -> None:
    owner = await sign_up(app)
    made = await owner.post(
        "/contacts",
        json={"name": "Joana Simões", "email": "joana@example.pt", "phone": "+351 912 345 678"},
    )
    assert made.status_code == 201, made.text
    await owner.post("/contacts", json={"name": "Pedro Alves", "email": "pedro@example.pt"})

    async def names(q: str) -> list[str]:
        page = await owner.get("/contacts", params={"q": q})
        assert page.status_code == 200, page.text
        return [c["name"] for c in page.json()["items"]]

    assert await names("simoes") == ["Joana Simões"]
    assert await names("joana@example.pt") == ["Joana Simões"]
    assert await names("912345678") == ["Joana Simões"]
    assert sorted(await names("example")) == ["Joana Simões", "Pedro Alves"]
    # A deleted contact is no longer found.
    deleted = await owner.delete(f"/contacts/{made.json()['id']}")
    assert deleted.status_code == 204
    assert await names("joana") == []
    await owner.aclose()
