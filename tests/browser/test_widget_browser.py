"""The webchat widget in real Chromium: a customer's site on another origin embeds
`/widget.js`; visitors write, agents answer through the API, and nothing is lost or doubled
across a network cut."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, BrowserContext, Locator, Page, Response, expect

from app.auth.visitor_tokens import identity_hash
from realtime.client import TandemClient
from realtime.events import Signal
from tests.apiclient import AgentClient, sign_up
from tests.browser.conftest import HostSite

pytestmark = pytest.mark.browser

OWNER = "Olivia Owner"
# The host site's own CSS: none of it may reach the widget inside its shadow root.
HOSTILE_CSS = (
    "p, li, ol, form, textarea, button { display: none !important; }"
    " * { font-size: 3px !important; position: static !important; }"
)


@dataclass
class Shop:
    owner: AgentClient
    workspace_id: str
    secret: str
    tandem_url: str
    site: HostSite

    def page(self, name: str, before: str = "", attrs: str = "") -> str:
        return self.site.page(name, self.html(before, attrs))

    def html(self, before: str = "", attrs: str = "") -> str:
        return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title><style>{HOSTILE_CSS}</style></head>
<body><h1>The shop</h1>
<script>
  window.Tandem = window.Tandem || {{q: []}};
  window.seen = {{errors: [], messages: [], unread: []}};
  Tandem.q.push(["onError", (e) => seen.errors.push(e)]);
  Tandem.q.push(["onMessage", (m) => seen.messages.push(m.text)]);
  Tandem.q.push(["onUnread", (n) => seen.unread.push(n)]);
  {before}
</script>
<script src="{self.tandem_url}/widget.js" data-workspace="{self.workspace_id}" {attrs} async>
</script>
</body></html>"""


@pytest.fixture(scope="module")
async def shop(tandem_url: str, host_site: HostSite) -> AsyncIterator[Shop]:
    owner = await sign_up(tandem_url, name=OWNER)
    patched = await owner.patch("/workspace", json={"allowed_origins": [host_site.url]})
    assert patched.status_code == 200, patched.text
    workspace_id = patched.json()["id"]
    secret = (await owner.get("/workspace/widget")).json()["secret"]
    yield Shop(owner, workspace_id, secret, tandem_url, host_site)
    await owner.aclose()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh visitor: its own storage, so its own visitor token."""
    ctx = await browser.new_context(viewport={"width": 1000, "height": 720})
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        await ctx.close()


def is_post(path: str) -> Callable[[Response], bool]:
    return lambda r: r.request.method == "POST" and r.url.endswith("/api/v1/widget" + path)


def bubble(page: Page, text: str) -> Locator:
    """The message bubbles showing exactly `text`."""
    return page.locator("tandem-chat li p").filter(has_text=re.compile("^" + re.escape(text) + "$"))


async def open_widget(page: Page) -> None:
    await page.get_by_role("button", name="Open chat").click()
    await expect(page.get_by_role("dialog", name="Chat")).to_be_visible()


async def write(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")


async def first_message(page: Page, text: str) -> str:
    """Send the visitor's first message; the conversation (ticket) id it started."""
    async with page.expect_response(is_post("/messages")) as answer:
        await write(page, text)
    response: Response = await answer.value
    assert response.status == 201, await response.text()
    conversation_id: str = (await response.json())["conversation_id"]
    return conversation_id


async def reply(shop: Shop, ticket_id: str, text: str) -> None:
    sent = await shop.owner.post(f"/tickets/{ticket_id}/messages", json={"text": text})
    assert sent.status_code == 201, sent.text


async def thread(shop: Shop, ticket_id: str) -> list[dict[str, Any]]:
    detail = await shop.owner.get(f"/tickets/{ticket_id}")
    assert detail.status_code == 200, detail.text
    messages: list[dict[str, Any]] = detail.json()["messages"]
    return messages


async def settled(page: Page, shop: Shop) -> None:
    """Every message the visitor typed was answered 201: nothing is left in the outbox."""
    await expect(page.locator("tandem-chat li.q")).to_have_count(0)
    outbox = await page.evaluate(f"localStorage.getItem('tandem:{shop.workspace_id}:outbox')")
    assert outbox == "[]"


