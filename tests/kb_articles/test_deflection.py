"""Help articles read in the widget: the article as sanitized HTML for an allowed origin, the
outcomes counted per day, and the deflection report for supervisors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette

from app.api.routes_deflection import day_key
from tests.apiclient import AgentClient, invite_and_join, runtime_of, sign_up
from tests.widget.test_widget_api import site_client, widget_workspace


async def article(owner: AgentClient, **fields: Any) -> dict[str, Any]:
    body = {"title": "Returns", "body": "Some text.", "status": "published", **fields}
    response = await owner.post("/kb/articles", json=body)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def test_the_widget_reads_a_published_public_article_as_sanitized_html(
    app: Starlette,
) -> None:
    owner, ws, _ = await widget_workspace(app)
    made = await article(
        owner,
        title="Returning a parcel",
        body="Print the **label**.\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))",
    )
    draft = await article(owner, title="Draft returns", status="draft")
    internal = await article(owner, title="Returns playbook", visibility="internal")
    other_owner, other_ws, _ = await widget_workspace(app)
    foreign = await article(other_owner, title="Their returns")
    site = site_client(app)

    got = await site.get(f"/kb/articles/{made['id']}", params={"workspace": ws})
    assert got.status_code == 200, got.text
    assert got.headers["access-control-allow-origin"] == "https://shop.example"
    body = got.json()
    assert body["id"] == made["id"]
    assert body["title"] == "Returning a parcel"
    assert "<strong>label</strong>" in body["html"]
    assert "<img" not in body["html"]  # raw HTML in the markdown stays text
    assert 'href="javascript' not in body["html"]
    assert body["url"].endswith(f"/help/{owner.workspace_slug}/{made['slug']}")

    for hidden in (draft, internal, foreign):
        missing = await site.get(f"/kb/articles/{hidden['id']}", params={"workspace": ws})
        assert missing.status_code == 404, hidden["title"]
        assert missing.json()["error"]["code"] == "not_found"
        assert hidden["title"] not in missing.text
    nonsense = await site.get("/kb/articles/not-an-id", params={"workspace": ws})
    assert nonsense.status_code == 404

    evil = site_client(app, "https://evil.example")
    refused = await evil.get(f"/kb/articles/{made['id']}", params={"workspace": ws})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    # The other workspace's widget cannot read this one's articles either.
    theirs = await site.get(f"/kb/articles/{made['id']}", params={"workspace": other_ws})
    assert theirs.status_code == 404
    for client in (site, evil):
        await client.aclose()
    await owner.aclose()
    await other_owner.aclose()


async def test_outcomes_are_counted_per_day_and_give_the_deflection_rate(app: Starlette) -> None:
    owner, ws, _ = await widget_workspace(app)
    first = await article(owner, title="Shipping times")
    second = await article(owner, title="Paying by card")
    site = site_client(app)

    empty = await owner.get("/kb/deflection", params={"days": 7})
    assert empty.status_code == 200, empty.text
    assert len(empty.json()["days"]) == 7
    assert empty.json()["totals"] == {"read": 0, "left": 0, "wrote": 0, "deflection_rate": None}

    reports = [
        (first, "read"),
        (first, "left"),
        (second, "read"),
        (second, "wrote"),
        (first, "read"),
        (first, "left"),
        (second, "read"),
    ]
    for made, outcome in reports:
        sent = await site.post(
            "/kb/deflection", json={"workspace": ws, "article_id": made["id"], "outcome": outcome}
        )
        assert sent.status_code == 204, sent.text
    # Yesterday's counts, as the widget left them then.
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    redis = runtime_of(app).redis
    await redis.hset(day_key(ws, yesterday), mapping={"read": 4, "left": 3, "wrote": 1})

    report = await owner.get("/kb/deflection", params={"days": 30})
    assert report.status_code == 200, report.text
    days = report.json()["days"]
    assert len(days) == 30
    today = datetime.now(UTC).date()
    assert days[-1] == {"date": today.isoformat(), "read": 4, "left": 2, "wrote": 1}
    assert days[-2] == {"date": yesterday.isoformat(), "read": 4, "left": 3, "wrote": 1}
    assert all(d == {"date": d["date"], "read": 0, "left": 0, "wrote": 0} for d in days[:-2])
    assert [d["date"] for d in days] == sorted(d["date"] for d in days)
    assert report.json()["totals"] == {
        "read": 8,
        "left": 5,
        "wrote": 2,
        "deflection_rate": 5 / 8,
    }
    # Per article, the most read first: "Shipping times" answered both its readers; the
    # counts put in by hand for yesterday name no article.
    assert report.json()["articles"] == [
        {
            "id": first["id"],
            "title": "Shipping times",
            "read": 2,
            "left": 2,
            "wrote": 0,
            "deflection_rate": 1.0,
        },
        {
            "id": second["id"],
            "title": "Paying by card",
            "read": 2,
            "left": 0,
            "wrote": 1,
            "deflection_rate": 0.0,
        },
    ]  # equal reads: by id, so the older article first
    only_today = (await owner.get("/kb/deflection", params={"days": 1})).json()
    assert only_today["totals"]["deflection_rate"] == 0.5
    assert (await redis.ttl(day_key(ws, today))) > 89 * 86_400
    too_many = await owner.get("/kb/deflection", params={"days": 365})
    assert too_many.status_code == 422
    await site.aclose()
    await owner.aclose()


async def test_bad_reports_are_refused_with_a_reason(app: Starlette) -> None:
    owner, ws, _ = await widget_workspace(app)
    made = await article(owner, title="Gift cards")
    draft = await article(owner, title="Gift card drafts", status="draft")
    internal = await article(owner, title="Gift card fraud", visibility="internal")
    other_owner, _, _ = await widget_workspace(app)
    foreign = await article(other_owner, title="Their gift cards")
    site = site_client(app)

    unknown = await site.post(
        "/kb/deflection", json={"workspace": ws, "article_id": made["id"], "outcome": "liked"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"] == {"field": "outcome"}
    for hidden in (draft, internal, foreign):
        missing = await site.post(
            "/kb/deflection", json={"workspace": ws, "article_id": hidden["id"], "outcome": "read"}
        )
        assert missing.status_code == 404, hidden["title"]
        assert missing.json()["error"]["code"] == "not_found"
    evil = site_client(app, "https://evil.example")
    refused = await evil.post(
        "/kb/deflection", json={"workspace": ws, "article_id": made["id"], "outcome": "read"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    # A page being hidden sends its report as text/plain (navigator.sendBeacon): still counted.
    beacon = await site.post(
        "/kb/deflection",
        content=f'{{"workspace":"{ws}","article_id":"{made["id"]}","outcome":"read"}}',
        headers={"content-type": "text/plain;charset=UTF-8"},
    )
    assert beacon.status_code == 204, beacon.text
    totals = (await owner.get("/kb/deflection")).json()["totals"]
    assert totals == {"read": 1, "left": 0, "wrote": 0, "deflection_rate": 0.0}
    for client in (site, evil):
        await client.aclose()
    await owner.aclose()
    await other_owner.aclose()


async def test_reports_are_rate_limited_per_address(app: Starlette) -> None:
    owner, ws, _ = await widget_workspace(app)
    made = await article(owner, title="Opening hours")
    redis = runtime_of(app).redis
    await redis.set("tandem:kb:deflection:addr:203.0.113.5", 60, ex=60)
    site = site_client(app)
    limited = await site.post(
        "/kb/deflection", json={"workspace": ws, "article_id": made["id"], "outcome": "read"}
    )
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    await redis.delete("tandem:kb:deflection:addr:203.0.113.5")
    await site.aclose()
    await owner.aclose()


async def test_only_supervisors_and_up_see_the_report(app: Starlette) -> None:
    owner = await sign_up(app)
    agent = await invite_and_join(owner, app, "Alex Agent")
    supervisor = await invite_and_join(owner, app, "Sam Supervisor", role="supervisor")
    refused = await agent.get("/kb/deflection")
    assert refused.status_code == 403
    assert (await supervisor.get("/kb/deflection")).status_code == 200
    assert (await owner.get("/kb/deflection")).status_code == 200
    for client in (owner, agent, supervisor):
        await client.aclose()
