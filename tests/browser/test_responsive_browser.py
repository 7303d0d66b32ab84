"""The agent app on a phone (390 by 844) and on a laptop (1280 by 800): one pane at a time and a
menu on the phone, the three panes and the full header on the laptop."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.apiclient import PASSWORD, sign_up
from tests.browser.test_accessibility import audit
from tests.browser.test_inbox_browser import VIEWPORT, email_of, new_ticket, screenshot

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)  # two shared cores: a busy machine is slow, not broken

PHONE = {"width": 390, "height": 844}


async def log_in_at(
    browser: Browser,
    url: str,
    slug: str,
    email: str,
    viewport: dict[str, int],
    *,
    fixed_time: datetime | None = None,
    **options: str,
) -> tuple[BrowserContext, Page]:
    """Log in through the form at `viewport`; `fixed_time` stops the page's clock there."""
    context = await browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    if fixed_time is not None:
        await page.clock.set_fixed_time(fixed_time)
    await page.goto(url + "/")
    await page.get_by_label("Workspace").fill(slug)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator(".list-head")).not_to_contain_text("Loading")
    await expect(page.locator("#connection-banner")).to_have_text("")
    await expect(page.locator("#view-all .count")).to_have_text(re.compile(r"^\d+$"))
    return context, page


async def page_width(page: Page) -> int:
    width: int = await page.evaluate("document.documentElement.scrollWidth")
    return width


async def width_of(locator: Locator) -> float:
    box = await locator.bounding_box()
    return box["width"] if box else 0.0


async def inside_viewport(page: Page, locator: Locator) -> bool:
    box = await locator.bounding_box()
    size = page.viewport_size
    assert box is not None
    assert size is not None
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


async def test_a_phone_shows_one_pane_at_a_time_and_a_menu(
    browser: Browser, tandem_url: str, artifacts_dir: Path
) -> None:
    owner = await sign_up(tandem_url)
    await new_ticket(owner, "Refund for a cracked mug", "It arrived in pieces.")
    ticket = await new_ticket(owner, "Parcel stuck at customs", "It has been a week.")
    context, page = await log_in_at(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner"), PHONE
    )
    list_pane = page.locator("#list-pane")
    ticket_pane = page.locator(".ticket-pane")
    menu = page.get_by_role("button", name="Menu")
    try:
        # The list fills the screen; nothing is wider than the phone.
        await expect(page.locator(f"#row-{ticket['id']}")).to_be_visible()
        assert await page_width(page) <= PHONE["width"]
        assert await width_of(list_pane) >= 350
        await expect(ticket_pane).to_be_hidden()
        # The header is one row: the menu button, not a row of white-on-white buttons.
        await expect(menu).to_have_attribute("aria-expanded", "false")
        await expect(page.get_by_role("button", name="Log out")).to_be_hidden()
        await expect(page.get_by_role("link", name="Dashboard")).to_be_hidden()
        assert await inside_viewport(page, menu)
        assert await audit(page) == [], "inbox on a phone"
        await screenshot(page, artifacts_dir, "inbox-phone.png")

        # Views and filters are one tap away, and close again once a view is chosen.
        views = page.get_by_role("button", name="Views and filters")
        await expect(views).to_have_attribute("aria-expanded", "false")
        await expect(page.locator("#view-unassigned")).to_be_hidden()
        await views.click()
        await expect(views).to_have_attribute("aria-expanded", "true")
        await expect(page.locator("#view-unassigned")).to_be_visible()
        assert await audit(page) == [], "views and filters on a phone"
        await page.locator("#view-unassigned").click()
        await expect(page.locator("#list-title")).to_have_text("Unassigned")
        await expect(views).to_have_attribute("aria-expanded", "false")
        await expect(page.locator("#view-unassigned")).to_be_hidden()

        # Opening a ticket shows it across the whole screen, with a way back.
        await page.locator(f"#row-{ticket['id']}").click()
        await expect(page.locator("#ticket-title")).to_contain_text("Parcel stuck at customs")
        await expect(list_pane).to_be_hidden()
        assert await width_of(ticket_pane) >= 350
        assert await page_width(page) <= PHONE["width"]
        back = page.get_by_role("link", name="Back to conversations")
        await expect(back).to_be_visible()
        # The row tapped has gone with the list: the focus is on the ticket's title.
        await expect(page.locator("#ticket-title")).to_be_focused()
        await expect(page.locator(".msg-in")).to_contain_text("It has been a week.")
        assert await audit(page) == [], "ticket on a phone"

        # Replying works, and the Send button stays on screen with the keyboard up (the
        # keyboard leaves about half the screen).
        composer = page.get_by_label("Reply to the customer")
        send = page.get_by_role("button", name="Send reply")
        await composer.click()
        await page.set_viewport_size({"width": 390, "height": 420})
        await composer.fill("We have asked the courier; you will hear from us today.")
        assert await inside_viewport(page, send)
        assert await inside_viewport(page, composer)
        await send.click()
        await expect(page.locator(".msg-out")).to_contain_text("We have asked the courier")
        await expect(composer).to_have_value("")
        await page.set_viewport_size(PHONE)
        assert await inside_viewport(page, send)
        await screenshot(page, artifacts_dir, "ticket-phone.png")

        # Back to the list: the ticket closes, the list is whole again.
        await back.click()
        await expect(list_pane).to_be_visible()
        await expect(ticket_pane).to_be_hidden()
        assert await width_of(list_pane) >= 350
        await expect(page.locator(f"#row-{ticket['id']}")).to_be_focused()

        # The menu holds the navigation, who is logged in, shortcuts and log out.
        await menu.click()
        await expect(menu).to_have_attribute("aria-expanded", "true")
        for name in ("Shortcuts (?)", "Log out"):
            await expect(page.get_by_role("button", name=name)).to_be_visible()
            assert await inside_viewport(page, page.get_by_role("button", name=name))
        await expect(page.locator(".me")).to_contain_text("Olivia Owner")
        assert await page_width(page) <= PHONE["width"]
        assert await audit(page) == [], "menu on a phone"
        await screenshot(page, artifacts_dir, "menu-phone.png")
        # Esc closes it and gives focus back to the button.
        await page.keyboard.press("Escape")
        await expect(menu).to_have_attribute("aria-expanded", "false")
        await expect(menu).to_be_focused()
        await menu.click()
        await page.get_by_role("link", name="Dashboard").click()
        await expect(page.locator("#dash-today")).to_be_visible()
        await expect(menu).to_have_attribute("aria-expanded", "false")
        assert await page_width(page) <= PHONE["width"]
        assert await audit(page) == [], "dashboard on a phone"
    finally:
        await context.close()
        await owner.aclose()


