"""GET /mentions: the notes that name me, newest first, paged, only my workspace's."""

from bson import ObjectId
from starlette.applications import Starlette

from app.views.rebuild import rebuild_views
from tests.apiclient import AgentClient, invite_and_join, runtime_of, sign_up


async def _ticket(owner: AgentClient, subject: str) -> str:
    created = await owner.post(
        "/tickets",
        json={
            "subject": subject,
            "contact": {"email": "carla@customer.example", "name": "Carla"},
            "message": {"text": "Hello"},
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _note(agent: AgentClient, ticket_id: str, text: str) -> str:
    posted = await agent.post(f"/tickets/{ticket_id}/messages", json={"text": text, "kind": "note"})
    assert posted.status_code == 201, posted.text
    return str(posted.json()["message"]["id"])


async def test_my_mentions_newest_first_in_pages(app: Starlette) -> None:
    owner = await sign_up(app)
    ana = await invite_and_join(owner, app, "Ana Silva")
    bo = await invite_and_join(owner, app, "Bo Berg")
    parcel = await _ticket(owner, "Where is my parcel?")
    refund = await _ticket(owner, "Refund please")

    first = await _note(owner, parcel, "@ana can you call the courier?")
    await _note(owner, parcel, "No mention in this one")
    both = await _note(bo, refund, "@ana and @olivia, the refund  needs\nsign-off")
    await _note(ana, refund, "@ana a reminder to myself")  # my own note is not a mention of me

    page = await ana.get("/mentions", params={"limit": 1})
    assert page.status_code == 200, page.text
    body = page.json()
    assert [m["message_id"] for m in body["items"]] == [both]
    newest = body["items"][0]
    assert newest["ticket_id"] == refund
    assert newest["ticket_subject"] == "Refund please"
    assert newest["ticket_number"] == 2
    assert newest["author_name"] == "Bo Berg"
    assert newest["text"] == "@ana and @olivia, the refund needs sign-off"
    assert body["next_cursor"]

    rest = await ana.get("/mentions", params={"limit": 1, "cursor": body["next_cursor"]})
    assert [m["message_id"] for m in rest.json()["items"]] == [first]
    assert rest.json()["items"][0]["ticket_subject"] == "Where is my parcel?"
    assert rest.json()["next_cursor"] is None

    everything = (await ana.get("/mentions")).json()
    assert [m["message_id"] for m in everything["items"]] == [both, first]
    assert everything["next_cursor"] is None
    assert [m["message_id"] for m in (await owner.get("/mentions")).json()["items"]] == [both]
    assert (await bo.get("/mentions")).json()["items"] == []


async def test_mentions_stay_in_their_workspace(app: Starlette) -> None:
    ours = await sign_up(app)
    ana = await invite_and_join(ours, app, "Ana Silva")
    theirs = await sign_up(app)
    other_ana = await invite_and_join(theirs, app, "Ana Other")
    await _note(theirs, await _ticket(theirs, "Elsewhere"), "@ana look at this")
    mine = await _note(ours, await _ticket(ours, "Here"), "@ana look here")

    assert [m["message_id"] for m in (await ana.get("/mentions")).json()["items"]] == [mine]
    assert [m["text"] for m in (await other_ana.get("/mentions")).json()["items"]] == [
        "@ana look at this"
    ]


async def test_bad_paging_is_refused_with_a_reason(app: Starlette) -> None:
    owner = await sign_up(app)
    for params in ({"cursor": "not-a-cursor"}, {"limit": "0"}, {"limit": "500"}, {"x": "1"}):
        answer = await owner.get("/mentions", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["error"]["message"]


async def test_a_views_rebuild_keeps_mentions_and_restores_the_list_rows(app: Starlette) -> None:
    owner = await sign_up(app)
    ana = await invite_and_join(owner, app, "Ana Silva")
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    ticket = await _ticket(owner, "Where is my parcel?")
    await _note(owner, ticket, "@ana have a look")
    await owner.post(f"/tickets/{ticket}/messages", json={"text": "It ships  today.\nSorry!"})
    before = (await owner.get("/tickets")).json()["items"][0]
    assert before["contact_name"] == "Carla"
    assert before["preview"] == "It ships today. Sorry!"
    assert before["preview_from"] == "agent"

    # Redis lost the views: the rebuild brings the rows back whole, the mentions stayed.
    views = runtime_of(app).views
    await views.clear(ws)
    assert await rebuild_views(views, ObjectId(ws)) == 1  # type: ignore[arg-type]
    after = (await owner.get("/tickets")).json()["items"][0]
    assert {k: after[k] for k in ("contact_name", "preview", "preview_from")} == {
        "contact_name": "Carla",
        "preview": "It ships today. Sorry!",
        "preview_from": "agent",
    }
    assert [m["text"] for m in (await ana.get("/mentions")).json()["items"]] == ["@ana have a look"]
