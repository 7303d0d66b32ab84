"""In the agent app: a customer's message brings suggested answers into the composer of its
ticket, live, and Alt+1 puts the first into the reply."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.apiclient import sign_up
from tests.browser.test_channels_browser import log_in, workspace_id
from tests.jobs.helpers import eventually
from tests.servers import tandem_worker

pytestmark = pytest.mark.browser

SITE = "https://shop.example"


async def test_a_customer_message_brings_suggestions_into_the_composer(
    browser: Browser,
    tandem_url: str,
    mongodb_url: str,
    redis_url: str,
    db_name: str,
    tmp_path: Path,
) -> None:
    owner = await sign_up(tandem_url)
    ws = await workspace_id(owner)
    assert (await owner.patch("/workspace", json={"allowed_origins": [SITE]})).status_code == 200
    article = {
        "title": "Damaged deliveries",
        "body": "## What to do\n\nSend us a photo of the broken item and we ship a new one.",
        "status": "published",
    }
    with tandem_worker(
        mongodb_url=mongodb_url, redis_url=redis_url, db_name=db_name,
        log_path=tmp_path / "worker.log",
    ):  # fmt: skip
        assert (await owner.post("/kb/articles", json=article)).status_code == 201

        async def embedded() -> bool:
            found = (await owner.get("/kb/answers", params={"q": "broken parcel"})).json()
            return bool(found["items"])

        await eventually(embedded, 30)
        async with httpx.AsyncClient(
            base_url=tandem_url + "/api/v1/widget", headers={"Origin": SITE}, timeout=10
        ) as visitor:
            session = (await visitor.post("/session", json={"workspace": ws})).json()
            visitor.headers["Authorization"] = "Bearer " + session["visitor_token"]
            first = await visitor.post(
                "/messages", json={"client_id": uuid.uuid4().hex, "text": "Hello?"}
            )
            ticket_id = first.json()["conversation_id"]
            context, page = await log_in(browser, tandem_url, owner)
            try:
                await page.locator(f"#row-{ticket_id}").click()
                await expect(page.locator(".msg-in")).to_contain_text("Hello?")
                await visitor.post(
                    "/messages",
                    json={"client_id": uuid.uuid4().hex, "text": "my cup arrived smashed"},
                )
                suggestions = page.locator("#composer-suggestions")
                await expect(suggestions).to_be_visible(timeout=15_000)
                await expect(suggestions).to_contain_text("Damaged deliveries")
                reply = page.get_by_label("Reply to the customer")
                await reply.click()
                await page.keyboard.press("Alt+1")
                value = await reply.input_value()
                assert value.startswith("Send us a photo of the broken item")
                assert value.rstrip().endswith("/damaged-deliveries")
            finally:
                await context.close()
    await owner.aclose()
