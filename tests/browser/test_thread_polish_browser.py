"""The ticket view at its edges: a very long message, very long names, a keyboard user
skipping the list, snoozing on a Sunday, a lost race to take a ticket, and where errors show."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Locator, Page, Route, expect

from tests.apiclient import AgentClient, invite_and_join, sign_up
from tests.browser.test_accessibility import audit
from tests.browser.test_inbox_browser import VIEWPORT, email_of, new_ticket
from tests.browser.test_responsive_browser import PHONE, log_in_at

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)  # two shared cores: a busy machine is slow, not broken

BERLIN = "Europe/Berlin"


async def overflowing(page: Page, selector: str) -> list[str]:
    """Elements matching `selector` whose content is wider than they are."""
    found: list[str] = await page.eval_on_selector_all(
        selector,
        """els => els.filter(e => e.getClientRects().length && e.scrollWidth > e.clientWidth + 1)
                     .map(e => e.className + ': ' + e.scrollWidth + ' > ' + e.clientWidth)""",
    )
    return found


async def right_edge(locator: Locator) -> float:
    box = await locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"]


async def page_width(page: Page) -> int:
    width: int = await page.evaluate("document.documentElement.scrollWidth")
    return width


async def test_a_long_message_folds_behind_show_more(browser: Browser, tandem_url: str) -> None:
    owner = await sign_up(tandem_url)
    words = " ".join(f"word{i}" for i in range(2000))
    long_text = ("The whole story: " + words)[:9_999] + "."
    ticket = await new_ticket(owner, "A very long complaint", long_text)
    await owner.post(f"/tickets/{ticket['id']}/messages", json={"text": "Reading it now."})
    context, page = await log_in_at(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner"), VIEWPORT
    )
    try:
        await page.locator(f"#row-{ticket['id']}").click()
        body = page.locator(".msg-in .msg-text")
        await expect(body).to_contain_text("The whole story: word0 word1")
        more = page.locator(".msg-in").get_by_role("button", name=re.compile("^Show more"))
        await expect(more).to_have_attribute("aria-expanded", "false")
        # Folded, it leaves room for the rest of the thread: the reply after it is in sight.
        folded = None
        for _ in range(50):  # the thread may be redrawn as the ticket's events come in
            folded = await body.bounding_box()
            if folded is not None:
                break
            await page.wait_for_timeout(100)
        assert folded is not None
        assert folded["height"] < 300
        assert len(await body.inner_text()) < 1_000
        await expect(page.locator(".msg-out", has_text="Reading it now.")).to_be_in_viewport()
        # The short reply has no toggle.
        await expect(page.locator(".msg-out .msg-more")).to_have_count(0)
        assert await audit(page) == []

        await more.click()
        less = page.locator(".msg-in").get_by_role("button", name="Show less")
        await expect(less).to_have_attribute("aria-expanded", "true")
        await expect(less).to_be_focused()
        assert await body.inner_text() == long_text
        await expect(body).to_have_attribute(
            "id", (await less.get_attribute("aria-controls")) or ""
        )
        # Still open after the thread redraws (a new message arrives).
        await owner.post(f"/tickets/{ticket['id']}/messages", json={"text": "Still here."})
        await expect(page.locator(".msg-out", has_text="Still here.")).to_have_count(1)
        assert await body.inner_text() == long_text

        await less.click()
        await expect(more).to_have_attribute("aria-expanded", "false")
        await expect(more).to_be_in_viewport()
        assert len(await body.inner_text()) < 1_000
    finally:
        await context.close()
        await owner.aclose()


async def test_a_message_of_many_short_lines_folds_too(browser: Browser, tandem_url: str) -> None:
    owner = await sign_up(tandem_url)
    lines = "\n".join(f"Line {i}" for i in range(1, 41))  # 40 lines, about 300 characters
    ticket = await new_ticket(owner, "A log pasted in", lines)
    context, page = await log_in_at(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner"), PHONE
    )
    try:
        await page.locator(f"#row-{ticket['id']}").click()
        body = page.locator(".msg-in .msg-text")
        await expect(body).to_contain_text("Line 1\nLine 2")
        await expect(body).not_to_contain_text("Line 40")
        await page.get_by_role("button", name=re.compile("^Show more")).click()
        await expect(body).to_contain_text("Line 39\nLine 40")
    finally:
        await context.close()
        await owner.aclose()


async def test_long_names_and_subjects_never_widen_the_page(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    long_word = "Wolfeschlegelsteinhausenbergerdorff" * 6
    agent_name = ("Bo " + long_word)[:200]
    contact_name = ("Carla " + long_word)[:200]
    subject = "Refund " + "R" * 250 + " please"
    bo = await invite_and_join(owner, tandem_url, agent_name)
    created = await owner.post(
        "/tickets",
        json={
            "subject": subject,
            "contact": {"email": f"{uuid.uuid4().hex[:8]}@customer.example", "name": contact_name},
            "message": {"text": "Hello"},
        },
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    taken = await bo.patch(
        f"/tickets/{ticket['id']}", json={"assignee_id": bo.user_id, "version": ticket["version"]}
    )
    assert taken.status_code == 200, taken.text
    await bo.post(f"/tickets/{ticket['id']}/messages", json={"text": "On it."})
    panes = ".topbar, .left, .list-pane, .ticket-pane, .thread, .controls, .contact-pane"
    try:
        for viewport in (VIEWPORT, PHONE):
            for who, handle in ((owner, "owner"), (bo, "bo")):
                context, page = await log_in_at(
                    browser, tandem_url, who.workspace_slug, email_of(owner, handle), viewport
                )
                width = viewport["width"]
                try:
                    row = page.locator(f"#row-{ticket['id']}")
                    await expect(row).to_be_visible()
                    assert await page_width(page) <= width
                    assert await right_edge(row) <= width
                    assert await overflowing(page, panes) == []
                    if who is bo:  # the bar cuts the long name short, and says it whole
                        me = page.locator(".me")
                        await expect(me).to_have_attribute("title", f"{agent_name} · agent")
                        if viewport is VIEWPORT:
                            await expect(page.get_by_role("button", name="Log out")).to_be_visible()
                            assert await right_edge(page.locator("#logout")) <= width

                    await row.click()
                    await expect(page.locator(".msg-out", has_text="On it.")).to_be_visible()
                    assert await page_width(page) <= width
                    assert await overflowing(page, panes) == []
                    title = page.locator("#ticket-title")
                    await expect(title).to_have_attribute("title", f"#{ticket['number']} {subject}")
                    assert await right_edge(title) <= width
                    author = page.locator(".msg-out .msg-author")
                    await expect(author).to_have_attribute("title", agent_name)
                    assert await right_edge(author) <= width
                    customer = page.locator(".msg-in .msg-author")
                    await expect(customer).to_have_attribute("title", contact_name)
                    assert await right_edge(customer) <= width
                    assignee = page.locator("#ticket-assignee")
                    assert await right_edge(assignee) <= width
                    if viewport is VIEWPORT:  # the contact's name wraps in its column
                        name = page.locator(".contact-pane .contact-name")
                        await expect(name).to_contain_text(contact_name)
                        assert await right_edge(name) <= width
                        box = await name.bounding_box()
                        assert box is not None
                        assert box["height"] > 40
                    assert await audit(page) == []
                finally:
                    await context.close()
    finally:
        await owner.aclose()
        await bo.aclose()


async def test_a_skip_link_jumps_past_the_list_to_the_conversation(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    ticket = await new_ticket(owner, "Where is my order?", "Ordered last week.")
    context, page = await log_in_at(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner"), VIEWPORT
    )
    try:
        # No ticket open: the only skip link is the one to the list.
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="Skip to conversations")).to_be_focused()
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="Skip to the conversation")).to_have_count(0)

        await page.locator(f"#row-{ticket['id']}").click()
        await expect(page.locator(".msg-in")).to_contain_text("Ordered last week.")
        await page.get_by_role("link", name="Skip to conversations").focus()
        await page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to the conversation")
        await expect(skip).to_be_focused()
        await expect(skip).to_be_in_viewport()  # shown while focused
        await page.keyboard.press("Enter")
        await expect(page.locator("#thread")).to_be_focused()
        # The next stop is the composer, not the list.
        await page.keyboard.press("Tab")
        assert await page.evaluate("!!document.activeElement.closest('.composer')")
    finally:
        await context.close()
        await owner.aclose()


async def test_on_a_sunday_next_week_is_not_tomorrow(browser: Browser, tandem_url: str) -> None:
    owner = await sign_up(tandem_url)
    ticket = await new_ticket(owner, "Call me next week", "Any day after this one.")
    # Sunday 29 November 2026, 15:00 in Berlin.
    context, page = await log_in_at(
        browser,
        tandem_url,
        owner.workspace_slug,
        email_of(owner, "owner"),
        VIEWPORT,
        fixed_time=datetime(2026, 11, 29, 15, 0, tzinfo=ZoneInfo(BERLIN)),
        timezone_id=BERLIN,
        locale="en-US",
    )
    try:
        await page.locator(f"#row-{ticket['id']}").click()
        await expect(page.locator("#ticket-status-badge")).to_have_text("open")
        await page.locator("#ticket-status").select_option("snoozed")
        picker = page.get_by_role("group", name="Snooze until…")
        tomorrow = picker.get_by_role("button", name=re.compile("^Tomorrow"))
        next_week = picker.get_by_role("button", name=re.compile("^Next week"))
        await expect(tomorrow).to_contain_text(re.compile(r"Mon, Nov 30, 09:00\sAM"))
        await expect(next_week).to_contain_text(re.compile(r"Mon, Dec 7, 09:00\sAM"))

        # Every day of the week: "Next week" is a Monday at 9:00, within eight days, and never
        # the same moment as "Tomorrow".
        days = await page.evaluate(
            """async () => {
                const { snoozePresets } = await import("/app/views/ticket.js");
                const out = [];
                for (let day = 23; day <= 29; day++) {  // Monday 23 to Sunday 29 November
                    const now = new Date(2026, 10, day, 15, 0);
                    const [, tomorrow, nextWeek] = snoozePresets(now);
                    out.push({
                        weekday: nextWeek.until.getDay(),
                        hour: nextWeek.until.getHours(),
                        days: Math.round((nextWeek.until - now) / 86400000 + 15 / 24),
                        same: tomorrow.until.getTime() === nextWeek.until.getTime(),
                    });
                }
                return out;
            }"""
        )
        assert [d["weekday"] for d in days] == [1] * 7
        assert [d["hour"] for d in days] == [9] * 7
        assert [d["days"] for d in days] == [7, 6, 5, 4, 3, 2, 8]
        assert not any(d["same"] for d in days)
    finally:
        await context.close()
        await owner.aclose()


async def take_race(page: Page, tid: str, winner: AgentClient, version: int, loser_id: str) -> None:
    """The page asks to take ticket `tid`; `winner` takes it first, while that request is on
    its way. The page's request then meets a version conflict."""
    held: asyncio.Future[Route] = asyncio.get_running_loop().create_future()

    async def hold(route: Route) -> None:
        if route.request.method == "PATCH":
            held.set_result(route)
        else:
            await route.continue_()

    await page.route(f"**/api/v1/tickets/{tid}", hold)
    await page.locator("#ticket-assignee").select_option(loser_id)
    route = await held
    won = await winner.patch(
        f"/tickets/{tid}", json={"assignee_id": winner.user_id, "version": version}
    )
    assert won.status_code == 200, won.text
    async with page.expect_response(lambda r: r.request.method == "PATCH") as answer:
        await route.continue_()
    assert (await answer.value).status == 409
    await page.unroute(f"**/api/v1/tickets/{tid}", hold)


