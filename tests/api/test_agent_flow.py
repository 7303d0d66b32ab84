"""A whole working day through the HTTP API: sign up, invite, log in, handle a ticket."""

from bson import ObjectId
from starlette.applications import Starlette

from app.actions.messages import NewMessage, post_message
from app.documents.message import Author, Direction, Kind
from tests.apiclient import PASSWORD, AgentClient, invite_and_join, new_client, runtime_of, sign_up


async def test_owner_invites_agent_who_handles_a_ticket_to_resolution(app: Starlette) -> None:
    owner = await sign_up(app, name="Olivia Owner")
    ana = await invite_and_join(owner, app, "Ana Silva")

    # Ana logs in again from a fresh browser.
    browser = new_client(app)
    login = await browser.post(
        "/auth/login",
        json={
            "workspace": owner.workspace_slug,
            "email": f"ana@{owner.workspace_slug}.example",
            "password": PASSWORD,
        },
    )
    browser.adopt_session(login)
    me = (await browser.get("/me")).json()
    assert me["name"] == "Ana Silva"
    assert me["role"] == "agent"
    assert "invite_members" not in me["permissions"]

    created = await owner.post(
        "/tickets",
        json={
            "subject": "Refund for order 1042",
            "contact": {"email": "Carla@Example.com", "name": "Carla"},
            "message": {"text": "I was charged twice <b>please</b> help"},
            "tags": ["Billing"],
        },
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert ticket["number"] == 1
    assert ticket["status"] == "open"
    assert ticket["tags"] == ["billing"]
    assert ticket["last_customer_message_at"] is not None

    # Ana takes the ticket, replies, leaves a note, and resolves it.
    taken = await browser.patch(
        f"/tickets/{ticket['id']}", json={"version": ticket["version"], "assignee_id": ana.user_id}
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["assignee_id"] == ana.user_id

    reply = await browser.post(
        f"/tickets/{ticket['id']}/messages", json={"text": "Refund issued, sorry about that!"}
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["message"]["direction"] == "out"
    assert reply.json()["ticket"]["first_response_at"] is not None

    note = await browser.post(
        f"/tickets/{ticket['id']}/messages",
        json={"text": "@olivia FYI double charge bug again", "kind": "note"},
    )
    assert note.status_code == 201
    assert note.json()["message"]["mentions"] == [owner.user_id]

    version = taken.json()["version"]
    resolved = await browser.patch(
        f"/tickets/{ticket['id']}", json={"version": version, "status": "resolved"}
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] is not None

    detail = (await owner.get(f"/tickets/{ticket['id']}")).json()
    kinds = [(m["kind"], m["direction"]) for m in detail["messages"] if m["kind"] != "system"]
    assert kinds == [("message", "in"), ("message", "out"), ("note", "out")]
    system_lines = [m["text"] for m in detail["messages"] if m["kind"] == "system"]
    assert system_lines == ["Ana Silva took this ticket", "Ana Silva set the status to resolved"]
    # The customer's HTML is kept as text and escaped in the rendered body.
    assert detail["messages"][0]["html"] == "I was charged twice &lt;b&gt;please&lt;/b&gt; help"

    # The contact was created from the email, lower-cased, and is found by it.
    found = await browser.get("/contacts/lookup", params={"email": "carla@example.com"})
    assert found.status_code == 200
    assert found.json()["id"] == ticket["contact_id"]

    mine = (await browser.get("/tickets", params={"assignee": "me"})).json()["items"]
    assert [t["id"] for t in mine] == [ticket["id"]]

    logout = await browser.post("/auth/logout")
    assert logout.status_code == 204
    assert (await browser.get("/me")).status_code == 401
    for client in (owner, ana, browser):
        await client.aclose()


async def test_list_filters_and_cursor_pagination(app: Starlette) -> None:
    owner = await sign_up(app)
    ids = []
    for i in range(7):
        response = await owner.post(
            "/tickets",
            json={
                "subject": f"Printer {i} jammed" if i % 2 else f"Login issue {i}",
                "tags": ["hardware"] if i % 2 else [],
                "priority": "high" if i == 3 else "normal",
            },
        )
        ids.append(response.json()["id"])
    page1 = (await owner.get("/tickets", params={"limit": 3})).json()
    page2 = (
        await owner.get("/tickets", params={"limit": 3, "cursor": page1["next_cursor"]})
    ).json()
    page3 = (
        await owner.get("/tickets", params={"limit": 3, "cursor": page2["next_cursor"]})
    ).json()
    listed = [t["id"] for t in page1["items"] + page2["items"] + page3["items"]]
    assert listed == list(reversed(ids))
    assert page3["next_cursor"] is None

    printers = (await owner.get("/tickets", params={"text": "printer"})).json()["items"]
    assert {t["subject"] for t in printers} == {
        "Printer 1 jammed",
        "Printer 3 jammed",
        "Printer 5 jammed",
    }
    tagged = (await owner.get("/tickets", params={"tag": "hardware", "order": "oldest"})).json()
    assert tagged["items"][0]["subject"] == "Printer 1 jammed"
    by_number = (await owner.get("/tickets", params={"text": "#4"})).json()["items"]
    assert [t["number"] for t in by_number] == [4]
    unassigned = (await owner.get("/tickets", params={"assignee": "unassigned"})).json()
    assert len(unassigned["items"]) == 7
    await owner.aclose()


async def pages(owner: AgentClient, **params: object) -> list[str]:
    """Every subject the list answers, following `next_cursor` to the end, 2 at a time."""
    subjects: list[str] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await owner.get("/tickets", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        subjects += [t["subject"] for t in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return subjects


async def test_the_most_recently_active_and_the_longest_waiting_come_first(
    app: Starlette,
) -> None:
    owner = await sign_up(app)
    made = {}
    for name in ("A", "B", "C", "D", "E"):
        body = {"subject": name, "contact": {"email": f"{name.lower()}@example.com"}}
        made[name] = (await owner.post("/tickets", json=body)).json()["id"]
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    # Customers write in on C, then A, then E; an agent answers E, so E waits no more.
    for name in ("C", "A", "E"):
        customer = Author(kind="contact", name=f"Customer {name}")
        await post_message(
            runtime_of(app).deps,
            ObjectId(ws),
            ObjectId(made[name]),
            NewMessage(
                text="Any news?", direction=Direction.IN, kind=Kind.MESSAGE, author=customer
            ),
        )
    replied = await owner.post(f"/tickets/{made['E']}/messages", json={"text": "Here you go"})
    assert replied.status_code == 201

    assert await pages(owner, order="updated") == ["E", "A", "C", "D", "B"]
    assert await pages(owner, order="waiting") == ["C", "A"]
    assert await pages(owner, order="newest", text="") == ["E", "D", "C", "B", "A"]
    malformed = await owner.get("/tickets", params={"order": "waiting", "cursor": "x.y"})
    assert malformed.status_code == 404
    await owner.aclose()
