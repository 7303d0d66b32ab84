"""Connecting channels and answering on WhatsApp in real Chromium, against a real Tandem
process: the owner connects email (Postmark) and WhatsApp from the Channels page, and an agent
answers a WhatsApp customer with an approved template once the 24-hour window has closed."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from beanie import PydanticObjectId
from playwright.async_api import Browser, BrowserContext, Page, expect
from pymongo import AsyncMongoClient

from app.documents.common import utcnow
from tests.apiclient import PASSWORD, AgentClient, sign_up
from tests.browser.test_accessibility import audit
from tests.channels import whatsapp_payloads as wa
from tests.channels.postmark_payloads import inbound_email

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 800}
TEMPLATE = {
    "name": "order_update",
    "language": "en_US",
    "category": "UTILITY",
    "body_text": "Hello {{1}}, your order {{2}} has shipped.",
    "param_count": 2,
}


async def log_in(browser: Browser, url: str, owner: AgentClient) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    await page.goto(url + "/")
    await page.get_by_label("Workspace").fill(owner.workspace_slug)
    await page.get_by_label("Email").fill(f"owner@{owner.workspace_slug}.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("link", name="Inbox")).to_be_visible()
    await expect(page.locator("#connection-banner")).to_have_text("")
    return context, page


async def postmark_posts(tandem_url: str, webhook_url: str) -> int:
    """Postmark posting an empty payload to `webhook_url` (with its credentials) at this
    server: the status it is answered."""
    parts = urlsplit(webhook_url)
    auth = (parts.username or "", parts.password or "")
    async with httpx.AsyncClient(timeout=10) as postmark:
        answer = await postmark.post(tandem_url + parts.path, content=b"{}", auth=auth)
    return answer.status_code


async def workspace_id(owner: AgentClient) -> str:
    ws: str = (await owner.get("/me")).json()["workspace"]["id"]
    return ws


async def test_the_owner_connects_email_and_whatsapp(
    browser: Browser, tandem_url: str, artifacts_dir: Path
) -> None:
    owner = await sign_up(tandem_url)
    ws = await workspace_id(owner)
    context, page = await log_in(browser, tandem_url, owner)
    try:
        await page.get_by_role("link", name="Channels").click()
        await expect(page.get_by_role("heading", name="Email (Postmark)")).to_be_visible()
        await expect(page.locator("#email-state")).to_contain_text("Not connected")

        # Connecting shows the webhook URLs with their password, this once.
        await page.get_by_role("button", name="Connect email").click()
        inbound = page.get_by_label("Inbound webhook URL", exact=True)
        with_password = re.compile(
            rf"^http://postmark:[\w-]+@[^/]+/api/v1/webhooks/postmark/{ws}/inbound$"
        )
        await expect(inbound).to_have_value(with_password)
        await expect(page.get_by_label("Events webhook URL", exact=True)).to_have_value(
            re.compile(rf"^http://postmark:[\w-]+@[^/]+/api/v1/webhooks/postmark/{ws}/events$")
        )
        await expect(page.locator("#email-secret-notice")).to_contain_text(
            "will not be shown again"
        )
        await expect(page.locator("#email-state")).to_contain_text("Connected since")
        first_url = await inbound.input_value()
        # The password works: Postmark's posts with it are let in (an empty one is refused
        # as unprocessable, not as unauthenticated).
        assert await postmark_posts(tandem_url, first_url) == 403

        # Sending: the token is taken but never shown back.
        await page.get_by_role("button", name="Save sending").click()
        token = page.get_by_label("Postmark server API token")
        await expect(token).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#email-server_token-error")).to_contain_text("API token")
        await token.fill("pm-server-token-1234")
        await page.get_by_label("From address").fill("help@shop.example")
        await page.get_by_role("button", name="Save sending").click()
        await expect(page.locator("#email-sending-from")).to_have_text(
            "Sending from help@shop.example."
        )
        await expect(token).to_have_value("")

        # After a reload the URL no longer carries the password.
        await page.reload()
        await expect(page.locator("#email-state")).to_contain_text("Connected since")
        await expect(inbound).to_have_value(
            re.compile(rf"^http://postmark@[^/]+/api/v1/webhooks/postmark/{ws}/inbound$")
        )
        await expect(page.locator("#email-secret-notice")).to_have_count(0)
        await expect(page.locator("#email-sending-from")).to_have_text(
            "Sending from help@shop.example."
        )

        # Regenerating asks first, then shows new credentials; the old URL stops working.
        await page.get_by_role("button", name="Regenerate webhook credentials").click()
        await expect(page.locator("#email-regenerate-question")).to_contain_text("stop working")
        await page.get_by_role("button", name="Yes, regenerate").click()
        await expect(inbound).to_have_value(with_password)
        assert await inbound.input_value() != first_url
        assert await postmark_posts(tandem_url, first_url) == 401

        # WhatsApp: a wrong id is named next to its field, then the number connects.
        await page.get_by_label("Phone number ID").fill("10654-abc")
        await page.get_by_label("WhatsApp Business Account ID").fill(wa.WABA_ID)
        await page.get_by_label("Access token").fill("EAAG-access-token-for-tests")
        await page.get_by_label("App secret").fill(wa.APP_SECRET)
        await page.get_by_role("button", name="Connect WhatsApp").click()
        phone = page.get_by_label("Phone number ID")
        await expect(page.locator("#whatsapp-phone_number_id-error")).to_contain_text("digits only")
        await expect(phone).to_have_attribute("aria-invalid", "true")
        await expect(phone).to_be_focused()
        await phone.fill(wa.PHONE_NUMBER_ID)
        await page.get_by_role("button", name="Connect WhatsApp").click()
        await expect(page.locator("#whatsapp-state")).to_contain_text(
            f"number ID {wa.PHONE_NUMBER_ID}"
        )
        await expect(page.locator("#whatsapp-phone_number_id-error")).to_have_text("")
        await expect(page.get_by_label("Callback URL", exact=True)).to_have_value(
            re.compile(rf"/api/v1/webhooks/whatsapp/{ws}$")
        )
        channel = (await owner.get("/channels/whatsapp")).json()
        assert channel["verify_token"]
        await expect(page.get_by_label("Verify token", exact=True)).to_have_value(
            channel["verify_token"]
        )
        await expect(page.get_by_label("Access token")).to_have_value("")
        await expect(page.locator("#whatsapp-webhook")).to_contain_text("messages field")
        await expect(page.locator("#whatsapp-synced")).to_contain_text("Not synced yet")
        assert await audit(page) == [], "channels"
        await page.set_viewport_size({"width": 1280, "height": 2200})  # the whole page
        await page.screenshot(path=str(artifacts_dir / "channels.png"))

        # Disconnecting asks first, then the number is gone.
        await page.get_by_role("button", name="Disconnect WhatsApp").click()
        await page.get_by_role("button", name="Yes, disconnect").click()
        await expect(page.get_by_role("button", name="Connect WhatsApp")).to_be_visible()
        assert (await owner.get("/channels/whatsapp")).json() == {"connected": False}
    finally:
        await context.close()
        await owner.aclose()


async def whatsapp_ticket(tandem_url: str, owner: AgentClient, text: str) -> dict[str, Any]:
    """A customer's WhatsApp message, as Meta posts it, and the ticket it opened."""
    ws = await workspace_id(owner)
    connect = {
        "phone_number_id": wa.PHONE_NUMBER_ID,
        "waba_id": wa.WABA_ID,
        "access_token": "EAAG-access-token-for-tests",
        "app_secret": wa.APP_SECRET,
    }
    connected = await owner.put("/channels/whatsapp", json=connect)
    assert connected.status_code == 200, connected.text
    body = wa.encode(wa.webhook(messages=[wa.text(text)]))
    async with httpx.AsyncClient(timeout=10) as meta:
        taken = await meta.post(
            f"{tandem_url}/api/v1/webhooks/whatsapp/{ws}",
            content=body,
            headers={"x-hub-signature-256": wa.sign(body), "content-type": "application/json"},
        )
    assert taken.status_code == 200, taken.text
    listed = (await owner.get("/tickets", params={"channel": "whatsapp"})).json()["items"]
    assert len(listed) == 1
    ticket: dict[str, Any] = listed[0]
    return ticket


