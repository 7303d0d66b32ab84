"""The agent inbox and the supervisor dashboard in real Chromium, against a real Tandem process:
two agents and a supervisor, each in their own browser context, all logged in through the UI."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, BrowserContext, Page, Route, expect

from tests.apiclient import PASSWORD, AgentClient, invite_and_join, sign_up

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 800}
SITE = "https://shop.example"
TOUR = Path(__file__).resolve().parent.parent.parent / "docs" / "tour"


async def log_in(
    browser: Browser, url: str, slug: str, email: str, **options: str
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=VIEWPORT, **options)
    page = await context.new_page()
    await page.goto(url + "/")
    await page.get_by_label("Workspace").fill(slug)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("link", name="Inbox")).to_be_visible()
    # The socket is up (the "Connecting…" banner is gone) and the list is loaded.
    await expect(page.locator("#connection-banner")).to_have_text("")
    await expect(page.locator(".list-head")).not_to_contain_text("Loading")
    await expect(page.locator("#view-all .count")).to_have_text(re.compile(r"^\d+$"))
    return context, page


def email_of(client: AgentClient, handle: str) -> str:
    return f"{handle}@{client.workspace_slug}.example"


async def new_ticket(owner: AgentClient, subject: str, text: str) -> dict:
    created = await owner.post(
        "/tickets",
        json={
            "subject": subject,
            "contact": {"email": f"{uuid.uuid4().hex[:8]}@customer.example", "name": "Carla"},
            "message": {"text": text},
            "tags": ["billing"],
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


async def screenshot(page: Page, artifacts_dir: Path, name: str) -> None:
    path = artifacts_dir / name
    await page.screenshot(path=str(path))
    if os.environ.get("TANDEM_UPDATE_TOUR") == "1":  # refresh the README's pictures
        TOUR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, TOUR / name)


async def test_two_agents_and_a_supervisor_work_the_inbox_live(
    browser: Browser, tandem_url: str, artifacts_dir: Path
) -> None:
    owner = await sign_up(tandem_url)
    ana = await invite_and_join(owner, tandem_url, "Ana Agent")
    bo = await invite_and_join(owner, tandem_url, "Bo Agent")
    sue = await invite_and_join(owner, tandem_url, "Sue Supervisor", role="supervisor")
    await owner.post(
        "/canned-responses",
        json={"shortcut": "refund", "title": "Refund", "body": "Your refund is on its way."},
    )
    await new_ticket(owner, "Where is my parcel?", "It was due on Monday.")
    ticket = await new_ticket(owner, "Charged twice for one order", "I see two charges of $40.")
    tid = ticket["id"]
    slug = owner.workspace_slug

    (ctx_a, a), (ctx_b, b), (ctx_s, sup) = await asyncio.gather(
        log_in(browser, tandem_url, slug, email_of(owner, "ana")),
        log_in(browser, tandem_url, slug, email_of(owner, "bo")),
        log_in(browser, tandem_url, slug, email_of(owner, "sue")),
    )
    try:
        # An agent is not offered the dashboard, and the server refuses it anyway.
        await expect(a.get_by_role("link", name="Dashboard")).to_have_count(0)
        assert (await a.request.get(tandem_url + "/api/v1/dashboard")).status == 403
        await sup.get_by_role("link", name="Dashboard").click()
        await expect(sup.locator("#queue-total")).to_have_text("2")
        await expect(sup.locator("#dash-agents tr", has_text="Bo Agent")).to_contain_text("online")

        # A opens the ticket: B's list says so.
        await a.locator(f"#row-{tid}").click()
        await expect(a.locator("#ticket-title")).to_contain_text("Charged twice for one order")
        await expect(b.locator(f"#row-{tid}")).to_contain_text("Ana Agent is viewing")

        # B opens it too; A writes (B sees "replying…"), using the canned response picker.
        await b.locator(f"#row-{tid}").click()
        await expect(b.locator(".collision-banner")).to_contain_text("Ana Agent is viewing")
        composer = a.get_by_label("Reply to the customer")
        await composer.fill("/ref")
        await expect(a.get_by_role("option", name="/refund")).to_be_visible()
        await composer.press("Enter")
        await expect(composer).to_have_value("Your refund is on its way.")
        await expect(b.locator(".collision-banner")).to_contain_text("Ana Agent is replying…")
        await a.get_by_role("button", name="Send reply").click()
        reply = b.locator(".msg-out", has_text="Your refund is on its way.")
        await expect(reply).to_be_visible()
        await expect(reply).to_contain_text("Ana Agent")

        # A private note mentioning Bo: shown as a note, and Bo is told live.
        await a.keyboard.press("Escape")
        await a.keyboard.press("n")
        note = a.get_by_label("Private note (only your team sees it)")
        await expect(note).to_be_focused()
        await note.fill("@bo can you check the second charge?")
        await note.press("Control+Enter")
        await expect(b.locator(".msg-note", has_text="can you check")).to_contain_text(
            "Private note"
        )
        await expect(b.locator(".toast-mention")).to_contain_text("Ana Agent mentioned you")

        # Both change the status at the same moment (both requests, made from the same
        # version, are held until both are sent): one wins, the other sees the conflict.
        both_sent = asyncio.Event()
        held: list[Route] = []

        async def hold_patch(route: Route) -> None:
            if route.request.method != "PATCH":
                await route.continue_()
                return
            held.append(route)
            if len(held) == 2:
                both_sent.set()
            await both_sent.wait()
            await route.continue_()

        for page in (a, b):
            await page.route(f"**/api/v1/tickets/{tid}", hold_patch)
        async with (
            a.expect_response(lambda r: r.request.method == "PATCH") as answer_a,
            b.expect_response(lambda r: r.request.method == "PATCH") as answer_b,
        ):
            await asyncio.gather(
                a.locator("#ticket-status").select_option("pending"),
                b.locator("#ticket-status").select_option("resolved"),
            )
        for page in (a, b):
            await page.unroute(f"**/api/v1/tickets/{tid}", hold_patch)
        status_a = (await answer_a.value).status
        status_b = (await answer_b.value).status
        assert sorted([status_a, status_b]) == [200, 409]
        if status_a == 200:
            winner, loser, who, status = a, b, "Ana Agent", "pending"
        else:
            winner, loser, who, status = b, a, "Bo Agent", "resolved"
        conflict = loser.locator("#conflict")
        await expect(conflict).to_contain_text(f"{who} changed status to {status}")
        await expect(conflict).to_contain_text("was not applied")
        await expect(loser.locator("#ticket-status-badge")).to_have_text(status)
        await expect(
            loser.locator(".msg-system", has_text=f"set the status to {status}")
        ).to_be_visible()
        await expect(winner.locator("#conflict")).to_have_count(0)
        await expect(winner.locator("#ticket-status-badge")).to_have_text(status)
        server = (await owner.get(f"/tickets/{tid}")).json()["ticket"]
        assert server["status"] == status
        assert server["version"] == ticket["version"] + 1
        await screenshot(loser, artifacts_dir, "ticket.png")

        # A widget visitor writes: both lists show the conversation, the queue count moves.
        await expect(sup.locator("#queue-total")).to_have_text("2" if status == "pending" else "1")
        before = int(await sup.locator("#queue-total").inner_text())
        allowed = await owner.patch("/workspace", json={"allowed_origins": [SITE]})
        assert allowed.status_code == 200, allowed.text
        async with httpx.AsyncClient(
            base_url=tandem_url + "/api/v1/widget", headers={"Origin": SITE}, timeout=10
        ) as visitor:
            session = await visitor.post("/session", json={"workspace": allowed.json()["id"]})
            assert session.status_code == 200, session.text
            visitor.headers["Authorization"] = "Bearer " + session.json()["visitor_token"]
            sent = await visitor.post(
                "/messages", json={"text": "Hi! Is the sale still on?", "client_id": "v1"}
            )
            assert sent.status_code == 201, sent.text
        chat = sent.json()["conversation_id"]
        for page in (a, b):
            await expect(page.locator(f"#row-{chat}")).to_contain_text("webchat")
        if status == "pending":  # a resolved ticket has left the Active list
            await expect(a.locator(f"#row-{tid}")).to_contain_text("Bo Agent is viewing")
        await expect(a.locator("#view-all .count")).to_have_text(str(before + 1))
        await screenshot(a, artifacts_dir, "inbox.png")
        await expect(sup.locator("#queue-total")).to_have_text(str(before + 1))
        await expect(sup.locator("#dash-waiting")).to_contain_text("Is the sale still on?")
        await expect(sup.locator("#today-created")).to_have_text("3")

        # The supervisor reassigns the chat to Ana from the dashboard; Ana's "Mine" has it.
        await sup.locator(f"#reassign-{chat}").select_option(ana.user_id)
        await a.locator("#view-mine").click()
        await expect(a.locator(f"#row-{chat}")).to_be_visible()

        # B goes away (the tab closes): the dashboard shows B offline.
        await ctx_b.close()
        await expect(sup.locator("#dash-agents tr", has_text="Bo Agent")).to_contain_text("offline")
        await expect(sup.locator("#dash-agents tr", has_text="Ana Agent")).to_contain_text("online")
        await screenshot(sup, artifacts_dir, "dashboard.png")
    finally:
        for context in (ctx_a, ctx_b, ctx_s):
            await context.close()
        for client in (owner, ana, bo, sue):
            await client.aclose()


async def test_html_and_script_in_a_message_show_as_text(browser: Browser, tandem_url: str) -> None:
    owner = await sign_up(tandem_url)
    hostile = '<img src=x onerror="window.__owned=1"><script>window.__owned=2</script><b>hi</b>'
    ticket = await new_ticket(owner, "<i>Subject</i> with markup", hostile)
    context, page = await log_in(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
    )
    try:
        await page.locator(f"#row-{ticket['id']}").click()
        body = page.locator(".msg-in .msg-text")
        await expect(body).to_have_text(hostile)
        await expect(page.locator("#ticket-title")).to_contain_text("<i>Subject</i> with markup")
        assert await page.locator(".thread img, .thread script, .thread b").count() == 0
        assert await page.evaluate("window.__owned") is None
    finally:
        await context.close()
        await owner.aclose()


async def test_an_ended_session_returns_to_login_and_keeps_the_draft(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    ticket = await new_ticket(owner, "Password reset link expired", "The link says expired.")
    context, page = await log_in(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
    )
    try:
        await page.locator(f"#row-{ticket['id']}").click()
        await expect(page.locator(".contact-name")).to_contain_text("Carla")  # all loaded
        draft = "Sorry about that — here is a fresh link"
        await page.get_by_label("Reply to the customer").fill(draft)
        await context.clear_cookies()  # the session ends (expired, or logged out elsewhere)
        await page.get_by_role("button", name="Send reply").click()
        await expect(page.get_by_role("alert")).to_contain_text("Your session has ended")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        # Back on the same ticket, the unsent reply is still there, and nothing was sent.
        await expect(page.locator("#ticket-title")).to_contain_text("Password reset link expired")
        await expect(page.get_by_label("Reply to the customer")).to_have_value(draft)
        thread = (await owner.get(f"/tickets/{ticket['id']}")).json()["messages"]
        assert [m["text"] for m in thread] == ["The link says expired."]
    finally:
        await context.close()
        await owner.aclose()


async def test_keyboard_moves_through_the_inbox(browser: Browser, tandem_url: str) -> None:
    owner = await sign_up(tandem_url)
    older = await new_ticket(owner, "Older question", "First.")
    newer = await new_ticket(owner, "Newer question", "Second.")
    context, page = await log_in(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
    )
    try:
        await page.keyboard.press("j")  # the list is newest first
        await expect(page.locator("#ticket-title")).to_contain_text("Newer question")
        await expect(page.locator(f"#row-{newer['id']}")).to_have_attribute("aria-current", "true")
        await page.keyboard.press("j")
        await expect(page.locator("#ticket-title")).to_contain_text("Older question")
        await page.keyboard.press("k")
        await expect(page.locator("#ticket-title")).to_contain_text("Newer question")
        await page.keyboard.press("r")
        await expect(page.get_by_label("Reply to the customer")).to_be_focused()
        await page.keyboard.press("Escape")
        await page.keyboard.press("e")
        await expect(page.locator("#ticket-status-badge")).to_have_text("resolved")
        await expect(page.locator(f"#row-{newer['id']}")).to_have_count(0)  # left "Active"
        await expect(page.locator(f"#row-{older['id']}")).to_be_visible()
        await page.keyboard.press("?")
        await expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    finally:
        await context.close()
        await owner.aclose()


async def test_a_dropped_network_shows_reconnecting_and_catches_up(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    ticket = await new_ticket(owner, "Delivery to the wrong address", "It went next door.")
    context, page = await log_in(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
    )
    try:
        await page.locator(f"#row-{ticket['id']}").click()
        await expect(page.locator(".msg-in")).to_have_text(re.compile("It went next door"))
        await context.set_offline(True)
        await expect(page.locator("#connection-banner")).to_contain_text("Reconnecting…")
        composer = page.get_by_label("Reply to the customer")
        await composer.fill("Written while offline")
        await page.get_by_role("button", name="Send reply").click()
        await expect(page.locator(".toast-error")).to_contain_text("Your text is kept")
        await expect(composer).to_have_value("Written while offline")
        # Meanwhile the conversation moves on: a teammate's note, a new ticket.
        noted = await owner.post(
            f"/tickets/{ticket['id']}/messages", json={"text": "Called the courier", "kind": "note"}
        )
        assert noted.status_code == 201, noted.text
        later = await new_ticket(owner, "Arrived while asleep", "Hello?")
        await context.set_offline(False)
        await expect(page.locator("#connection-banner")).to_have_text("")
        await expect(page.locator(".msg-note", has_text="Called the courier")).to_be_visible()
        await expect(page.locator(f"#row-{later['id']}")).to_be_visible()
        await expect(composer).to_have_value("Written while offline")
    finally:
        await context.close()
        await owner.aclose()


async def test_a_tab_asleep_past_the_replay_log_refetches_and_catches_up(
    browser: Browser, tandem_url: str, redis_url: str
) -> None:
    owner = await sign_up(tandem_url)
    workspace_id = (await owner.get("/me")).json()["workspace"]["id"]
    ticket = await new_ticket(owner, "Parcel damaged", "The box was crushed.")
    context, page = await log_in(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
    )
    broker = aioredis.from_url(redis_url)
    try:
        await page.locator(f"#row-{ticket['id']}").click()
        await expect(page.locator(".msg-in")).to_have_text(re.compile("The box was crushed"))
        await context.set_offline(True)
        await expect(page.locator("#connection-banner")).to_contain_text("Reconnecting…")
        noted = await owner.post(
            f"/tickets/{ticket['id']}/messages", json={"text": "Photos requested", "kind": "note"}
        )
        assert noted.status_code == 201, noted.text
        later = await new_ticket(owner, "Second parcel", "Also crushed")
        # The replay log no longer reaches back to where this tab stopped: only a refetch
        # can show what happened meanwhile.
        await broker.xtrim(f"tandem:{{ws:{workspace_id}}}:log", maxlen=0)
        await context.set_offline(False)
        await expect(page.locator("#connection-banner")).to_have_text("")
        await expect(page.locator(".msg-note", has_text="Photos requested")).to_be_visible()
        await expect(page.locator(f"#row-{later['id']}")).to_be_visible()
        # And it is live again afterwards.
        await owner.post(f"/tickets/{ticket['id']}/messages", json={"text": "Refund sent"})
        await expect(page.locator(".msg-out", has_text="Refund sent")).to_be_visible()
    finally:
        await broker.aclose()
        await context.close()
        await owner.aclose()


async def test_an_invited_agent_joins_from_the_link(browser: Browser, tandem_url: str) -> None:
    owner = await sign_up(tandem_url)
    invited = await owner.post(
        "/invitations",
        json={"email": email_of(owner, "dana"), "name": "Dana Agent", "role": "agent"},
    )
    assert invited.status_code == 201, invited.text
    assert "/app/#/accept/" in invited.json()["accept_url"]
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    try:
        await page.goto(f"{tandem_url}/app/#/accept/{invited.json()['token']}")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Join the workspace").click()
        await expect(page.locator(".me")).to_contain_text("Dana Agent")
        await expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)
        members = (await owner.get("/members")).json()
        assert "Dana Agent" in [m["name"] for m in members]
    finally:
        await context.close()
        await owner.aclose()


async def test_a_supervisor_manages_canned_responses_and_agents_use_them(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    ana = await invite_and_join(owner, tandem_url, "Ana Agent")
    sue = await invite_and_join(owner, tandem_url, "Sue Supervisor", role="supervisor")
    await owner.post("/canned-responses", json={"shortcut": "refund", "body": "On its way."})
    ticket = await new_ticket(owner, "Greeting please", "Hello?")
    slug = owner.workspace_slug
    (ctx_a, a), (ctx_s, sup) = await asyncio.gather(
        log_in(browser, tandem_url, slug, email_of(owner, "ana")),
        log_in(browser, tandem_url, slug, email_of(owner, "sue")),
    )
    try:
        # The agent opens the ticket first: /hello does not exist yet.
        await a.locator(f"#row-{ticket['id']}").click()
        composer = a.get_by_label("Reply to the customer")
        await composer.fill("/hel")
        await expect(a.get_by_role("listbox", name="Suggestions")).to_be_hidden()
        await composer.fill("")

        # The supervisor creates /hello from the header link.
        await sup.get_by_role("link", name="Canned responses").click()
        await expect(sup.locator("#canned-list")).to_contain_text("/refund")
        await sup.get_by_label("Shortcut").fill("hello")
        await sup.get_by_label("Title (optional)").fill("Greeting")
        await sup.get_by_label("Body").fill("Hi there, thanks for writing!")
        await sup.get_by_role("button", name="Create").click()
        await expect(sup.locator("#canned-status")).to_have_text("Created /hello.")
        row = sup.locator("#canned-list tr", has_text="/hello")
        await expect(row).to_contain_text("Hi there, thanks for writing!")

        # A taken shortcut: the server's refusal shows next to the field, nothing breaks.
        await sup.get_by_label("Shortcut").fill("hello")
        await sup.get_by_label("Body").fill("Another greeting")
        async with sup.expect_response("**/api/v1/canned-responses") as taken:
            await sup.get_by_role("button", name="Create").click()
        assert (await taken.value).status == 409
        shortcut = sup.get_by_label("Shortcut")
        await expect(sup.locator("#canned-shortcut-error")).to_have_text(
            "/hello is taken: pick another shortcut."
        )
        await expect(shortcut).to_have_attribute("aria-invalid", "true")
        await expect(shortcut).to_be_focused()
        # A shortcut the server's pattern refuses (422, about the field "shortcut").
        await shortcut.fill("Hello World")
        async with sup.expect_response("**/api/v1/canned-responses") as invalid:
            await sup.get_by_role("button", name="Create").click()
        assert (await invalid.value).status == 422
        await expect(sup.locator("#canned-shortcut-error")).to_contain_text("lowercase letters")

        # Edit /hello.
        await sup.get_by_role("button", name="Edit /hello").click()
        await expect(sup.locator("#canned-form-title")).to_have_text("Edit /hello")
        await expect(sup.locator("#canned-shortcut-error")).to_have_text("")
        await expect(sup.get_by_label("Body")).to_have_value("Hi there, thanks for writing!")
        await sup.get_by_label("Body").fill("Hello! How can we help today?")
        await sup.get_by_role("button", name="Save changes").click()
        await expect(sup.locator("#canned-status")).to_have_text("Saved /hello.")
        await expect(row).to_contain_text("Hello! How can we help today?")
        stored = {c["shortcut"]: c for c in (await owner.get("/canned-responses")).json()}
        assert stored["hello"]["body"] == "Hello! How can we help today?"
        assert stored["hello"]["title"] == "Greeting"

        # The agent reopens the ticket: the composer's picker offers the edited /hello.
        await a.get_by_role("link", name="Inbox").click()
        await a.locator(f"#row-{ticket['id']}").click()
        await composer.fill("/hel")
        await expect(a.get_by_role("option", name="/hello")).to_be_visible()
        await composer.press("Enter")
        await expect(composer).to_have_value("Hello! How can we help today?")

        # The supervisor deletes it, after confirming in the row.
        await sup.get_by_role("button", name="Delete /hello").click()
        await expect(sup.get_by_role("button", name="Yes, delete")).to_be_focused()
        await sup.get_by_role("button", name="Yes, delete").click()
        await expect(sup.locator("#canned-status")).to_have_text("Deleted /hello.")
        await expect(row).to_have_count(0)
        await expect(sup.locator("#canned-list")).to_contain_text("/refund")
        stored = [c["shortcut"] for c in (await owner.get("/canned-responses")).json()]
        assert stored == ["refund"]

        # An agent has no link, and the route itself says no.
        await expect(a.get_by_role("link", name="Canned responses")).to_have_count(0)
        await a.goto(f"{tandem_url}/app/#/canned")
        await expect(a.locator("#canned-refused")).to_contain_text("not allowed")
        await expect(a.locator("#canned-form")).to_have_count(0)
        refused = await ana.post("/canned-responses", json={"shortcut": "x", "body": "y"})
        assert refused.status_code == 403
    finally:
        for context in (ctx_a, ctx_s):
            await context.close()
        for client in (owner, ana, sue):
            await client.aclose()


async def test_snooze_until_a_chosen_local_time(browser: Browser, tandem_url: str) -> None:
    owner = await sign_up(tandem_url)
    ticket = await new_ticket(owner, "Call me back next year", "After the holidays, please.")
    # Berlin is at UTC+1 in January: 14:30 there is 13:30 UTC.
    context, page = await log_in(
        browser,
        tandem_url,
        owner.workspace_slug,
        email_of(owner, "owner"),
        timezone_id="Europe/Berlin",
        locale="en-US",
    )
    year = datetime.now(UTC).year + 1
    try:
        await page.locator(f"#row-{ticket['id']}").click()
        await expect(page.locator("#ticket-status-badge")).to_have_text("open")
        await page.locator("#ticket-status").select_option("snoozed")
        picker = page.get_by_role("group", name="Snooze until…")
        tomorrow = picker.get_by_role("button", name=re.compile("^Tomorrow 9:00"))
        await expect(tomorrow).to_be_visible()
        later = picker.get_by_role("button", name=re.compile(r"^Later today \(\+3 h\)"))
        await expect(later).to_be_focused()
        # Esc leaves the status as it was, nothing is sent.
        await page.keyboard.press("Escape")
        await expect(picker).to_have_count(0)
        await expect(page.locator("#ticket-status")).to_be_focused()
        await expect(page.locator("#ticket-status")).to_have_value("open")
        assert (await owner.get(f"/tickets/{ticket['id']}")).json()["ticket"]["status"] == "open"

        # A time in the past is refused next to the input.
        await page.locator("#ticket-status").select_option("snoozed")
        at = picker.get_by_label("Or until (your local time)")
        await at.fill("2020-01-15T14:30")
        await picker.get_by_role("button", name="Snooze", exact=True).click()
        await expect(page.locator("#snooze-error")).to_have_text(
            "Pick a date and time in the future."
        )
        await expect(at).to_have_attribute("aria-invalid", "true")

        async with page.expect_response(
            lambda r: r.request.method == "PATCH" and "/tickets/" in r.url
        ) as answer:
            await at.fill(f"{year}-01-15T14:30")
            await at.press("Enter")
        assert (await answer.value).status == 200
        await expect(page.locator("#ticket-status-badge")).to_have_text("snoozed")
        await expect(picker).to_have_count(0)
        server = (await owner.get(f"/tickets/{ticket['id']}")).json()["ticket"]
        assert server["status"] == "snoozed"
        until = datetime.fromisoformat(server["snoozed_until"])
        assert until == datetime(year, 1, 15, 13, 30, tzinfo=UTC)
        header = page.locator("#ticket-snoozed-until")
        await expect(header).to_have_text(re.compile(r"^Snoozed until \w{3}, Jan 15, 02:30\sPM$"))
        assert datetime.fromisoformat(await header.get_attribute("datetime") or "") == until

        # Still snoozed, a later wake-up time.
        await page.locator("#snooze-change").click()
        async with page.expect_response(
            lambda r: r.request.method == "PATCH" and "/tickets/" in r.url
        ) as again:
            await at.fill(f"{year}-01-16T08:00")
            await at.press("Enter")
        assert (await again.value).status == 200
        server = (await owner.get(f"/tickets/{ticket['id']}")).json()["ticket"]
        assert (server["status"], server["snoozed_until"]) == (
            "snoozed",
            f"{year}-01-16T07:00:00.000Z",
        )
        await expect(header).to_have_text(re.compile(r"^Snoozed until \w{3}, Jan 16, 08:00\sAM$"))
    finally:
        await context.close()
        await owner.aclose()


async def test_the_list_pages_through_every_ticket_searches_and_sorts_by_waiting(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    made = []
    for i in range(1, 56):
        subject = "Parcel lost in transit" if i == 3 else f"Question {i}"
        made.append(await new_ticket(owner, subject, f"Customer message {i}."))
    context, page = await log_in(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
    )
    rows = page.locator(".ticket-list > li")
    try:
        await expect(page.locator(".list-head")).to_contain_text("50 shown")
        await expect(page.locator(f"#row-{made[0]['id']}")).to_have_count(0)
        await page.get_by_role("button", name="Show more").click()
        await expect(page.locator(".list-head")).to_contain_text("55 shown")
        await expect(page.locator(f"#row-{made[0]['id']}")).to_be_visible()  # ticket #1
        await expect(page.get_by_role("button", name="Show more")).to_have_count(0)

        await page.get_by_label("Search tickets").fill("parcel")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("Parcel lost in transit")
        # A word only a message holds finds its ticket too.
        await page.get_by_label("Search tickets").fill("message 17")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("Question 17")
        await page.get_by_label("Search tickets").fill("")
        await expect(page.locator(".list-head")).to_contain_text("55 shown")  # all known now

        # Every ticket waits for a first reply: the longest waiting (#1) comes first, and a
        # ticket an agent answers leaves the list live.
        await page.get_by_label("Sort").select_option("waiting")
        await expect(rows.first).to_contain_text("Question 1")
        answered = await owner.post(f"/tickets/{made[0]['id']}/messages", json={"text": "Hi!"})
        assert answered.status_code == 201
        await expect(page.locator(f"#row-{made[0]['id']}")).to_have_count(0)
        await expect(rows.first).to_contain_text("Question 2")
    finally:
        await context.close()
        await owner.aclose()
