"""Knowledge-base articles over the API: who may write and read what, versions, limits,
isolation between workspaces, the keyword search, and the events each write announces."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from starlette.applications import Starlette

from app.actions.base import stamp
from app.documents.kb import Article
from app.schemas.kb import article_view
from app.search.index import ARTICLE
from realtime.events import (
    Actor,
    ArticleCreated,
    ArticleData,
    ArticleDeleted,
    ArticleUpdated,
    event_to_document,
)
from tests.apiclient import AgentClient, invite_and_join, runtime_of, sign_up

REFUNDS = {
    "title": "How refunds work",
    "body": "## Asking\n\nWrite to us with your **order number**.\n\n## Timing\n\nFive days.",
    "category": "Billing",
    "locale": "pt-br",
    "status": "published",
}


async def made(client: AgentClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/kb/articles", json={**REFUNDS, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def titles(client: AgentClient, **params: str) -> list[str]:
    response = await client.get("/kb/articles", params=params)
    assert response.status_code == 200, response.text
    return [a["title"] for a in response.json()["items"]]


async def test_crud_with_versions_and_slugs(app: Starlette) -> None:
    owner = await sign_up(app)
    article = await made(owner)
    assert article["slug"] == "how-refunds-work"
    assert article["version"] == 1
    assert article["locale"] == "pt-BR"
    assert "<strong>order number</strong>" in article["html"]
    again = await made(owner)
    assert again["slug"] == "how-refunds-work-2"
    third = await made(owner, slug="refunds")
    assert third["slug"] == "refunds"
    taken = await owner.post("/kb/articles", json={**REFUNDS, "slug": "refunds"})
    assert taken.status_code == 409
    assert taken.json()["error"]["details"] == {"field": "slug"}

    path = f"/kb/articles/{article['id']}"
    fetched = (await owner.get(path)).json()
    assert fetched["body"] == REFUNDS["body"]
    changed = await owner.patch(path, json={"version": 1, "title": "Refunds", "status": "draft"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["title"] == "Refunds"
    assert changed.json()["slug"] == "how-refunds-work"  # a link stays put when the title moves
    same = await owner.patch(path, json={"version": 2, "title": "Refunds"})
    assert same.json()["version"] == 2  # nothing changed, nothing written

    stale = await owner.patch(path, json={"version": 1, "body": "Overwrite"})
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "stale_version"
    assert error["details"]["version"] == 2
    assert error["details"]["current"]["title"] == "Refunds"
    assert (await owner.get(path)).json()["body"] == REFUNDS["body"]

    clash = await owner.patch(path, json={"version": 2, "slug": "refunds"})
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "duplicate"

    assert (await owner.delete(path)).status_code == 204
    assert (await owner.get(path)).status_code == 404
    assert (await owner.patch(path, json={"version": 3, "title": "x"})).status_code == 404
    assert (await owner.delete(path)).status_code == 404
    # The slug is free again.
    assert (await made(owner, title="How refunds work"))["slug"] == "how-refunds-work"
    await owner.aclose()


async def test_roles_and_drafts(app: Starlette) -> None:
    owner = await sign_up(app)
    supervisor = await invite_and_join(owner, app, "Sam Super", role="supervisor")
    agent = await invite_and_join(owner, app, "Ada Agent", role="agent")
    refused = await agent.post("/kb/articles", json=REFUNDS)
    assert refused.status_code == 403
    assert "manage_kb" not in (await agent.get("/me")).json()["permissions"]
    assert "manage_kb" in (await supervisor.get("/me")).json()["permissions"]

    published = await made(supervisor, title="Shipping times")
    internal = await made(supervisor, title="Escalation playbook", visibility="internal")
    draft = await made(supervisor, title="Upcoming pricing", status="draft")

    assert await titles(agent) == ["Escalation playbook", "Shipping times"]
    assert await titles(supervisor) == ["Upcoming pricing", "Escalation playbook", "Shipping times"]
    assert await titles(supervisor, status="draft") == ["Upcoming pricing"]
    assert (await agent.get("/kb/articles", params={"status": "draft"})).status_code == 403
    assert (await agent.get(f"/kb/articles/{draft['id']}")).status_code == 404
    assert (await agent.get(f"/kb/articles/{internal['id']}")).status_code == 200
    path = f"/kb/articles/{published['id']}"
    assert (await agent.patch(path, json={"version": 1, "title": "x"})).status_code == 403
    assert (await agent.delete(path)).status_code == 403

    # Filters, and pages that cover everything once.
    assert await titles(supervisor, locale="pt-BR", category="Billing", status="published") == [
        "Escalation playbook",
        "Shipping times",
    ]
    assert await titles(supervisor, locale="en") == []
    first = (await supervisor.get("/kb/articles", params={"limit": "2"})).json()
    rest = (
        await supervisor.get("/kb/articles", params={"limit": "2", "cursor": first["next_cursor"]})
    ).json()
    assert [a["title"] for a in first["items"] + rest["items"]] == [
        "Upcoming pricing",
        "Escalation playbook",
        "Shipping times",
    ]
    assert rest["next_cursor"] is None
    for client in (owner, supervisor, agent):
        await client.aclose()


async def test_keyword_search_respects_what_the_caller_may_see(app: Starlette) -> None:
    owner = await sign_up(app)
    agent = await invite_and_join(owner, app, "Ada Agent", role="agent")
    await made(owner, title="Voucher codes", body="Vouchers apply at checkout.")
    draft = await made(owner, title="Voucher changes", body="Next year.", status="draft")
    await made(owner, title="Gift cards", body="A voucher by another name.", visibility="internal")

    # Titles weigh more than bodies; among equals the newer comes first.
    assert await titles(owner, q="voucher ") == ["Voucher changes", "Voucher codes", "Gift cards"]
    assert await titles(agent, q="vouch") == ["Voucher codes", "Gift cards"]
    assert await titles(agent, q="checkout") == ["Voucher codes"]
    assert await titles(owner, q="voucher", status="draft") == ["Voucher changes"]

    # Published: agents find it; its old words are forgotten, the new ones found.
    path = f"/kb/articles/{draft['id']}"
    await owner.patch(path, json={"version": 1, "status": "published", "body": "Loyalty points."})
    assert await titles(agent, q="loyalty") == ["Voucher changes"]
    assert await titles(agent, q="next year") == []
    await owner.delete(path)
    assert await titles(owner, q="loyalty") == []
    for client in (owner, agent):
        await client.aclose()


async def test_events_carry_the_article_without_its_body(app: Starlette) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    broker = runtime_of(app).relay.broker
    since = await broker.last_seq(ws)
    article = await made(owner)
    path = f"/kb/articles/{article['id']}"
    await owner.patch(path, json={"version": 1, "category": "Payments"})
    await owner.delete(path)
    replay = await broker.replay(ws, since, 100)
    kinds = [type(e) for e in replay.events]
    assert kinds == [ArticleCreated, ArticleUpdated, ArticleDeleted]
    versions = [e.data.article.version for e in replay.events]  # type: ignore[union-attr]
    assert versions == [1, 2, 3]
    assert replay.events[1].data.article.category == "Payments"  # type: ignore[union-attr]
    assert not hasattr(replay.events[0].data.article, "body")  # type: ignore[union-attr]
    await owner.aclose()


async def test_foreign_workspace_articles_are_not_found(app: Starlette) -> None:
    a = await sign_up(app, name="Alice A")
    b = await sign_up(app, name="Bob B")
    secret = await made(b, title="B's secret article", body="Confidential words")
    path = f"/kb/articles/{secret['id']}"
    assert (await a.get(path)).status_code == 404
    assert (await a.patch(path, json={"version": 1, "title": "pwned"})).status_code == 404
    assert (await a.delete(path)).status_code == 404
    assert (await a.get("/kb/articles/not-an-id")).status_code == 404
    assert await titles(a) == []
    assert await titles(a, q="confidential") == []
    assert (await b.get(path)).json()["title"] == "B's secret article"
    for client in (a, b):
        await client.aclose()


async def test_limits_answer_422_with_the_field(app: Starlette) -> None:
    owner = await sign_up(app)
    cases = [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": " \n "}, "body"),
        ({"body": "x" * 60_001}, "body"),
        ({"category": "c" * 81}, "category"),
        ({"locale": "not a locale"}, "locale"),
        ({"status": "archived"}, "status"),
        ({"visibility": "secret"}, "visibility"),
        ({"slug": "Not A Slug"}, "slug"),
    ]
    for fields, field in cases:
        response = await owner.post("/kb/articles", json={**REFUNDS, **fields})
        assert response.status_code == 422, (fields, response.text)
        assert response.json()["error"]["details"] == {"field": field}, fields
    article = await made(owner)
    path = f"/kb/articles/{article['id']}"
    response = await owner.patch(path, json={"version": 1, "title": ""})
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"field": "title"}
    missing_version = await owner.patch(path, json={"title": "New"})
    assert missing_version.status_code == 422
    await owner.aclose()


async def test_markdown_with_html_in_it_comes_out_inert(app: Starlette) -> None:
    owner = await sign_up(app)
    article = await made(
        owner,
        body=(
            "Hello <script>alert('x')</script>\n\n"
            "<img src=x onerror=alert(1)>\n\n"
            "[click](javascript:alert(1))\n\n"
            '<a href="https://evil.example" onclick="steal()">link</a>'
        ),
    )
    html = (await owner.get(f"/kb/articles/{article['id']}")).json()["html"]
    assert "<script" not in html
    assert "<img" not in html
    assert "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert "onclick" not in html.replace('onclick="steal()"', "").replace(
        "onclick=&quot;steal()&quot;", ""
    )
    assert 'href="javascript' not in html
    assert "<a " not in html  # raw HTML links are text, not links
    assert "&lt;script&gt;" in html
    await owner.aclose()


async def test_rebuilt_index_finds_articles(app: Starlette) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    await made(owner, title="Rebuild me", body="Parcel tracking")
    deleted = await made(owner, title="Gone", body="Parcel gone")
    await owner.delete(f"/kb/articles/{deleted['id']}")
    index = runtime_of(app).deps.search
    assert index is not None
    await index.rebuild(ws)
    hits, _ = await index.search(ws, "parcel", kind=ARTICLE, audience="all")
    assert len(hits) == 1
    assert await titles(owner, q="parcel") == ["Rebuild me"]
    await owner.aclose()


async def test_an_unpublished_article_event_is_published_and_indexed_by_the_sweep(
    app: Starlette,
) -> None:
    """A writer that dies between its write and its publish: the sweep publishes the event
    from the article's outbox, and the search index takes the article in as it is."""
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    runtime = runtime_of(app)
    relay = runtime.relay
    article = Article(
        id=PydanticObjectId(),
        workspace_id=PydanticObjectId(ws),
        title="Orphaned write",
        body="Lighthouse keepers",
        status="published",
        slug="orphaned-write",
    )
    event = stamp(
        ArticleCreated, ws=ws, actor=Actor(kind="system"), data=ArticleData(article_view(article))
    )
    article.outbox = [event_to_document(event)]
    await relay.mark(Article, article.id, event)
    await article.insert()  # ...and the writer dies here
    since = await relay.broker.last_seq(ws)
    assert await titles(owner, q="lighthouse") == []

    assert await relay.sweep(timedelta(0)) >= 1
    replay = await relay.broker.replay(ws, since, 100)
    assert [e.id for e in replay.events] == [event.id]
    assert await titles(owner, q="lighthouse") == ["Orphaned write"]
    await owner.aclose()