async def test_an_agent_answers_with_a_template_after_24_hours(
    browser: Browser, tandem_url: str, mongodb_url: str, db_name: str, artifacts_dir: Path
) -> None:
    owner = await sign_up(tandem_url)
    ws = await workspace_id(owner)
    ticket = await whatsapp_ticket(tandem_url, owner, "Where is my order?")
    store: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    db = store[db_name]
    # The templates Meta approved (a worker would fetch them; none runs here).
    await db["workspaces"].update_one(
        {"_id": PydanticObjectId(ws)}, {"$set": {"whatsapp.templates": [TEMPLATE]}}
    )
    context, page = await log_in(browser, tandem_url, owner)
    try:
        # Within the window: free text, and until when.
        await page.locator(f"#row-{ticket['id']}").click()
        await expect(page.locator(".msg-in")).to_contain_text("Where is my order?")
        await expect(page.locator("#composer-window")).to_contain_text(
            "WhatsApp: free replies until"
        )
        await expect(page.get_by_label("Reply to the customer")).to_be_visible()
        await expect(page.locator("#composer-why")).to_have_text("")

        # A day passes without a word from the customer.
        await db["tickets"].update_one(
            {"_id": PydanticObjectId(ticket["id"])},
            {"$set": {"last_customer_message_at": utcnow() - timedelta(hours=25)}},
        )
        await page.reload()
        why = page.locator("#composer-why")
        await expect(why).to_contain_text("More than 24 hours since the customer's last message")
        await expect(why).to_have_attribute("role", "status")
        await expect(page.get_by_label("Reply to the customer")).to_be_hidden()
        await expect(page.locator("#composer-window")).to_be_hidden()

        # Notes are still free text.
        await page.get_by_label("Private note", exact=True).check()
        await expect(page.get_by_label("Private note (only your team sees it)")).to_be_visible()
        await expect(why).to_have_text("")
        await page.get_by_label("Reply", exact=True).check()

        # The template, its parameters and a live preview; then it goes out.
        await page.get_by_label("WhatsApp template").select_option(label="order_update (en_US)")
        preview = page.locator("#composer-preview")
        await expect(preview).to_have_text("Hello {{1}}, your order {{2}} has shipped.")
        await expect(page.get_by_label("Parameter {{1}}")).to_be_focused()
        await page.get_by_label("Parameter {{1}}").fill("Ana")
        await expect(preview).to_have_text("Hello Ana, your order {{2}} has shipped.")
        await page.get_by_label("Parameter {{2}}").fill("#12")
        await expect(preview).to_have_text("Hello Ana, your order #12 has shipped.")
        assert await audit(page) == [], "template composer"
        await page.screenshot(path=str(artifacts_dir / "whatsapp-template.png"))
        await page.get_by_role("button", name="Send template").click()
        sent = page.locator(".msg-out", has_text="Hello Ana, your order #12 has shipped.")
        await expect(sent).to_be_visible()
        await expect(page.get_by_label("Parameter {{1}}")).to_have_count(0)
        thread = (await owner.get(f"/tickets/{ticket['id']}")).json()["messages"]
        assert thread[-1]["text"] == "Hello Ana, your order #12 has shipped."
    finally:
        await store.close()
        await context.close()
        await owner.aclose()


