"""The AI helpers in the agent app, in real Chromium against a real Tandem process and a local
stand-in for the model provider: a reply drafted into the composer as the model writes it,
with the articles it was based on; a summary of the thread above it; Stop ending a slow
answer (and the model's request with it); a refusal said in plain words; and translations of
a customer's message and of the agent's reply."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.ai.fake_openai import FakeOpenAI, Reply, fake_openai
from tests.apiclient import AgentClient, sign_up
from tests.browser.test_channels_browser import log_in
from tests.jobs.helpers import eventually
from tests.servers import tandem_worker

pytestmark = pytest.mark.browser

QUESTION = "Hi, my parcel for order ZX-991 never arrived. Where is it? — Quentin"
ARTICLE = {
    "title": "Lost parcels",
    "body": "## Claims\n\nA parcel marked delivered that never came: we open a claim with the "
    "courier and ship a replacement within 5 days.",
    "status": "published",
}
DRAFT = ["Sorry about your parcel, Quentin. ", "We have opened a claim ", "with the courier."]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai() as running:
        yield running


async def configure_ai(owner: AgentClient, fake: FakeOpenAI) -> None:
    settings = {"base_url": fake.url, "api_key": "sk-test", "model": "test-model"}
    changed = await owner.patch("/ai/settings", json=settings)
    assert changed.status_code == 200, changed.text
    assert changed.json()["api_key_set"] is True


async def ticket_with_question(owner: AgentClient, text: str = QUESTION) -> str:
    made = await owner.post(
        "/tickets",
        json={
            "subject": "Where is my order?",
            "contact": {"email": "quentin@customer.example", "name": "Quentin"},
            "message": {"text": text, "direction": "in"},
        },
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def open_ticket(page: Page, ticket_id: str, text: str) -> None:
    await page.locator(f"#row-{ticket_id}").click()
    await expect(page.locator(".msg-in")).to_contain_text(text)


async def test_an_agent_drafts_summarizes_and_stops_with_ai(
    browser: Browser,
    tandem_url: str,
    fake: FakeOpenAI,
    mongodb_url: str,
    redis_url: str,
    db_name: str,
    tmp_path: Path,
) -> None:
    owner = await sign_up(tandem_url)
    with tandem_worker(
        mongodb_url=mongodb_url, redis_url=redis_url, db_name=db_name,
        log_path=tmp_path / "worker.log",
    ):  # fmt: skip
        assert (await owner.post("/kb/articles", json=ARTICLE)).status_code == 201

        async def embedded() -> bool:
            found = (await owner.get("/kb/answers", params={"q": "parcel never arrived"})).json()
            return [i["title"] for i in found["items"]][:1] == ["Lost parcels"]

        await eventually(embedded, 60)
    ticket_id = await ticket_with_question(owner)
    context, page = await log_in(browser, tandem_url, owner)
    try:
        # Without a model key there is nothing to click.
        await open_ticket(page, ticket_id, "never arrived")
        await expect(page.get_by_label("Reply to the customer")).to_be_visible()
        await expect(page.get_by_role("button", name="Draft with AI")).to_have_count(0)
        await expect(page.get_by_role("button", name="Summarize")).to_have_count(0)

        await configure_ai(owner, fake)
        await page.reload()
        await open_ticket(page, ticket_id, "never arrived")
        reply = page.get_by_label("Reply to the customer")
        status = page.locator("#composer-ai-status")

        # A draft streams into the empty reply, then says what it was based on.
        fake.script.append(Reply(pieces=DRAFT, delay=0.15))
        await page.get_by_role("button", name="Draft with AI").click()
        await expect(reply).to_have_value(re.compile(r"^Sorry about your parcel, Quentin\."))
        await expect(reply).to_have_value("".join(DRAFT))
        await expect(status).to_have_text("Draft ready: read it through before sending.")
        sources = page.locator("#composer-ai-sources")
        await expect(sources).to_have_text("Based on: Lost parcels")
        link = sources.get_by_role("link", name="Lost parcels")
        await expect(link).to_have_attribute("href", re.compile(r"/help/.+/lost-parcels$"))
        await expect(page.get_by_role("button", name="Stop")).to_have_count(0)
        asked = fake.requests[-1]
        assert asked["model"] == "test-model"
        assert asked["stream"] is True
        assert any("ZX-991" in m["content"] for m in asked["messages"])

        # A summary streams into its box above the thread; closing hides it.
        fake.script.append(Reply(pieces=["Quentin's parcel ", "(order ZX-991) never came."]))
        await page.get_by_role("button", name="Summarize").click()
        summary = page.locator("#ai-summary")
        await expect(summary).to_be_visible()
        await expect(page.locator("#ai-summary-text")).to_have_text(
            "Quentin's parcel (order ZX-991) never came."
        )
        await page.locator("#ai-summary-toggle").click()
        await expect(page.locator("#ai-summary-text")).to_be_hidden()
        await page.locator("#ai-summary-toggle").click()
        await expect(page.locator("#ai-summary-text")).to_be_visible()
        await page.get_by_role("button", name="Close the summary").click()
        await expect(summary).to_be_hidden()

        # A slow draft is appended below the agent's own text, and Stop ends it: the model's
        # request is closed, and what was written so far stays.
        await reply.fill("Hello Quentin,")
        fake.client_gone.clear()
        slow = [f"word{n} " for n in range(40)]
        fake.script.append(Reply(pieces=slow, delay=0.25))
        await page.get_by_role("button", name="Draft with AI").click()
        await expect(status).to_have_text("Drafting…")
        await expect(reply).to_have_value(re.compile(r"^Hello Quentin,\n\nword0 word1 "))
        await page.get_by_role("button", name="Stop").click()
        await expect(status).to_have_text("Stopped; the draft so far is kept.")
        assert await asyncio.to_thread(fake.client_gone.wait, 10)
        kept = await reply.input_value()
        assert kept.startswith("Hello Quentin,\n\nword0 ")
        assert not kept.endswith("word39 ")
        await page.wait_for_timeout(600)
        assert await reply.input_value() == kept
        await expect(page.get_by_role("button", name="Draft with AI")).to_be_enabled()

        # A slow summary stops too.
        fake.client_gone.clear()
        fake.script.append(Reply(pieces=slow, delay=0.25))
        await page.get_by_role("button", name="Summarize").click()
        await expect(page.locator("#ai-summary-text")).to_contain_text("word1")
        await page.locator("#ai-summary-stop").click()
        await expect(page.locator("#ai-summary-status")).to_have_text("Stopped.")
        assert await asyncio.to_thread(fake.client_gone.wait, 10)

        # Over this month's budget: the refusal in plain words, and nothing sent to the model.
        changed = await owner.patch("/ai/settings", json={"monthly_credit_cap": 0})
        assert changed.status_code == 200, changed.text
        sent = len(fake.requests)
        await page.get_by_role("button", name="Draft with AI").click()
        await expect(status).to_have_text(
            re.compile(r"^This month's AI credits are used up \(\d+\.\d\d of 0\.00\)\.$")
        )
        assert len(fake.requests) == sent
        assert await reply.input_value() == kept
    finally:
        await context.close()
        await owner.aclose()


def answer(**fields: str) -> Reply:
    return Reply(pieces=[json.dumps(fields)])


async def test_an_agent_translates_a_message_and_a_reply(
    browser: Browser, tandem_url: str, fake: FakeOpenAI
) -> None:
    owner = await sign_up(tandem_url)
    await configure_ai(owner, fake)
    ticket_id = await ticket_with_question(owner, "Hola, mi paquete nunca llegó.")
    context, page = await log_in(browser, tandem_url, owner)
    try:
        await open_ticket(page, ticket_id, "nunca llegó")
        customer = page.locator(".msg-in")

        # The customer's message, in the agent's language, under the original.
        fake.script.append(answer(text="Hello, my parcel never arrived.", source_language="es"))
        await customer.get_by_role("button", name="Translate").click()
        translated = customer.locator(".msg-translated")
        await expect(translated).to_contain_text("Translated from es:")
        await expect(translated).to_contain_text("Hello, my parcel never arrived.")
        await customer.get_by_role("button", name="Show original").click()
        await expect(translated).to_have_count(0)
        await expect(customer.locator(".msg-text")).to_have_text("Hola, mi paquete nunca llegó.")
        # Shown again from memory, without asking the model again.
        sent = len(fake.requests)
        await customer.get_by_role("button", name="Show translation").click()
        await expect(translated).to_contain_text("Hello, my parcel never arrived.")
        assert len(fake.requests) == sent

        # The agent's reply, into the customer's language, and back with one click.
        reply = page.get_by_label("Reply to the customer")
        await reply.fill("We are sorry; a new parcel ships today.")
        fake.script.append(answer(text="Lo sentimos; hoy sale un paquete nuevo.", language="es"))
        await page.get_by_role("button", name="Translate to customer's language").click()
        await expect(reply).to_have_value("Lo sentimos; hoy sale un paquete nuevo.")
        await expect(page.locator("#composer-ai-status")).to_have_text("Translated to es.")
        await page.get_by_role("button", name="Undo translation").click()
        await expect(reply).to_have_value("We are sorry; a new parcel ships today.")
        await expect(page.get_by_role("button", name="Undo translation")).to_be_hidden()
    finally:
        await context.close()
        await owner.aclose()
