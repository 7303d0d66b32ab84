"""Workspace settings in real Chromium, against a real Tandem process whose public address is
its own: an owner invites an agent (who joins from the link), changes their role, makes a
team, creates and revokes an API token, installs the widget on a second origin from the
copied snippet, sets the opening hours, and finds all of it in the audit log; every section
passes the accessibility audit and fits a phone's width."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from app.devservices.process import free_port
from tests import servers
from tests.apiclient import PASSWORD, AgentClient, invite_and_join, sign_up
from tests.browser.conftest import HostSite
from tests.browser.test_accessibility import audit
from tests.browser.test_inbox_browser import screenshot

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)  # two shared cores: a busy machine is slow, not broken

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SECTIONS = ("members", "teams", "widget", "hours", "tokens", "audit")


@pytest.fixture(scope="module")
def tandem_url(
    mongodb_url: str, redis_url: str, db_name: str, artifacts_dir: Path
) -> Iterator[str]:
    """One Tandem process that knows its own address (`TANDEM_PUBLIC_URL`), as a deployed one
    does: invitation links and the widget's install snippet carry it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(servers, "free_port", lambda: port)
        with servers.tandem_processes(
            1,
            mongodb_url=mongodb_url,
            redis_url=redis_url,
            db_name=db_name,
            log_dir=artifacts_dir / "logs" / db_name,
            extra_env={"TANDEM_PUBLIC_URL": url},
        ) as urls:
            assert urls == [url]
            yield url


async def log_in(
    browser: Browser, url: str, owner: AgentClient, viewport: dict[str, int] = DESKTOP
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=viewport)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    await page.goto(url + "/")
    await page.get_by_label("Workspace").fill(owner.workspace_slug)
    await page.get_by_label("Email").fill(f"owner@{owner.workspace_slug}.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#connection-banner")).to_have_text("")
    return context, page


async def open_section(page: Page, name: str, label: str) -> None:
    await (
        page.get_by_role("navigation", name="Settings sections")
        .get_by_role("link", name=label)
        .click()
    )
    await expect(page).to_have_url(re.compile(rf"#/settings/{name}$"))
    await expect(page.locator(f"#settings-{name}")).to_be_visible()
    await expect(page.get_by_role("link", name=label)).to_have_attribute("aria-current", "page")