async def test_live_both_ways_and_exactly_once_across_a_network_cut(
    shop: Shop, context: BrowserContext, artifacts_dir: Path
) -> None:
    page = await context.new_page()
    await page.goto(shop.page("shop.html"))
    await open_widget(page)
    await expect(page.get_by_text("Hi! How can we help?")).to_be_visible()

    ticket_id = await first_message(page, "Hello, my order 1042 is late")
    await expect(bubble(page, "Hello, my order 1042 is late")).to_be_visible()
    await reply(shop, ticket_id, "Sorry! Looking into it now.")
    await expect(bubble(page, "Sorry! Looking into it now.")).to_be_visible()  # live
    await expect(page.locator("tandem-chat li.out small").first).to_have_text(OWNER)

    await context.set_offline(True)
    await expect(page.get_by_text("You're offline")).to_be_visible()
    await write(page, "Offline one")
    await write(page, "Offline two")
    await expect(page.locator("tandem-chat li.q")).to_have_count(2)  # queued, shown
    await expect(page.get_by_text("Waiting for the connection…")).to_have_count(2)
    await reply(shop, ticket_id, "Found it: it ships tomorrow.")
    await context.set_offline(False)

    await expect(bubble(page, "Found it: it ships tomorrow.")).to_be_visible()
    await settled(page, shop)
    await expect(page.get_by_text("You're offline")).to_be_hidden()
    texts = [m["text"] for m in await thread(shop, ticket_id) if m["direction"] == "in"]
    assert texts == ["Hello, my order 1042 is late", "Offline one", "Offline two"]
    for text in (
        "Hello, my order 1042 is late",
        "Offline one",
        "Offline two",
        "Sorry! Looking into it now.",
        "Found it: it ships tomorrow.",
    ):
        await expect(bubble(page, text)).to_have_count(1)
    assert await page.evaluate("seen.messages") == [
        "Sorry! Looking into it now.",
        "Found it: it ships tomorrow.",
    ]
    # The host page's CSS did not reach inside: readable text, the widget pinned in place.
    size = await bubble(page, "Offline one").evaluate("p => getComputedStyle(p).fontSize")
    assert size == "14px"
    host = page.locator("tandem-chat")
    assert await host.evaluate("h => getComputedStyle(h).position") == "fixed"
    await page.screenshot(path=artifacts_dir / "widget-open.png")


async def test_a_visitor_away_past_the_replay_log_refetches_the_conversation(
    shop: Shop, context: BrowserContext, redis_url: str
) -> None:
    page = await context.new_page()
    await page.goto(shop.page("resync.html"))
    await open_widget(page)
    ticket_id = await first_message(page, "Is the blue one back in stock?")
    await context.set_offline(True)
    await expect(page.get_by_text("You're offline")).to_be_visible()
    await reply(shop, ticket_id, "Yes, since this morning.")
    # The replay log no longer reaches back to this visitor's last event: only the
    # server's resync, and the widget's refetch on it, can bring the reply.
    broker = aioredis.from_url(redis_url)
    try:
        await broker.xtrim(f"tandem:{{ws:{shop.workspace_id}}}:log", maxlen=0)
    finally:
        await broker.aclose()
    await context.set_offline(False)
    await expect(bubble(page, "Yes, since this morning.")).to_have_count(1)
    await reply(shop, ticket_id, "Shall I hold one for you?")  # and live again afterwards
    await expect(bubble(page, "Shall I hold one for you?")).to_have_count(1)


