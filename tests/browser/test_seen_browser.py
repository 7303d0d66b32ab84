"""An agent opening a webchat conversation in the app tells the customer "Seen"."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser

from tests.apiclient import sign_up
from tests.browser.test_inbox_browser import email_of, log_in
from tests.browser.test_notifications_browser import visitor as visitor_of

pytestmark = pytest.mark.browser


async def test_opening_a_conversation_marks_the_customers_messages_seen(
    tandem_url: str, browser: Browser
) -> None:
    owner = await sign_up(tandem_url)
    async with visitor_of(tandem_url, owner, "Carla") as visitor:
        sent = await visitor.post("/messages", json={"text": "Anyone there?", "client_id": "s1"})
        assert sent.status_code == 201, sent.text
        chat, message = sent.json()["conversation_id"], sent.json()["id"]
        assert (await visitor.get("/conversation")).json()["seen_up_to"] is None
        context, page = await log_in(
            browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
        )
        try:
            await page.locator(f"#row-{chat}").click()
            await page.get_by_text("Anyone there?").first.wait_for()
            for _ in range(50):
                if (await visitor.get("/conversation")).json()["seen_up_to"] == message:
                    break
                await asyncio.sleep(0.1)
            assert (await visitor.get("/conversation")).json()["seen_up_to"] == message
        finally:
            await context.close()
    await owner.aclose()