async def test_an_agent_who_loses_the_race_to_take_a_ticket_is_not_offered_to_override(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    ana = await invite_and_join(owner, tandem_url, "Ana Agent")
    bo = await invite_and_join(owner, tandem_url, "Bo Agent")
    sue = await invite_and_join(owner, tandem_url, "Sue Supervisor", role="supervisor")
    ticket = await new_ticket(owner, "Two agents, one ticket", "Whoever is free.")
    tid = ticket["id"]
    context, page = await log_in_at(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "ana"), VIEWPORT
    )
    try:
        await page.locator(f"#row-{tid}").click()
        await expect(page.locator("#ticket-assignee")).to_have_value("")
        await take_race(page, tid, bo, ticket["version"], ana.user_id)
        conflict = page.locator("#conflict")
        await expect(conflict).to_contain_text("Bo Agent took this ticket first.")
        await expect(conflict).to_contain_text(
            "only a supervisor can reassign a ticket someone else has"
        )
        await expect(conflict.get_by_role("button")).to_have_count(1)
        await expect(conflict.get_by_role("button", name="Apply my change anyway")).to_have_count(0)
        await expect(page.locator("#ticket-assignee")).to_have_text("Bo Agent")
        assert await audit(page) == []
        await conflict.get_by_role("button", name="Keep theirs").click()
        await expect(conflict).to_have_count(0)
        server = (await owner.get(f"/tickets/{tid}")).json()["ticket"]
        assert server["assignee_id"] == bo.user_id
    finally:
        await context.close()

    # A supervisor in the same race may hand the ticket to whom they chose: they are offered it.
    second = await new_ticket(owner, "Another race", "Anyone?")
    context, page = await log_in_at(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "sue"), VIEWPORT
    )
    try:
        await page.locator(f"#row-{second['id']}").click()
        await expect(page.locator("#ticket-assignee")).to_have_value("")
        await take_race(page, second["id"], bo, second["version"], sue.user_id)
        conflict = page.locator("#conflict")
        await expect(conflict).to_contain_text("Bo Agent took this ticket first.")
        await conflict.get_by_role("button", name="Apply my change anyway").click()
        await expect(page.locator("#ticket-assignee")).to_have_value(sue.user_id)
        server = (await owner.get(f"/tickets/{second['id']}")).json()["ticket"]
        assert server["assignee_id"] == sue.user_id
    finally:
        await context.close()
        for client in (owner, ana, bo, sue):
            await client.aclose()


