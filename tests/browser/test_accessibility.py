"""Every screen passes an accessibility audit in real Chromium: each control has an accessible
name and visible text meets WCAG AA contrast (tests/browser/a11y.js)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.apiclient import sign_up
from tests.browser.conftest import HostSite
from tests.browser.test_inbox_browser import VIEWPORT, email_of, log_in, new_ticket

pytestmark = pytest.mark.browser

AUDIT = (Path(__file__).parent / "a11y.js").read_text(encoding="utf-8")


async def audit(page: Page, root: str = "document") -> list[str]:
    problems: list[str] = await page.evaluate(f"({AUDIT})({root})")
    return problems


async def test_login_inbox_ticket_help_and_dashboard_pass_the_audit(
    browser: Browser, tandem_url: str
) -> None:
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    await page.goto(tandem_url + "/")
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert await audit(page) == []
    await context.close()

    owner = await sign_up(tandem_url)
    ticket = await new_ticket(owner, "Order never arrived", "Where is <b>my</b> order?")
    await owner.post(f"/tickets/{ticket['id']}/messages", json={"text": "Checking now"})
    await owner.post(
        f"/tickets/{ticket['id']}/messages", json={"text": "@olivia courier?", "kind": "note"}
    )
    context, page = await log_in(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
    )
    try:
        assert await audit(page) == [], "inbox"
        await page.locator(f"#row-{ticket['id']}").click()
        await expect(page.locator(".msg-note")).to_be_visible()
        assert await audit(page) == [], "ticket"
        await page.keyboard.press("?")
        await expect(page.get_by_role("dialog")).to_be_visible()
        assert await audit(page) == [], "shortcuts"
        await page.keyboard.press("Escape")
        await page.get_by_role("link", name="Dashboard").click()
        await expect(page.locator("#dash-today")).to_be_visible()
        assert await audit(page) == [], "dashboard"
    finally:
        await context.close()
        await owner.aclose()


async def test_the_widget_passes_the_audit(
    browser: Browser, tandem_url: str, host_site: HostSite
) -> None:
    owner = await sign_up(tandem_url)
    allowed = await owner.patch("/workspace", json={"allowed_origins": [host_site.url]})
    workspace_id = allowed.json()["id"]
    url = host_site.page(
        "a11y.html",
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Shop</h1><script src="{tandem_url}/widget.js" data-workspace="{workspace_id}"
async></script></body></html>""",
    )
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    try:
        await page.goto(url)
        launcher = page.get_by_role("button", name="Open chat")
        await expect(launcher).to_be_visible()
        root = "document.querySelector('tandem-chat').shadowRoot"
        assert await audit(page, root) == [], "closed"
        await launcher.click()
        box = page.get_by_role("textbox", name="Message")
        await box.fill("Hello there")
        await box.press("Enter")
        await expect(page.get_by_text("Hello there")).to_be_visible()
        await expect(page.get_by_text(re.compile("We usually reply in"))).to_be_visible()
        assert await audit(page, root) == [], "open"
    finally:
        await context.close()
        await owner.aclose()