async def test_an_email_shows_its_reply_and_opens_whole_without_running_anything(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    made = (await owner.put("/channels/email")).json()
    parts = urlsplit(made["inbound_webhook_url"])
    payload = inbound_email(text="It is still broken.")
    payload["HtmlBody"] = (
        "<p>It is <b>still</b> broken.</p><script>document.title='owned'</script>"
        "<blockquote>On Monday, Support wrote: we shipped a new one</blockquote>"
    )
    async with httpx.AsyncClient(timeout=10) as postmark:
        answer = await postmark.post(
            tandem_url + parts.path,
            json=payload,
            auth=(parts.username or "", parts.password or ""),
        )
    ticket_id = answer.json()["ticket_id"]
    context, page = await log_in(browser, tandem_url, owner)
    try:
        await page.locator(f"#row-{ticket_id}").click()
        incoming = page.locator(".msg-in")
        await expect(incoming.locator(".msg-text")).to_have_text("It is still broken.")
        await expect(incoming).not_to_contain_text("we shipped a new one")  # folded
        await incoming.get_by_role("button", name="Show the whole email").click()
        frame = page.frame_locator(".whole-email-frame")
        await expect(frame.locator("blockquote")).to_have_text(
            "On Monday, Support wrote: we shipped a new one"
        )
        await expect(frame.locator("b")).to_have_text("still")
        assert await frame.locator("script").count() == 0
        assert await page.title() != "owned"
        await incoming.get_by_role("button", name="Hide the whole email").click()
        await expect(page.locator(".whole-email-frame")).to_have_count(0)
    finally:
        await context.close()
        await owner.aclose()
