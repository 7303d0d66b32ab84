"""The public help center and the widget's article search: only published public articles,
everything escaped, a strict CSP, and the widget's origin check."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from redis.asyncio import Redis
from starlette.applications import Starlette

from app.kb import public_limits
from tests.apiclient import AgentClient, new_client, sign_up

SHOP = "https://shop.example"


async def article(owner: AgentClient, **fields: Any) -> dict[str, Any]:
    body = {"body": "Some text.", "status": "published", **fields}
    response = await owner.post("/kb/articles", json=body)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def public(app: Starlette, path: str, **params: str) -> httpx.Response:
    client = new_client(app)
    try:
        return await client.http.get(path, params=params)
    finally:
        await client.aclose()


async def test_help_center_shows_published_public_articles_only(app: Starlette) -> None:
    owner = await sign_up(app)
    slug = owner.workspace_slug
    await article(owner, title="Paying by card", category="Billing", body="Cards **work**.")
    await article(owner, title="Where is my parcel", category="Shipping", locale="pt-BR")
    await article(owner, title="Draft pricing", category="Billing", status="draft")
    await article(owner, title="Escalation playbook", visibility="internal")
    await article(owner, title="<script>alert(1)</script> & more", category="<b>Odd</b>")

    home = await public(app, f"/help/{slug}")
    assert home.status_code == 200
    assert home.headers["content-type"].startswith("text/html")
    csp = home.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp  # no scripts at all
    text = home.text
    assert "Paying by card" in text
    assert "Where is my parcel" in text
    assert "<h2>Billing</h2>" in text
    assert "<h2>Shipping</h2>" in text
    assert "Draft pricing" not in text
    assert "Escalation playbook" not in text
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text
    assert "&lt;b&gt;Odd&lt;/b&gt;" in text
    assert f"<title>Workspace {slug} help center</title>" in text
    assert f'href="/help/{slug}/paying-by-card"' in text
    await owner.aclose()


async def test_article_pages_render_markdown_safely(app: Starlette) -> None:
    owner = await sign_up(app)
    slug = owner.workspace_slug
    await article(
        owner,
        title="Pagamentos <i>rápidos</i>",
        locale="pt-BR",
        body="Use **Pix**.\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))",
    )
    draft = await article(owner, title="Secret draft", status="draft")
    internal = await article(owner, title="Internal notes", visibility="internal")

    page = await public(app, f"/help/{slug}/pagamentos-i-rapidos-i")
    assert page.status_code == 200, page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<html lang="pt-BR">' in page.text
    assert "<title>Pagamentos &lt;i&gt;rápidos&lt;/i&gt; · Workspace" in page.text
    assert "<strong>Pix</strong>" in page.text
    assert "<img" not in page.text
    assert "javascript:" not in page.text.replace("[x](javascript:alert(1))", "")
    assert 'href="javascript' not in page.text

    for hidden in (draft, internal):
        missing = await public(app, f"/help/{slug}/{hidden['slug']}")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")
        assert hidden["title"] not in missing.text
    assert (await public(app, f"/help/{slug}/no-such-article")).status_code == 404
    unknown = await public(app, "/help/no-such-workspace-anywhere")
    assert unknown.status_code == 404
    assert "<title>Not found</title>" in unknown.text
    await owner.aclose()


async def test_help_center_search(app: Starlette) -> None:
    owner = await sign_up(app)
    slug = owner.workspace_slug
    await article(owner, title="Gift vouchers", body="Redeem a voucher at checkout.")
    await article(owner, title="Voucher drafts", body="Voucher plans.", status="draft")
    await article(owner, title="Voucher abuse", body="Voucher fraud.", visibility="internal")

    found = await public(app, f"/help/{slug}", q="voucher")
    assert found.status_code == 200
    assert "Gift vouchers" in found.text
    assert "Redeem a voucher at checkout." in found.text  # the snippet
    assert "Voucher drafts" not in found.text
    assert "Voucher abuse" not in found.text
    echoed = await public(app, f"/help/{slug}", q='"><script>x</script>')
    assert "<script>x" not in echoed.text
    assert "&quot;&gt;&lt;script&gt;x&lt;/script&gt;" in echoed.text
    await owner.aclose()


async def test_widget_search_checks_the_origin(app: Starlette) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    allowed = await owner.patch("/workspace", json={"allowed_origins": [SHOP]})
    assert allowed.status_code == 200, allowed.text
    made = await article(owner, title="Return labels", body="Print the return label at home.")
    await article(owner, title="Return fraud", body="Internal.", visibility="internal")
    await article(owner, title="Return draft", body="Soon.", status="draft")

    visitor = new_client(app)
    path = "/widget/kb/search"
    answer = await visitor.get(
        path, params={"workspace": ws, "q": "return"}, headers={"Origin": SHOP}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == SHOP
    items = answer.json()["items"]
    assert [i["title"] for i in items] == ["Return labels"]
    assert items[0]["id"] == made["id"]
    assert items[0]["slug"] == "return-labels"
    assert items[0]["url"].endswith(f"/help/{owner.workspace_slug}/return-labels")
    assert "return label" in items[0]["snippet"]

    short = await visitor.get(path, params={"workspace": ws, "q": "r"}, headers={"Origin": SHOP})
    assert short.json() == {"items": []}
    foreign = await visitor.get(
        path, params={"workspace": ws, "q": "return"}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert foreign.json()["error"]["code"] == "origin_not_allowed"
    no_origin = await visitor.get(path, params={"workspace": ws, "q": "return"})
    assert no_origin.status_code == 403
    unknown = await visitor.get(
        path, params={"workspace": "0" * 24, "q": "return"}, headers={"Origin": SHOP}
    )
    assert unknown.status_code == 404
    for client in (owner, visitor):
        await client.aclose()


def client_at(app: Starlette, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_public_searches_are_limited_per_address_and_answered_429(app: Starlette) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    await owner.patch("/workspace", json={"allowed_origins": [SHOP]})
    await article(owner, title="Return labels", body="Print the return label at home.")
    search = {"workspace": ws, "q": "return"}
    busy, other = client_at(app, "198.51.100.7"), client_at(app, "198.51.100.8")
    path = "/api/v1/widget/kb/search"
    for _ in range(public_limits.SEARCHES_PER_ADDRESS):
        answered = await busy.get(path, params=search, headers={"Origin": SHOP})
        assert answered.status_code == 200, answered.text
    over = await busy.get(path, params=search, headers={"Origin": SHOP})
    assert over.status_code == 429
    assert over.json()["error"]["code"] == "rate_limited"
    assert over.headers["retry-after"] == "60"
    page = await busy.get(f"/help/{owner.workspace_slug}", params={"q": "return"})
    assert page.status_code == 429
    assert "Try again in a minute" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    # Reading articles is counted apart, and other visitors search on.
    assert (await busy.get(f"/help/{owner.workspace_slug}/return-labels")).status_code == 200
    fine = await other.get(path, params=search, headers={"Origin": SHOP})
    assert [i["title"] for i in fine.json()["items"]] == ["Return labels"]
    for client in (busy, other):
        await client.aclose()
    await owner.aclose()


async def test_one_workspace_is_limited_across_every_address(redis_client: Redis) -> None:
    ws = f"ws-{uuid.uuid4().hex}"
    for n in range(public_limits.SEARCHES_PER_WORKSPACE):
        address = f"10.{n // 250}.{n % 250}.1"
        assert await public_limits.allowed(redis_client, kind="search", address=address, ws=ws)
    assert not await public_limits.allowed(redis_client, kind="search", address="10.9.9.9", ws=ws)
    assert await public_limits.allowed(
        redis_client, kind="search", address="10.9.9.9", ws=f"{ws}-other"
    )
