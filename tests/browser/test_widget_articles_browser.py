"""Help articles in the webchat widget, in real Chromium: suggested while the customer types,
read inside the panel, and what followed (left or wrote) in the deflection report."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, Request, expect

from tests.apiclient import sign_up
from tests.browser.conftest import HostSite
from tests.browser.test_inbox_browser import email_of, log_in
from tests.browser.test_widget_browser import HOSTILE_CSS, Shop, open_widget

pytestmark = pytest.mark.browser

TRACKING = {
    "title": "Parcel tracking",
    "body": (
        "## Where is my parcel?\n\nOpen **Orders** and choose *Track*: parcel tracking shows "
        "each stop on the way.\n\n- Parcels usually arrive within 3 days.\n"
        "- A [carrier page](https://carrier.example/track) has more.\n\n"
        '<img src=x onerror="window.__pwned = 1">'
    ),
    "status": "published",
}
PASSWORD = {
    "title": "Changing your password",
    "body": "Go to **Account**, then Security, and choose a new password.",
    "status": "published",
}


@pytest.fixture(scope="module")
async def shop(tandem_url: str, host_site: HostSite) -> AsyncIterator[Shop]:
    owner = await sign_up(tandem_url)
    patched = await owner.patch("/workspace", json={"allowed_origins": [host_site.url]})
    assert patched.status_code == 200, patched.text
    workspace_id = patched.json()["id"]
    for article in (TRACKING, PASSWORD):
        made = await owner.post("/kb/articles", json=article)
        assert made.status_code == 201, made.text
    yield Shop(owner, workspace_id, "", tandem_url, host_site)
    await owner.aclose()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    ctx: BrowserContext = await browser.new_context(viewport={"width": 1000, "height": 720})
    ctx.set_default_timeout(10_000)
    try:
        yield await ctx.new_page()
    finally:
        await ctx.close()


def reported(outcome: str) -> Any:
    def match(request: Request) -> bool:
        return (
            request.method == "POST"
            and request.url.endswith("/api/v1/widget/kb/deflection")
            and f'"outcome":"{outcome}"' in (request.post_data or "")
        )

    return match


async def totals(shop: Shop) -> dict[str, Any]:
    report = await shop.owner.get("/kb/deflection", params={"days": 1})
    assert report.status_code == 200, report.text
    found: dict[str, Any] = report.json()["totals"]
    return found


async def counted(shop: Shop, before: dict[str, Any], **more: int) -> dict[str, Any]:
    """The report once it shows `more` than `before` (a report may still be on its way)."""
    expected = {k: before[k] + more.get(k, 0) for k in ("read", "left", "wrote")}
    for _ in range(50):
        now = await totals(shop)
        if {k: now[k] for k in expected} == expected:
            return now
        await asyncio.sleep(0.1)
    raise AssertionError(f"the report shows {now}, not {expected}")


def article_text(page: Page) -> Locator:
    pane = page.get_by_role("region", name="Help article")
    return pane.get_by_text("Parcels usually arrive within 3 days.")


async def suggested(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    await box.press_sequentially(text, delay=20)
    hints = page.get_by_role("region", name="These might help")
    await expect(hints).to_be_visible()
    await expect(hints.get_by_role("button")).to_have_count(1)
    await expect(hints.get_by_role("button", name="Parcel tracking")).to_be_visible()


async def test_a_customer_reads_a_suggested_article_inline_and_leaves(
    shop: Shop, page: Page
) -> None:
    before = await totals(shop)
    await page.goto(shop.page("articles.html"))
    assert HOSTILE_CSS in await page.content()
    await open_widget(page)
    await suggested(page, "parcel tracking")

    async with page.expect_request(reported("read")):
        await page.get_by_role("button", name="Parcel tracking").click()
    pane = page.get_by_role("region", name="Help article")
    await expect(pane.get_by_role("heading", name="Parcel tracking")).to_be_visible()
    await expect(pane.get_by_role("heading", name="Where is my parcel?")).to_be_visible()
    await expect(pane.locator("strong")).to_have_text("Orders")
    await expect(pane.get_by_text("Parcels usually arrive within 3 days.")).to_be_visible()
    carrier = pane.get_by_role("link", name="carrier page")
    await expect(carrier).to_have_attribute("href", "https://carrier.example/track")
    await expect(carrier).to_have_attribute("target", "_blank")
    assert await pane.locator("img, [onerror]").count() == 0
    assert await page.evaluate("window.__pwned") is None
    center = pane.get_by_role("link", name="Open in help center")
    help_page = f"/help/{shop.owner.workspace_slug}/parcel-tracking"
    await expect(center).to_have_attribute(
        "href", re.compile("^https?://.*" + re.escape(help_page) + "$")
    )
    await expect(center).to_have_attribute("target", "_blank")
    await expect(center).to_have_attribute("rel", "noopener")
    await expect(page.get_by_role("textbox", name="Message")).to_be_visible()

    await pane.get_by_role("button", name="Back").click()
    await expect(pane).to_be_hidden()
    await expect(page.get_by_role("region", name="These might help")).to_be_visible()
    # Opened again and closed with Esc: still one article read.
    await page.get_by_role("button", name="Parcel tracking").click()
    await expect(pane.get_by_text("Parcels usually arrive within 3 days.")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(pane).to_be_hidden()

    async with page.expect_request(reported("left")):
        await page.get_by_role("button", name="Minimize chat").click()
    await expect(page.get_by_role("dialog", name="Chat")).to_be_hidden()
    after = await counted(shop, before, read=1, left=1)
    assert after["deflection_rate"] == after["left"] / after["read"]


async def test_writing_after_reading_counts_as_wrote(shop: Shop, page: Page) -> None:
    before = await totals(shop)
    await page.goto(shop.page("articles-write.html"))
    await open_widget(page)
    await suggested(page, "parcel tracking")
    async with page.expect_request(reported("read")):
        await page.get_by_role("button", name="Parcel tracking").click()
    await expect(article_text(page)).to_be_visible()
    box = page.get_by_role("textbox", name="Message")
    await box.fill("My parcel tracking has not moved in a week")
    async with page.expect_request(reported("wrote")):
        await box.press("Enter")
    await expect(page.get_by_role("region", name="These might help")).to_be_hidden()
    # Closing the chat now reports nothing more: the customer already wrote.
    await page.get_by_role("button", name="Minimize chat").click()
    await page.wait_for_timeout(300)
    await counted(shop, before, read=1, wrote=1)


async def test_hiding_the_page_after_reading_counts_as_left(shop: Shop, page: Page) -> None:
    before = await totals(shop)
    await page.goto(shop.page("articles-hide.html"))
    await open_widget(page)
    await suggested(page, "parcel tracking")
    async with page.expect_request(reported("read")):
        await page.get_by_role("button", name="Parcel tracking").click()
    await expect(article_text(page)).to_be_visible()
    async with page.expect_request(reported("left")):
        await page.evaluate("window.dispatchEvent(new PageTransitionEvent('pagehide'))")
    await counted(shop, before, read=1, left=1)


async def test_the_dashboard_shows_which_articles_answered_customers(
    shop: Shop, browser: Browser
) -> None:
    """A customer reads "Parcel tracking" and leaves: a supervisor sees the article on the
    dashboard with its own deflection rate."""
    listed = (await shop.owner.get("/kb/articles")).json()["items"]
    [tracking] = [a for a in listed if a["title"] == "Parcel tracking"]
    async with httpx.AsyncClient(base_url=shop.tandem_url + "/api/v1") as site:
        for outcome in ("read", "left"):
            sent = await site.post(
                "/widget/kb/deflection",
                json={
                    "workspace": shop.workspace_id,
                    "article_id": tracking["id"],
                    "outcome": outcome,
                },
                headers={"Origin": shop.site.url},
            )
            assert sent.status_code == 204, sent.text
    report = (await shop.owner.get("/kb/deflection", params={"days": 30})).json()
    [row] = [a for a in report["articles"] if a["id"] == tracking["id"]]
    context, page = await log_in(
        browser, shop.tandem_url, shop.owner.workspace_slug, email_of(shop.owner, "owner")
    )
    try:
        await page.get_by_role("link", name="Dashboard").click()
        card = page.locator("#dash-deflection")
        await expect(card.locator("#deflection-read")).to_have_text(str(report["totals"]["read"]))
        await expect(card.locator("#deflection-rate")).to_have_text(
            f"{round(report['totals']['deflection_rate'] * 100)}%"
        )
        line = card.locator("#deflection-articles tr", has_text="Parcel tracking")
        await expect(line).to_contain_text(f"{round(row['deflection_rate'] * 100)}%")
    finally:
        await context.close()
