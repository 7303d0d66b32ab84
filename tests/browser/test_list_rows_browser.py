"""The ticket list as agents read it — who wrote, what they said last, unread, how long they
have waited — and bulk actions on the tickets ticked in it. Real Chromium, a real Tandem
process."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Browser, Route, expect

from tests.apiclient import AgentClient, invite_and_join, sign_up
from tests.browser.test_accessibility import audit
from tests.browser.test_inbox_browser import email_of, log_in

pytestmark = pytest.mark.browser

LONG_NAME = "Bartholomew Alexander Fitzgerald-Montgomery of Greater Manchester and Elsewhere"


async def ticket_from(owner: AgentClient, subject: str, name: str, text: str) -> dict:
    created = await owner.post(
        "/tickets",
        json={
            "subject": subject,
            "contact": {"email": f"{uuid.uuid4().hex[:8]}@customer.example", "name": name},
            "message": {"text": text},
        },
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


async def test_rows_show_who_wrote_what_unread_and_how_long_they_wait(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    long = await ticket_from(
        owner, "Parcel", LONG_NAME, "Where is my parcel?\n\nIt was due <b>Monday</b>."
    )
    carla = await ticket_from(owner, "Refund", "Carla", "I was charged twice. " * 20)

    # The list endpoint sends the rows whole: no per-row request is needed.
    rows = {t["id"]: t for t in (await owner.get("/tickets")).json()["items"]}
    assert rows[long["id"]]["contact_name"] == LONG_NAME
    assert rows[long["id"]]["preview"] == "Where is my parcel? It was due <b>Monday</b>."
    assert rows[long["id"]]["preview_from"] == "customer"
    assert len(rows[carla["id"]]["preview"]) <= 140

    context, page = await log_in(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
    )
    try:
        row = page.locator(f"#row-{long['id']}")
        name = row.locator(".row-contact")
        await expect(name).to_have_text(LONG_NAME)
        # Shown on one line, cut with an ellipsis.
        cut = await name.evaluate(
            "n => getComputedStyle(n).textOverflow === 'ellipsis' && n.scrollWidth > n.clientWidth"
        )
        assert cut
        # The preview is plain text on one line: markup shows as typed, never as HTML.
        preview = row.locator(".preview")
        await expect(preview).to_have_text("Where is my parcel? It was due <b>Monday</b>.")
        assert await preview.locator("b").count() == 0
        assert await preview.evaluate("n => n.getClientRects().length === 1")
        # Unread, in words for screen readers too.
        await expect(row.get_by_role("img", name="Unread")).to_be_visible()
        bold = "n => Number(getComputedStyle(n).fontWeight) >= 700"
        assert await name.evaluate(bold)
        # The wait ticks by itself.
        waited = row.locator(".waiting [data-since]")
        before = await waited.inner_text()
        await expect(waited).not_to_have_text(before)
        await expect(row.locator(".waiting")).to_contain_text("Waiting")
        assert await audit(page) == []

        # Opened, it is read; back in the list it stays read after a reload.
        await row.click()
        await expect(page.locator("#ticket-title")).to_contain_text("Parcel")
        await page.get_by_role("link", name="Inbox").click()
        await expect(row.get_by_role("img", name="Unread")).to_have_count(0)
        assert not await name.evaluate(bold)
        await page.reload()
        await expect(row.locator(".row-contact")).to_have_text(LONG_NAME)
        await expect(row.get_by_role("img", name="Unread")).to_have_count(0)
        await expect(
            page.locator(f"#row-{carla['id']}").get_by_role("img", name="Unread")
        ).to_be_visible()

        # Live: a reply becomes the preview and stops the wait; a renamed contact renames
        # their rows.
        replied = await owner.post(
            f"/tickets/{long['id']}/messages", json={"text": "It is on its way."}
        )
        assert replied.status_code == 201, replied.text
        await expect(preview).to_have_text("Reply: It is on its way.")
        await expect(row.locator(".waiting")).to_have_count(0)
        renamed = await owner.patch(f"/contacts/{long['contact_id']}", json={"name": "Bart"})
        assert renamed.status_code == 200, renamed.text
        await expect(name).to_have_text("Bart")
        await page.reload()
        await expect(name).to_have_text("Bart")
        await expect(preview).to_have_text("Reply: It is on its way.")
    finally:
        await context.close()
        await owner.aclose()


async def test_bulk_actions_report_what_changed_and_what_conflicted(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    sue = await invite_and_join(owner, tandem_url, "Sue Supervisor", role="supervisor")
    tickets = [
        await ticket_from(owner, f"Bulk {n}", f"Customer {n}", f"Message {n}") for n in range(3)
    ]
    ids = [t["id"] for t in tickets]
    context, page = await log_in(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
    )
    try:
        select_all = page.get_by_label(re.compile(r"^Select all \d+ shown$"))
        await select_all.click()
        await expect(page.locator("#bulk-count")).to_have_text("3 selected")
        await page.get_by_label(f"Select #{tickets[2]['number']} Bulk 2").click()
        await expect(page.locator("#bulk-count")).to_have_text("2 selected")
        assert await audit(page) == []

        await page.get_by_role("button", name="Assign to me").click()
        await expect(page.locator("#bulk-outcome")).to_have_text(
            re.compile(r"^2 tickets assigned to you\.")
        )
        for tid in ids[:2]:
            await expect(page.locator(f"#row-{tid}")).to_contain_text("Olivia Owner")
            body = (await owner.get(f"/tickets/{tid}")).json()["ticket"]
            assert body["assignee_id"] == owner.user_id
        assert (await owner.get(f"/tickets/{ids[2]}")).json()["ticket"]["assignee_id"] is None

        await select_all.click()
        await page.get_by_label("Tag to add").fill("VIP")
        await page.get_by_role("button", name="Add tag").click()
        await expect(page.locator("#bulk-outcome")).to_have_text(
            re.compile(r"^3 tickets tagged vip\.")
        )
        for tid in ids:
            assert "vip" in (await owner.get(f"/tickets/{tid}")).json()["ticket"]["tags"]

        # Resolve all three while Sue changes one of them: that one is reported, not
        # overwritten.
        contested = ids[1]

        async def sue_first(route: Route) -> None:
            if route.request.method == "PATCH":
                seen = (await sue.get(f"/tickets/{contested}")).json()["ticket"]
                changed = await sue.patch(
                    f"/tickets/{contested}", json={"version": seen["version"], "priority": "urgent"}
                )
                assert changed.status_code == 200, changed.text
            await route.continue_()

        await page.route(f"**/api/v1/tickets/{contested}", sue_first)
        await select_all.click()
        async with page.expect_response(
            lambda r: r.request.method == "PATCH" and contested in r.url
        ) as answer:
            await page.get_by_role("button", name="Resolve").click()
        assert (await answer.value).status == 409
        await page.unroute(f"**/api/v1/tickets/{contested}", sue_first)
        outcome = page.locator("#bulk-outcome")
        await expect(outcome).to_contain_text("2 tickets resolved.")
        number = next(t["number"] for t in tickets if t["id"] == contested)
        await expect(outcome).to_contain_text(
            f"1 changed by someone else meanwhile and were left as they are: #{number}."
        )
        states = {tid: (await owner.get(f"/tickets/{tid}")).json()["ticket"] for tid in ids}
        assert states[contested]["status"] == "open"
        assert states[contested]["priority"] == "urgent"
        assert [states[t]["status"] for t in ids if t != contested] == ["resolved", "resolved"]
        # The conflicted one stays ticked, to look at and try again.
        await expect(page.locator("#bulk-count")).to_have_text("1 selected")
        await expect(page.get_by_label(f"Select #{number} Bulk 1")).to_be_checked()
    finally:
        await context.close()
        await owner.aclose()
        await sue.aclose()