async def test_an_error_never_covers_the_send_button(browser: Browser, tandem_url: str) -> None:
    owner = await sign_up(tandem_url)
    ticket = await new_ticket(owner, "Refund please", "Order 1234.")
    try:
        for viewport in (VIEWPORT, PHONE):
            context, page = await log_in_at(
                browser, tandem_url, owner.workspace_slug, email_of(owner, "owner"), viewport
            )
            try:
                await page.locator(f"#row-{ticket['id']}").click()
                await expect(page.locator(".msg-in")).to_contain_text("Order 1234.")
                await page.route(
                    f"**/api/v1/tickets/{ticket['id']}/messages",
                    lambda route: route.fulfill(
                        status=503,
                        json={"error": {"code": "unavailable", "message": "try again shortly"}},
                    ),
                )
                await page.get_by_label("Reply to the customer").fill("Refunded today.")
                send = page.get_by_role("button", name="Send reply")
                await send.click()
                error = page.locator(".toast-error")
                await expect(error).to_contain_text("Not sent: try again shortly")
                a = await error.bounding_box()
                b = await send.bounding_box()
                assert a is not None
                assert b is not None
                apart = (
                    a["x"] + a["width"] <= b["x"]
                    or b["x"] + b["width"] <= a["x"]
                    or a["y"] + a["height"] <= b["y"]
                    or b["y"] + b["height"] <= a["y"]
                )
                assert apart, (viewport, a, b)
                assert await page_width(page) <= viewport["width"]
                # The Send button takes a click while the error shows: the retry goes out.
                await page.unroute(f"**/api/v1/tickets/{ticket['id']}/messages")
                await send.click()
                await expect(page.locator(".msg-out", has_text="Refunded today.")).to_be_visible()
            finally:
                await context.close()
    finally:
        await owner.aclose()