async def test_a_laptop_keeps_the_three_panes_and_the_full_header(
    browser: Browser, tandem_url: str, artifacts_dir: Path
) -> None:
    owner = await sign_up(tandem_url)
    ticket = await new_ticket(owner, "Parcel stuck at customs", "It has been a week.")
    context, page = await log_in_at(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner"), VIEWPORT
    )
    try:
        await expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        await expect(page.get_by_role("button", name="Views and filters")).to_be_hidden()
        for name in ("Inbox", "Dashboard", "Profile"):
            await expect(page.get_by_role("link", name=name)).to_be_visible()
        await expect(page.get_by_role("button", name="Log out")).to_be_visible()
        await expect(page.locator("#view-unassigned")).to_be_visible()
        assert await page_width(page) <= VIEWPORT["width"]
        await screenshot(page, artifacts_dir, "inbox-desktop.png")

        await page.locator(f"#row-{ticket['id']}").click()
        await expect(page.locator("#ticket-title")).to_contain_text("Parcel stuck at customs")
        await expect(page.locator(".msg-in")).to_contain_text("It has been a week.")
        # Sidebar, list, ticket and contact side by side; no "back" on a wide screen.
        for pane in ("#sidebar", "#list-pane", ".ticket-pane", ".contact-pane"):
            await expect(page.locator(pane)).to_be_visible()
        assert await width_of(page.locator(".ticket-pane")) >= 500
        await expect(page.get_by_role("link", name="Back to conversations")).to_be_hidden()
        send = page.get_by_role("button", name="Send reply")
        assert await inside_viewport(page, send)
        assert await page_width(page) <= VIEWPORT["width"]
        assert await audit(page) == []
        await screenshot(page, artifacts_dir, "ticket-desktop.png")

        # A smaller laptop keeps the panes; the header's links and buttons go into the menu.
        await page.set_viewport_size({"width": 1000, "height": 800})
        menu = page.get_by_role("button", name="Menu")
        await expect(menu).to_be_visible()
        await expect(page.get_by_role("link", name="Dashboard")).to_be_hidden()
        for pane in ("#sidebar", "#list-pane", ".ticket-pane"):
            await expect(page.locator(pane)).to_be_visible()
        assert await page_width(page) <= 1000
        await menu.click()
        await expect(page.get_by_role("button", name="Log out")).to_be_visible()
        assert await audit(page) == []
    finally:
        await context.close()
        await owner.aclose()
