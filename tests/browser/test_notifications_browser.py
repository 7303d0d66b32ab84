"""What reaches an agent without a reload: read receipts in the open thread, desktop
notifications for what concerns them, the unread count in the tab's title, and the mentions
page. Real Chromium against a real Tandem process; customers write through the widget's API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.apiclient import AgentClient, invite_and_join, sign_up
from tests.browser.test_accessibility import audit
from tests.browser.test_inbox_browser import email_of, log_in

pytestmark = pytest.mark.browser

SITE = "https://shop.example"

# A stand-in for the browser's Notification: records what the app shows and whether it asked.
NOTIFICATION_STUB = """
(() => {
  window.__notes = [];
  window.__asked = 0;
  class Recorded {
    static permission = "default";
    static async requestPermission() {
      window.__asked += 1;
      Recorded.permission = "granted";
      return "granted";
    }
    constructor(title, options) {
      window.__notes.push({ title, body: (options && options.body) || "" });
    }
    close() {}
  }
  window.Notification = Recorded;
})();
"""


@asynccontextmanager
async def visitor(url: str, owner: AgentClient, name: str) -> AsyncIterator[httpx.AsyncClient]:
    """A customer on the owner's website, chatting through the widget's API."""
    allowed = await owner.patch("/workspace", json={"allowed_origins": [SITE]})
    assert allowed.status_code == 200, allowed.text
    async with httpx.AsyncClient(
        base_url=url + "/api/v1/widget", headers={"Origin": SITE}, timeout=10
    ) as client:
        session = await client.post("/session", json={"workspace": allowed.json()["id"]})
        assert session.status_code == 200, session.text
        client.headers["Authorization"] = "Bearer " + session.json()["visitor_token"]
        named = await client.post("/profile", json={"name": name})
        assert named.status_code in (200, 204), named.text
        yield client


async def say(client: httpx.AsyncClient, text: str, client_id: str) -> str:
    sent = await client.post("/messages", json={"text": text, "client_id": client_id})
    assert sent.status_code == 201, sent.text
    return str(sent.json()["conversation_id"])


async def told(page: Page, n: int) -> None:
    """Wait until the app has shown `n` notifications, then check it showed no more."""
    try:
        await page.wait_for_function(f"window.__notes.length >= {n}", timeout=10_000)
    finally:
        assert len(await notes(page)) == n, await notes(page)


async def notes(page: Page) -> list[dict[str, str]]:
    found: list[dict[str, str]] = await page.evaluate("window.__notes")
    return found


async def test_the_thread_shows_read_when_the_customer_reads_the_reply(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    async with visitor(tandem_url, owner, "Vera Visitor") as customer:
        chat = await say(customer, "Do you ship to Norway?", "q1")
        context, page = await log_in(
            browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
        )
        try:
            await page.locator(f"#row-{chat}").click()
            await page.get_by_label("Reply to the customer").fill("Yes, in three days.")
            await page.get_by_role("button", name="Send reply").click()
            reply = page.locator(".msg-out", has_text="Yes, in three days.")
            status = reply.locator(".msg-meta")
            await expect(status).to_contain_text(re.compile(r"sent\s*$"))
            reply_id = await reply.get_attribute("data-id")

            read = await customer.post("/read", json={"up_to": reply_id})
            assert read.status_code == 204, read.text
            # No reload: the open thread changes by itself.
            await expect(status).to_contain_text(re.compile(r"read\s*$"))
            await expect(status).not_to_contain_text("sent")
        finally:
            await context.close()
    await owner.aclose()


async def test_an_agent_is_notified_of_what_concerns_them(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)  # Olivia Owner: the agent at the browser
    sue = await invite_and_join(owner, tandem_url, "Sue Supervisor", role="supervisor")
    context, page = await log_in(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
    )
    await context.grant_permissions(["notifications"])
    await context.add_init_script(NOTIFICATION_STUB)
    await page.reload()
    await expect(page.locator(".list-head")).not_to_contain_text("Loading")
    try:
        # Never asked on load: only from the button.
        assert await page.evaluate("window.__asked") == 0
        await page.get_by_role("button", name="Turn on desktop notifications").click()
        await expect(page.locator("#notify-state")).to_have_text("Desktop notifications are on.")
        assert await page.evaluate("window.__asked") == 1
        sound = page.get_by_label("Play a sound")
        await expect(sound).not_to_be_checked()  # off until the agent turns it on
        await expect(page).to_have_title("Tandem inbox")
        assert await audit(page) == []

        async with visitor(tandem_url, owner, "Vera Visitor") as customer:
            chat = await say(customer, "My order is late", "m1")
            await expect(page.locator(f"#row-{chat}")).to_contain_text("My order is late")
            assert await notes(page) == []  # not mine: nobody is told

            # Sue gives me the conversation: I am told, and it counts as unread in the title.
            version = (await sue.get(f"/tickets/{chat}")).json()["ticket"]["version"]
            given = await sue.patch(
                f"/tickets/{chat}", json={"version": version, "assignee_id": owner.user_id}
            )
            assert given.status_code == 200, given.text
            await expect(page).to_have_title("(1) Tandem inbox")
            await told(page, 1)
            first = (await notes(page))[0]
            assert first["title"].startswith("Sue Supervisor assigned you #")

            # Opened: read. The customer writes again: told, unread again.
            await page.locator(f"#row-{chat}").click()
            await expect(page).to_have_title("Tandem inbox")
            await page.get_by_role("link", name="Inbox").click()
            await expect(page.locator(f"#row-{chat} .unread-dot")).to_have_count(0)
            await say(customer, "Any news on my parcel?", "m2")
            await expect(page).to_have_title("(1) Tandem inbox")
            await expect(page.locator(f"#row-{chat}")).to_contain_text("Any news on my parcel?")
            await expect(page.get_by_role("img", name="Unread")).to_have_count(1)
            await told(page, 2)
            reply = (await notes(page))[1]
            assert "replied on #" in reply["title"]
            assert reply["body"] == "Any news on my parcel?"

        # A note that mentions me: told; one that does not: nothing.
        await sue.post(f"/tickets/{chat}/messages", json={"text": "internal only", "kind": "note"})
        await sue.post(
            f"/tickets/{chat}/messages",
            json={"text": "@olivia the courier says Friday", "kind": "note"},
        )
        await told(page, 3)
        mention = (await notes(page))[2]
        assert mention["title"].startswith("Sue Supervisor mentioned you on #")
        assert mention["body"] == "@olivia the courier says Friday"

        # The sound setting is kept in this browser.
        await sound.check()
        assert await page.evaluate("localStorage.getItem('tandem.sound')") == "on"
        await page.reload()
        await expect(page.get_by_label("Play a sound")).to_be_checked()
    finally:
        await context.close()
        await owner.aclose()
        await sue.aclose()


async def test_the_mentions_page_lists_notes_that_mention_me(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    sue = await invite_and_join(owner, tandem_url, "Sue Supervisor", role="supervisor")
    subjects = []
    for n in range(22):
        created = await sue.post("/tickets", json={"subject": f"Question {n:02d}"})
        assert created.status_code == 201, created.text
        subjects.append(created.json())
        posted = await sue.post(
            f"/tickets/{created.json()['id']}/messages",
            json={"text": f"@olivia please look at question {n:02d}", "kind": "note"},
        )
        assert posted.status_code == 201, posted.text
    context, page = await log_in(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
    )
    try:
        await page.get_by_role("link", name="Mentions").click()
        entries = page.locator(".mention")
        await expect(entries).to_have_count(20)  # a page
        await expect(entries.first).to_contain_text("please look at question 21")
        await expect(entries.first).to_contain_text("Sue Supervisor")
        await page.get_by_role("button", name="Show older").click()
        await expect(entries).to_have_count(22)
        await expect(entries.last).to_contain_text("question 00")
        await expect(page.get_by_role("button", name="Show older")).to_have_count(0)
        assert await audit(page) == []

        # A new mention arrives at the top while the page is open.
        await sue.post(
            f"/tickets/{subjects[3]['id']}/messages",
            json={"text": "@olivia and one more thing", "kind": "note"},
        )
        await expect(entries.first).to_contain_text("and one more thing")

        # Each links to its ticket.
        await entries.nth(1).get_by_role("link").click()
        await expect(page.locator("#ticket-title")).to_contain_text("Question 21")
        await expect(page.locator(".msg-note", has_text="question 21")).to_be_visible()
    finally:
        await context.close()
        await owner.aclose()
        await sue.aclose()