async def test_a_reload_keeps_the_conversation_and_unread_replies_are_counted(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(shop.page("reload.html"))
    await open_widget(page)
    ticket_id = await first_message(page, "Do you ship to Norway?")
    async with page.expect_response(is_post("/read")):  # it arrives while the panel is open
        await reply(shop, ticket_id, "We do, in 3 days.")
    await expect(bubble(page, "We do, in 3 days.")).to_be_visible()

    conversation = lambda r: r.url.endswith("/api/v1/widget/conversation")  # noqa: E731
    async with page.expect_response(conversation) as fetched:
        await page.reload()
    assert (await fetched.value).status == 200
    badge = page.locator("tandem-chat .b")
    await expect(badge).to_be_hidden()  # that reply was read already
    await open_widget(page)
    for text in ("Do you ship to Norway?", "We do, in 3 days."):
        await expect(bubble(page, text)).to_have_count(1)

    await page.get_by_role("button", name="Minimize chat").click()
    await reply(shop, ticket_id, "Anything else?")
    await expect(badge).to_have_text("1")
    assert await page.evaluate("seen.unread") == [1]
    async with page.expect_response(is_post("/read")) as receipt:
        await open_widget(page)
    assert (await receipt.value).status == 204
    await expect(badge).to_be_hidden()
    assert await page.evaluate("seen.unread") == [1, 0]
    assert [(m["text"], m["delivery_status"]) for m in await thread(shop, ticket_id)] == [
        ("Do you ship to Norway?", None),
        ("We do, in 3 days.", "read"),
        ("Anything else?", "read"),
    ]


async def test_a_network_that_blocks_websockets_still_shows_the_conversation(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(shop.page("nows.html"))
    await open_widget(page)
    ticket_id = await first_message(page, "Is the shop open on Sunday?")
    await reply(shop, ticket_id, "From 10 to 4.")
    await expect(bubble(page, "From 10 to 4.")).to_be_visible()

    # A proxy that refuses WebSockets: every socket the page opens is closed at once.
    await page.route_web_socket(re.compile(r".*/live.*"), lambda ws: ws.close())
    await page.reload()
    await open_widget(page)
    for text in ("Is the shop open on Sunday?", "From 10 to 4."):
        await expect(bubble(page, text)).to_have_count(1)


async def test_html_and_script_in_messages_stay_text_on_both_sides(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(shop.page("xss.html"))
    await open_widget(page)
    typed = "<img src=x onerror=window.__pwned=1> hi"
    ticket_id = await first_message(page, typed)
    answer = "<script>window.__pwned=2</script><b>bold?</b><img src=y onerror=window.__pwned=3>"
    await reply(shop, ticket_id, answer)
    await expect(bubble(page, typed)).to_be_visible()
    await expect(bubble(page, answer)).to_be_visible()
    assert await page.locator("tandem-chat li :is(img, script, b)").count() == 0
    assert await page.evaluate("window.__pwned") is None
    assert [m["text"] for m in await thread(shop, ticket_id)] == [typed, answer]


async def test_a_site_that_is_not_allowed_gets_no_session_and_no_widget(
    shop: Shop, context: BrowserContext
) -> None:
    # The same host server under another origin string, which the workspace did not allow.
    other = shop.page("blocked.html").replace("//localhost:", "//127.0.0.1:")
    page = await context.new_page()
    async with page.expect_response(is_post("/session")) as refused:
        await page.goto(other)
    response = await refused.value
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "origin_not_allowed"
    await page.wait_for_function("window.seen.errors.length > 0")
    assert [e["code"] for e in await page.evaluate("seen.errors")] == ["origin_not_allowed"]
    await expect(page.locator("tandem-chat")).to_have_count(0)  # shoppers see nothing


async def test_set_user_refuses_a_wrong_hash_and_verifies_a_right_one(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    async with page.expect_response(is_post("/session")):
        await page.goto(shop.page("identity.html"))
    refused = await page.evaluate("Tandem.setUser({id: 'cust-7', hash: '0'.repeat(64)})")
    assert refused is None
    errors = await page.evaluate("seen.errors")
    assert [e["code"] for e in errors] == ["identity_invalid"]

    right = identity_hash(shop.secret, "cust-7")
    visitor = await page.evaluate(
        "([id, hash]) => Tandem.setUser({id, hash, name: 'Grace Hopper'})", ["cust-7", right]
    )
    assert visitor["verified"] is True
    await open_widget(page)
    ticket_id = await first_message(page, "It's me, Grace")
    ticket = (await shop.owner.get(f"/tickets/{ticket_id}")).json()["ticket"]
    assert ticket["contact_id"] == visitor["contact_id"]
    contact = (await shop.owner.get(f"/contacts/{visitor['contact_id']}")).json()
    assert (contact["verified"], contact["external_id"], contact["name"]) == (
        True,
        "cust-7",
        "Grace Hopper",
    )


async def test_a_flood_shows_the_rate_limit_notice_and_keeps_the_rest_queued(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(shop.page("flood.html"))
    await open_widget(page)
    notice = page.get_by_text("You're sending messages too fast")
    for i in range(22):
        await write(page, f"spam {i}")
    await expect(notice).to_be_visible()
    await expect(page.locator("tandem-chat li.q")).to_have_count(2)  # kept for later
    await expect(bubble(page, "spam 21")).to_be_visible()


async def test_nobody_online_shows_the_reply_time_and_asks_for_an_email(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    # Queued before the script loads: attributes from the host page.
    before = 'Tandem.q.push(["setAttributes", {plan: "pro", seats: 3}]);'
    async with (
        page.expect_response(is_post("/session")) as started,
        page.expect_response(is_post("/profile")) as attributes,
    ):
        await page.goto(shop.page("away.html", before=before))
    contact_id = (await (await started.value).json())["visitor"]["contact_id"]
    assert (await attributes.value).status == 200
    await open_widget(page)
    await expect(page.get_by_text("We usually reply in a few hours.")).to_be_visible()
    email = f"carla-{uuid.uuid4().hex[:6]}@example.com"
    await page.get_by_role("textbox", name="Your email").fill(email)
    async with page.expect_response(is_post("/profile")) as saved:
        await page.get_by_role("button", name="Notify me").click()
    assert (await saved.value).status == 200
    await expect(page.get_by_text(f"we'll reply to {email}")).to_be_visible()
    await expect(page.get_by_role("button", name="Notify me")).to_be_hidden()
    contact = (await shop.owner.get(f"/contacts/{contact_id}")).json()
    assert contact["email"] == email
    assert contact["custom_attributes"] == {"source": "webchat", "plan": "pro", "seats": 3}

    # An agent comes online: the next time the visitor opens the panel, it says so.
    token = (await shop.owner.post("/realtime/token")).json()["token"]
    live = shop.tandem_url.replace("http://", "ws://") + "/live"
    async with TandemClient(live, token=token, topics=["presence"]) as agent:
        await agent.wait_ready()
        await agent.presence("online")
        await page.get_by_role("button", name="Close chat").click()
        await open_widget(page)
        await expect(page.get_by_text("We're online.")).to_be_visible()


async def test_the_pre_chat_form_comes_first_when_the_site_turns_it_on(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    async with page.expect_response(is_post("/session")) as started:
        await page.goto(shop.page("prechat.html", attrs='data-prechat="true"'))
    contact_id = (await (await started.value).json())["visitor"]["contact_id"]
    await open_widget(page)
    await expect(page.get_by_role("textbox", name="Message")).to_be_hidden()
    await page.get_by_role("textbox", name="Your name").fill("Dana")
    await page.get_by_role("textbox", name="Your email").fill("dana@example.com")
    await page.get_by_role("button", name="Start chat").click()
    await expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    await first_message(page, "Hi, Dana here")
    contact = (await shop.owner.get(f"/contacts/{contact_id}")).json()
    assert (contact["name"], contact["email"]) == ("Dana", "dana@example.com")


async def test_typing_reaches_the_agent_and_the_agents_typing_shows_in_the_widget(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(shop.page("typing.html"))
    await open_widget(page)
    ticket_id = await first_message(page, "Quick question")
    visitor_typing = asyncio.Event()

    async def on_signal(signal: Signal) -> None:
        if signal.type == "typing" and signal.ticket == ticket_id and signal.data.on:
            visitor_typing.set()

    token = (await shop.owner.post("/realtime/token")).json()["token"]
    live = shop.tandem_url.replace("http://", "ws://") + "/live"
    async with TandemClient(
        live, token=token, topics=[f"ticket:{ticket_id}"], on_signal=on_signal
    ) as agent:
        await agent.wait_ready()
        await page.get_by_role("textbox", name="Message").press_sequentially("about sizes")
        await asyncio.wait_for(visitor_typing.wait(), timeout=10)

        await agent.typing(ticket_id, True)
        indicator = page.get_by_text(f"{OWNER} is typing…")
        await expect(indicator).to_be_visible()
        await reply(shop, ticket_id, "Ask away!")
        await expect(bubble(page, "Ask away!")).to_be_visible()
        await expect(indicator).to_be_hidden()  # the reply replaces the indicator


async def test_a_message_the_server_refuses_shows_why_and_is_not_retried(
    shop: Shop, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(shop.page("refused.html"))
    await open_widget(page)
    ticket_id = await first_message(page, "Here is my log:")
    for size, status in ((10_001, 422), (1_100_000, 413)):
        async with page.expect_response(is_post("/messages")) as answer:
            await write(page, "x" * size)
        assert (await answer.value).status == status
    reasons = page.locator("tandem-chat li.x small")
    await expect(reasons).to_have_count(2)
    await expect(reasons.first).to_have_text(
        "Not sent: this message is too long (10,000 characters at most)."
    )
    await expect(reasons.last).to_have_text("Not sent: this message is too large.")
    await write(page, "Sorry, it was too long")  # the queue moves on
    await settled(page, shop)
    assert [m["text"] for m in await thread(shop, ticket_id)] == [
        "Here is my log:",
        "Sorry, it was too long",
    ]