async def test_an_owner_runs_the_workspace_from_settings(
    browser: Browser, tandem_url: str, host_site: HostSite, artifacts_dir: Path
) -> None:
    owner = await sign_up(tandem_url)
    slug = owner.workspace_slug
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    context, page = await log_in(browser, tandem_url, owner)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=tandem_url)
    joined: BrowserContext | None = None
    try:
        await page.get_by_role("link", name="Settings").click()
        await expect(page.get_by_role("heading", name="Members", exact=True)).to_be_visible()
        await expect(page.locator("#members-table")).to_contain_text(f"owner@{slug}.example")
        assert await audit(page) == [], "members"

        # Invite Ana: the link is shown once, with the workspace's address.
        await page.get_by_label("Name", exact=True).fill("Ana Agent")
        await page.get_by_label("Email", exact=True).fill(f"ana@{slug}.example")
        await page.get_by_role("button", name="Create invitation").click()
        link = page.get_by_label("Invitation link", exact=True)
        await expect(link).to_have_value(
            re.compile(rf"^{re.escape(tandem_url)}/app/#/accept/inv_[\w-]+$")
        )
        await expect(page.locator("#invitation-workspace")).to_contain_text(slug)
        await expect(page.locator("#pending-invitations")).to_contain_text(
            re.compile(rf"ana@{slug}\.example · agent · expires")
        )
        assert await audit(page) == [], "invitation"
        await page.get_by_role("button", name="Copy invitation link").click()
        await expect(page.locator("#settings-status")).to_have_text("Invitation link copied.")
        accept_url = await link.input_value()

        # Inviting the same person twice is refused, and the page says why.
        await page.get_by_label("Name", exact=True).fill("Ana Again")
        await page.get_by_label("Email", exact=True).fill(f"ana@{slug}.example")
        await page.get_by_role("button", name="Create invitation").click()
        await expect(page.locator("#invite-error")).to_contain_text("pending invitation")

        # Ana opens the link in her own browser and joins.
        joined = await browser.new_context(viewport=DESKTOP)
        ana_page = await joined.new_page()
        await ana_page.goto(accept_url)
        await ana_page.get_by_label("Password").fill("ana's long password")
        await ana_page.get_by_role("button", name="Join the workspace").click()
        await expect(ana_page.get_by_role("link", name="Inbox")).to_be_visible()
        await expect(ana_page.locator("#workspace-slug")).to_contain_text(slug)

        # Once joined she is a member, no longer a pending invitation.
        await open_section(page, "teams", "Teams")
        await open_section(page, "members", "Members")
        await expect(page.locator("#no-invitations")).to_be_visible()
        role = page.get_by_label("Role of Ana Agent")
        await role.select_option("supervisor")
        await expect(page.locator("#settings-status")).to_have_text("Ana Agent is now supervisor.")
        roles = {m["name"]: m["role"] for m in (await owner.get("/members")).json()}
        assert roles["Ana Agent"] == "supervisor"

        # A team, with Ana in it.
        await open_section(page, "teams", "Teams")
        await page.get_by_label("Team name").fill("Billing")
        await page.get_by_role("button", name="Create team").click()
        await page.get_by_role("checkbox", name="Ana Agent").check()
        await page.get_by_role("button", name="Save members of Billing").click()
        await expect(page.locator("#settings-status")).to_have_text("Billing now has 1 member.")
        teams = (await owner.get("/teams/members")).json()
        ana_id = next(
            m["user_id"] for m in (await owner.get("/members")).json() if m["name"] == "Ana Agent"
        )
        assert teams == [{"id": teams[0]["id"], "name": "Billing", "user_ids": [ana_id]}]
        assert await audit(page) == [], "teams"

        # An API token: its secret works until it is revoked.
        await open_section(page, "tokens", "API tokens")
        await page.get_by_label("Token name").fill("crm")
        await page.get_by_role("button", name="Create token").click()
        secret = await page.get_by_label("Token secret", exact=True).input_value()
        assert secret.startswith("tdm_")
        bearer = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(base_url=tandem_url + "/api/v1", timeout=10) as crm:
            assert (await crm.get("/tickets", headers=bearer)).status_code == 200
            assert await audit(page) == [], "tokens"
            await page.get_by_role("button", name="Revoke crm").click()
            await page.get_by_role("button", name="Yes, revoke").click()
            await expect(page.locator("#no-tokens")).to_be_visible()
            assert (await crm.get("/tickets", headers=bearer)).status_code == 401

        # The widget: allow the shop's origin, copy the snippet, paste it into the shop.
        await open_section(page, "widget", "Widget")
        await expect(page.locator("#widget-no-origins")).to_be_visible()
        await page.get_by_label("Site address (origin)").fill(host_site.url + "/")
        await page.get_by_role("button", name="Add origin").click()
        await expect(page.locator("#widget-origin-list")).to_have_text(
            re.compile(re.escape(host_site.url))
        )
        await page.get_by_label("Colour").fill("#aa3300")
        await expect(page.locator(".preview-header")).to_have_css(
            "background-color", "rgb(170, 51, 0)"
        )
        await page.get_by_label("Greeting").fill("Hello from the shop!")
        await expect(page.locator("#preview-greeting")).to_have_text("Hello from the shop!")
        await page.get_by_role("button", name="Save texts").click()
        await expect(page.locator("#settings-status")).to_have_text("Widget texts saved.")
        await page.get_by_role("button", name="Copy install snippet").click()
        await expect(page.locator("#settings-status")).to_have_text("Install snippet copied.")
        pasted = await page.evaluate("navigator.clipboard.readText()")
        assert pasted == await page.get_by_label("Install snippet", exact=True).input_value()
        assert f'src="{tandem_url}/widget.js"' in pasted
        assert f'data-workspace="{ws}"' in pasted
        assert 'data-color="#aa3300"' in pasted
        assert await audit(page) == [], "widget"

        shop = await context.new_page()
        await shop.goto(
            host_site.page(
                "settings-shop.html",
                "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Shop</title>"
                f"</head><body><h1>Shop</h1>{pasted}</body></html>",
            )
        )
        await expect(shop.get_by_role("button", name="Open chat")).to_be_visible()
        await shop.get_by_role("button", name="Open chat").click()
        await expect(shop.get_by_text("Hello from the shop!")).to_be_visible()
        await shop.close()

        # The identity-verification secret: shown on demand, rotated after a question.
        before = (await owner.get("/workspace/widget")).json()["secret"]
        secret_box = page.get_by_label("Identity-verification secret", exact=True)
        await expect(secret_box).to_have_attribute("type", "password")
        await page.get_by_role("button", name="Show").click()
        await expect(secret_box).to_have_attribute("type", "text")
        await expect(secret_box).to_have_value(before)
        await page.get_by_role("button", name="Rotate secret").click()
        await page.get_by_role("button", name="Yes, rotate").click()
        await expect(page.locator("#settings-status")).to_contain_text("A new secret is in use")
        after = (await owner.get("/workspace/widget")).json()["secret"]
        assert after != before
        await expect(secret_box).to_have_value(after)

        # Opening hours in Lisbon; a day that closes before it opens is caught.
        await open_section(page, "hours", "Hours and time zone")
        await page.get_by_label("Time zone", exact=True).select_option("Europe/Lisbon")
        await page.get_by_role("checkbox", name="Monday").check()
        await page.get_by_label("Monday opens at").fill("09:00")
        await page.get_by_label("Monday closes at").fill("17:30")
        await page.get_by_role("checkbox", name="Saturday").check()
        await page.get_by_label("Saturday opens at").fill("12:00")
        await page.get_by_label("Saturday closes at").fill("10:00")
        await page.get_by_role("button", name="Save hours").click()
        await expect(page.locator("#hours-sat-error")).to_have_text("Closes after it opens.")
        await expect(page.get_by_label("Saturday closes at")).to_be_focused()
        await page.get_by_label("Saturday closes at").fill("16:00")
        await page.get_by_role("button", name="Save hours").click()
        await expect(page.locator("#settings-status")).to_have_text(
            "Hours saved, in Europe/Lisbon."
        )
        saved = (await owner.get("/workspace")).json()
        assert saved["timezone"] == "Europe/Lisbon"
        assert saved["business_hours"] == {
            "mon": {"open": "09:00", "close": "17:30"},
            "sat": {"open": "12:00", "close": "16:00"},
        }
        assert await audit(page) == [], "hours"

        # The audit log, narrowed to one action, then to one group.
        await open_section(page, "audit", "Audit log")
        await expect(page.locator("#audit-table")).to_contain_text("Invited")
        await page.get_by_label("Action").select_option("token.created")
        await page.get_by_role("button", name="Show").click()
        rows = page.locator("#audit-table tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("Token created")
        await expect(rows.first).to_contain_text("name: crm")
        await page.get_by_label("Action").select_option("member.")
        await page.get_by_role("button", name="Show").click()
        await expect(rows).to_have_count(3)  # invited, joined, role changed
        actions = await rows.evaluate_all("rows => rows.map(r => r.dataset.action)")
        assert actions == ["member.updated", "member.joined", "member.invited"]
        await page.get_by_label("Who").select_option(label="Ana Agent")
        await page.get_by_role("button", name="Show").click()
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("Joined")
        assert await audit(page) == [], "audit"
    finally:
        if joined is not None:
            await joined.close()
        await context.close()
        await owner.aclose()


async def test_an_admin_may_not_make_owners_and_sees_why(browser: Browser, tandem_url: str) -> None:
    owner = await sign_up(tandem_url)
    admin = await invite_and_join(owner, tandem_url, "Adam Admin", role="admin")
    bo = await invite_and_join(owner, tandem_url, "Bo Agent")
    context = await browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await page.goto(tandem_url + "/")
        await page.get_by_label("Workspace").fill(owner.workspace_slug)
        await page.get_by_label("Email").fill(f"adam@{owner.workspace_slug}.example")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.goto(tandem_url + "/app/#/settings/members")
        # An admin is offered no owner role, and cannot touch the owner.
        bo_role = page.get_by_label("Role of Bo Agent")
        await expect(bo_role.locator("option")).to_have_text(["agent", "supervisor", "admin"])
        await expect(page.get_by_label("Role of Olivia Owner")).to_be_disabled()
        # The server's word wins when the page is out of date: Bo was made owner meanwhile.
        bo_id = next(
            m["user_id"] for m in (await owner.get("/members")).json() if m["name"] == "Bo Agent"
        )
        assert (await owner.patch(f"/members/{bo_id}", json={"role": "owner"})).status_code == 200
        await bo_role.select_option("supervisor")
        await expect(page.locator("#members-error")).to_contain_text(
            "only an owner changes an owner"
        )
        await expect(bo_role).to_have_value("agent")
        # Widget and hours are the owner's: the admin gets the install snippet only.
        await page.goto(tandem_url + "/app/#/settings/widget")
        await expect(page.get_by_label("Install snippet", exact=True)).to_have_value(
            re.compile("data-workspace")
        )
        await expect(page.locator("#widget-owner-only")).to_be_visible()
        await expect(page.locator("#widget-owner-settings")).to_be_hidden()
        assert await audit(page) == [], "widget (admin)"
    finally:
        await context.close()
        for client in (owner, admin, bo):
            await client.aclose()


@pytest.mark.parametrize(("viewport", "kind"), [(DESKTOP, "desktop"), (PHONE, "mobile")])
async def test_every_section_fits_the_screen_and_passes_the_audit(
    browser: Browser,
    tandem_url: str,
    host_site: HostSite,
    artifacts_dir: Path,
    viewport: dict[str, int],
    kind: str,
) -> None:
    owner = await sign_up(tandem_url)
    ana = await invite_and_join(owner, tandem_url, "Ana Agent")
    await ana.aclose()
    await owner.post("/invitations", json={"email": "bo@shop.example", "name": "Bo Newcomer"})
    await owner.post("/teams", json={"name": "Billing"})
    await owner.post("/api-tokens", json={"name": "Nightly export to the warehouse"})
    await owner.patch(
        "/workspace",
        json={
            "allowed_origins": [host_site.url],
            "business_hours": {"mon": {"open": "09:00", "close": "17:00"}},
        },
    )
    context, page = await log_in(browser, tandem_url, owner, viewport)
    try:
        for name in SECTIONS:
            await page.goto(f"{tandem_url}/app/#/settings/{name}")
            section = page.locator(f"#settings-{name}")
            await expect(section).to_be_visible()
            await expect(section.locator(".form-error[role=alert]").first).to_have_text("")
            await expect(page.locator(f"#settings-link-{name}")).to_have_attribute(
                "aria-current", "page"
            )
            if name == "audit":
                await expect(page.locator("#audit-table")).to_be_visible()
            if name == "widget":
                await expect(page.locator("#widget-origin-list")).to_be_visible()
            # Nothing in the settings page reaches past its own width (wide tables scroll
            # inside their box), and on a phone the page itself never scrolls sideways.
            page_fits = await page.evaluate(
                "(() => { const s = document.getElementById('settings');"
                " return s.scrollWidth <= s.clientWidth; })()"
            )
            assert page_fits, name
            if kind == "mobile":
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], (name, width)
            assert await audit(page) == [], name
            await expect(page.locator("#connection-banner")).to_have_text("")
            await screenshot(page, artifacts_dir, f"settings-{name}-{kind}.png")
        # The menu works from the keyboard: a section's link, Enter, and it shows.
        await page.locator("#settings-link-teams").focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#settings-teams")).to_be_visible()
        await expect(page.locator("#settings-audit")).to_be_hidden()
    finally:
        await context.close()
        await owner.aclose()


async def test_the_audit_log_loads_more_a_page_at_a_time(browser: Browser, tandem_url: str) -> None:
    owner = await sign_up(tandem_url)
    for n in range(52):
        assert (await owner.post("/api-tokens", json={"name": f"token {n}"})).status_code == 201
    context, page = await log_in(browser, tandem_url, owner)
    try:
        await page.goto(tandem_url + "/app/#/settings/audit")
        await page.get_by_label("Action").select_option("token.created")
        await page.get_by_role("button", name="Show").click()
        rows = page.locator("#audit-table tbody tr")
        await expect(rows).to_have_count(50)
        await expect(rows.first).to_contain_text("name: token 51")
        await page.get_by_role("button", name="Load more").click()
        await expect(rows).to_have_count(52)
        await expect(rows.last).to_contain_text("name: token 0")
        await expect(page.get_by_role("button", name="Load more")).to_be_hidden()
        await expect(page.locator("#audit-summary")).to_have_text("52 events.")
    finally:
        await context.close()
        await owner.aclose()
