"""The widget as a shopper meets it, in real Chromium: nothing at all on a site that may not
embed it, Esc, a header that tells the truth, times and "Seen" on messages, a pre-chat form
that fits a phone, and the shopper's language."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Expect, Locator, Page

from app.auth.visitor_tokens import identity_hash
from realtime.client import TandemClient
from tests.apiclient import sign_up
from tests.browser.conftest import HostSite
from tests.browser.test_accessibility import audit
from tests.browser.test_widget_browser import (
    Shop,
    bubble,
    first_message,
    is_post,
    open_widget,
    reply,
)

pytestmark = pytest.mark.browser

SHADOW = "document.querySelector('tandem-chat').shadowRoot"
expect = Expect()  # this module's own, so the longer wait reaches no other module
expect.set_options(timeout=10_000)


def row(page: Page, side: str, text: str) -> Locator:
    """The message (`side` "in": the visitor's, "out": an agent's) whose text is `text`."""
    exactly = page.locator("p").filter(has_text=re.compile("^" + re.escape(text) + "$"))
    return page.locator(f"tandem-chat li.{side}").filter(has=exactly)


@pytest.fixture(scope="module")
async def shop(tandem_url: str, host_site: HostSite) -> AsyncIterator[Shop]:
    owner = await sign_up(tandem_url, name="Olivia Owner")
    patched = await owner.patch("/workspace", json={"allowed_origins": [host_site.url]})
    assert patched.status_code == 200, patched.text
    secret = (await owner.get("/workspace/widget")).json()["secret"]
    yield Shop(owner, patched.json()["id"], secret, tandem_url, host_site)
    await owner.aclose()


async def new_context(browser: Browser, **options: object) -> BrowserContext:
    ctx = await browser.new_context(**{"viewport": {"width": 1000, "height": 720}, **options})
    ctx.set_default_timeout(10_000)
    return ctx


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await new_context(browser, locale="en-US")
    try:
        yield ctx
    finally:
        await ctx.close()


async def test_a_site_that_may_not_embed_the_widget_shows_nothing_and_tells_the_developer(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    # Whether the widget's element was on the page at any moment, even briefly.
    await page.add_init_script(
        "new MutationObserver(() => { if (document.querySelector('tandem-chat'))"
        " window.__widgetShown = true; }).observe(document, {childList: true, subtree: true});"
    )
    console: list[ConsoleMessage] = []
    page.on("console", lambda message: console.append(message))
    other = shop.page("blocked.html").replace("//localhost:", "//127.0.0.1:")
    async with page.expect_response(is_post("/session")) as refused:
        await page.goto(other)
    assert (await refused.value).status == 403
    await expect(page.get_by_role("heading", name="The shop")).to_be_visible()
    await page.wait_for_function("window.seen.errors.length > 0")
    assert [e["code"] for e in await page.evaluate("seen.errors")] == ["origin_not_allowed"]
    assert await page.locator("tandem-chat").count() == 0
    assert await page.get_by_role("button", name="Open chat").count() == 0
    assert await page.evaluate("window.__widgetShown") is None
    told = [m.text for m in console if m.type in ("error", "warning")]
    origin = other.split("/blocked.html")[0]
    assert any(
        "allowed origins" in text and origin in text and "origin_not_allowed" in text
        for text in told
    ), told


async def test_set_user_brings_the_verified_email_and_a_refused_user_stays_anonymous(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    async with page.expect_response(is_post("/session")):
        await page.goto(shop.page("verified.html"))
    broken = await page.evaluate(
        "([id, hash]) => Tandem.setUser({id, hash, email: 'no address'})",
        ["cust-9", identity_hash(shop.secret, "cust-9")],
    )
    assert broken is None
    assert [e["code"] for e in await page.evaluate("seen.errors")] == ["invalid_field"]
    await expect(page.get_by_role("button", name="Open chat")).to_be_visible()  # still there

    visitor = await page.evaluate(
        "([id, hash]) => Tandem.setUser({id, hash, name: 'Ada', email: 'ada@shop.example'})",
        ["cust-9", identity_hash(shop.secret, "cust-9")],
    )
    assert (visitor["verified"], visitor["email"]) == (True, "ada@shop.example")
    contact = (await shop.owner.get(f"/contacts/{visitor['contact_id']}")).json()
    assert (contact["external_id"], contact["email"]) == ("cust-9", "ada@shop.example")


async def test_escape_closes_the_widget_and_focus_returns_to_the_launcher(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(shop.page("esc.html"))
    await open_widget(page)
    box = page.get_by_role("textbox", name="Message")
    await expect(box).to_be_focused()
    await box.fill("half a thought")
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("dialog", name="Chat")).to_be_hidden()
    launcher = page.get_by_role("button", name="Open chat")
    await expect(launcher).to_be_focused()
    # Enter on the focused launcher opens it again, with what was typed still there.
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("dialog", name="Chat")).to_be_visible()
    await expect(box).to_have_value("half a thought")


async def test_messages_show_their_time_and_seen_once_an_agent_answered(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(shop.page("seen.html"))
    await open_widget(page)
    before = datetime.now(UTC) - timedelta(seconds=5)
    ticket_id = await first_message(page, "Is this in stock?")
    mine = row(page, "in", "Is this in stock?")
    stamp = mine.locator("time")
    await expect(stamp).to_have_text(re.compile(r"^\d{1,2}:\d{2}(\s[AP]M)?$"))
    sent_at = datetime.fromisoformat(await stamp.get_attribute("datetime") or "")
    assert before <= sent_at <= datetime.now(UTC) + timedelta(seconds=5)
    full = await stamp.get_attribute("title") or ""
    assert str(sent_at.astimezone().year) in full, full  # the full date, not only the time
    await expect(mine).not_to_contain_text("Seen")

    await reply(shop, ticket_id, "Yes, two left.")
    theirs = row(page, "out", "Yes, two left.")
    await expect(theirs.locator("time")).to_have_text(re.compile(r"^\d{1,2}:\d{2}"))
    await expect(mine).to_contain_text("Seen")  # live: the agent answered, so they read it
    await first_message(page, "Great, I'll order one")
    later = row(page, "in", "Great, I'll order one")
    await expect(later.locator("time")).to_be_visible()
    await expect(later).not_to_contain_text("Seen")

    await page.reload()
    await open_widget(page)
    await expect(mine).to_contain_text("Seen")  # and after a reload, from the API
    await expect(later.locator("time")).to_be_visible()
    await expect(later).not_to_contain_text("Seen")
    await expect(theirs).not_to_contain_text("Seen")

    # An agent opens the conversation without answering: "Seen" all the same, live and
    # after a reload.
    thread = (await shop.owner.get(f"/tickets/{ticket_id}")).json()["messages"]
    latest = next(m["id"] for m in thread if m["text"] == "Great, I'll order one")
    told = await shop.owner.post(f"/tickets/{ticket_id}/seen", json={"up_to": latest})
    assert told.status_code == 204, told.text
    await expect(later).to_contain_text("Seen")
    await page.reload()
    await open_widget(page)
    await expect(later).to_contain_text("Seen")


async def test_the_pre_chat_form_is_a_stacked_labelled_form_on_a_phone(
    shop: Shop, browser: Browser
) -> None:
    ctx = await new_context(browser, locale="en-US", viewport={"width": 320, "height": 640})
    try:
        page = await ctx.new_page()
        await page.goto(shop.page("narrow.html", attrs='data-prechat="true"'))
        await open_widget(page)
        name = page.get_by_role("textbox", name="Your name")
        email = page.get_by_role("textbox", name="Your email")
        start = page.get_by_role("button", name="Start chat")
        for field in (name, email, start):
            await expect(field).to_be_visible()
        # Visible labels, not only placeholders.
        labels = page.locator("tandem-chat label:visible")
        await expect(labels).to_have_text(["Your name", "Your email"])
        boxes = [await f.bounding_box() for f in (name, email, start)]
        assert all(b is not None for b in boxes)
        n, e, s = (b for b in boxes if b is not None)
        assert n["y"] + n["height"] <= e["y"]  # stacked: name, email, button
        assert e["y"] + e["height"] <= s["y"]
        for b in (n, e, s):  # nothing runs off the screen
            assert b["x"] >= 0
            assert b["x"] + b["width"] <= 320
        for b in (n, e):  # each field has the row to itself
            assert b["width"] >= 200
        assert await audit(page, SHADOW) == []
        await name.fill("Dana")
        await email.fill("dana@example.com")
        await start.click()
        await expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    finally:
        await ctx.close()


async def test_a_german_browser_gets_the_widget_in_german(shop: Shop, browser: Browser) -> None:
    ctx = await new_context(browser, locale="de-DE")
    try:
        page = await ctx.new_page()
        await page.goto(shop.page("de.html"))
        await page.get_by_role("button", name="Chat öffnen").click()
        await expect(page.get_by_role("dialog")).to_be_visible()
        box = page.get_by_role("textbox", name="Nachricht")
        await expect(box).to_have_attribute("placeholder", "Nachricht schreiben…")
        await expect(page.get_by_role("button", name="Senden")).to_be_visible()
        await expect(page.locator("tandem-chat header small")).to_have_text(
            "Wir antworten normalerweise in a few hours."
        )
        await expect(page.get_by_role("button", name="Benachrichtigen")).to_be_visible()
        await box.fill("Hallo")
        await box.press("Enter")
        await expect(bubble(page, "Hallo")).to_be_visible()
        await page.keyboard.press("Escape")
        await expect(page.get_by_role("button", name="Chat öffnen")).to_be_focused()
    finally:
        await ctx.close()


async def test_the_host_page_asks_for_spanish_and_unknown_languages_get_english(
    shop: Shop, browser: Browser
) -> None:
    ctx = await new_context(browser, locale="de-DE")
    try:
        page = await ctx.new_page()
        await page.goto(shop.page("es.html", attrs='data-locale="es"'))
        await page.get_by_role("button", name="Abrir chat").click()
        await expect(page.get_by_role("textbox", name="Mensaje")).to_be_visible()
        await expect(page.get_by_role("button", name="Enviar")).to_be_visible()
        await expect(page.get_by_role("button", name="Minimizar chat")).to_be_visible()
    finally:
        await ctx.close()
    ctx = await new_context(browser, locale="ja-JP")
    try:
        page = await ctx.new_page()
        await page.goto(shop.page("ja.html"))
        await open_widget(page)
        await expect(page.get_by_role("button", name="Send")).to_be_visible()
    finally:
        await ctx.close()


async def test_the_header_says_offline_connecting_or_online_as_it_is(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    token = (await shop.owner.post("/realtime/token")).json()["token"]
    live = shop.tandem_url.replace("http://", "ws://") + "/live"
    async with TandemClient(live, token=token, topics=["presence"]) as agent:
        await agent.wait_ready()
        await agent.presence("online")
        await page.goto(shop.page("status.html"))
        await open_widget(page)
        status = page.locator("tandem-chat header small")
        await expect(status).to_have_text("We're online.")

        await context.set_offline(True)
        await expect(page.get_by_text("You're offline")).to_be_visible()
        await expect(status).to_have_text("Offline")

        # Back on the network: "Connecting…" until the live socket is up again. The socket is
        # held back here so that moment can be seen.
        held: list[object] = []
        await page.route_web_socket(re.compile(r".*/live.*"), lambda ws: held.append(ws))
        await context.set_offline(False)
        await expect(status).to_have_text("Connecting…")
        fresh = await context.new_page()  # the same visitor, with nothing held back
        await fresh.goto(shop.page("status.html"))
        await open_widget(fresh)
        await expect(fresh.locator("tandem-chat header small")).to_have_text("We're online.")
