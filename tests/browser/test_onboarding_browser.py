"""Starting with Tandem from the browser alone, in real Chromium against a real server and
worker: a first visit, signing up, joining from an invitation, logging back in without being
told the workspace's address, finding it by email, resetting a password and the profile —
on a desk and on a phone. Account emails go to the worker's log (no mail provider here), as
on a fresh install."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.apiclient import PASSWORD, invite_and_join, sign_up
from tests.browser.conftest import HostSite
from tests.browser.test_accessibility import audit
from tests.browser.test_inbox_browser import email_of, log_in, screenshot
from tests.conftest import ROOT
from tests.servers import tandem_worker

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PNG_PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a9e1a40000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def worker_log(
    mongodb_url: str, redis_url: str, db_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """A `tandem worker` for the server's jobs; what it logs (account emails included)."""
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    with tandem_worker(
        mongodb_url=mongodb_url, redis_url=redis_url, db_name=db_name, log_path=log_path
    ):
        yield log_path


async def mailed_link(log_path: Path, to: str, route: str, server: str) -> str:
    """The link of `route` in the last account email to `to` the worker logged, on `server`
    (the emails name the configured public URL; the test server has another port)."""
    pattern = re.compile(rf"to={re.escape(to)} .*?https?://\S+?(/app/#/{route}\S*)", re.S)
    for _ in range(100):
        found = pattern.findall(await asyncio.to_thread(log_path.read_text, errors="replace"))
        if found:
            return server + str(found[-1])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {route} email to {to} in the worker's log")


async def fresh(browser: Browser, viewport: dict[str, int]) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    return context, await context.new_page()


async def shot(page: Page, name: str) -> None:
    """A picture of the screen in the test artifacts; with `TANDEM_UPDATE_TOUR=1` it also
    refreshes the README's."""
    where = Path(os.environ.get("TANDEM_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    await asyncio.to_thread(where.mkdir, parents=True, exist_ok=True)
    await screenshot(page, where, f"{name}.png")


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width  # type: ignore[index]


async def in_app(page: Page) -> None:
    """Logged in: the conversation list is there (on a phone the navigation is in a menu)."""
    await expect(page.get_by_role("region", name="Tickets")).to_be_visible()


async def sign_up_in_browser(page: Page, url: str, company: str, email: str) -> str:
    await page.goto(url + "/signup")
    await expect(page.get_by_role("heading", name="Create your workspace")).to_be_visible()
    await page.get_by_label("Company or team name").fill(company)
    address = await page.get_by_label("Workspace address").input_value()
    await page.get_by_label("Your name").fill("Olivia Owner")
    await page.get_by_label("Your work email").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Create workspace").click()
    await in_app(page)
    return address


async def test_a_first_visit_shows_a_plain_login_with_the_way_to_sign_up(
    tandem_url: str, browser: Browser
) -> None:
    for viewport, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        context, page = await fresh(browser, viewport)
        try:
            await page.goto(tandem_url + "/app/")
            await expect(page.get_by_role("button", name="Log in")).to_be_visible()
            # Nobody was logged in: no "session has ended" alert.
            assert await page.locator("#login-error").text_content() == ""
            await expect(page.get_by_text("Your session has ended")).to_have_count(0)
            await expect(
                page.get_by_role("link", name="New here? Create a workspace")
            ).to_be_visible()
            await expect(page.get_by_role("link", name="Forgot your workspace?")).to_be_visible()
            await no_sideways_scroll(page)
            assert await audit(page) == [], "login"
            await shot(page, f"login-{suffix}")
        finally:
            await context.close()


async def test_an_owner_signs_up_and_is_guided_from_the_empty_inbox(
    tandem_url: str, browser: Browser, worker_log: Path
) -> None:
    for viewport, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        context, page = await fresh(browser, viewport)
        try:
            tag = uuid.uuid4().hex[:6]
            email = f"olivia-{tag}@acme.example"
            address = await sign_up_in_browser(page, tandem_url, f"Acme Support {tag}", email)
            assert address == f"acme-support-{tag}"
            # The workspace's address is in the top bar, for anyone who needs it later.
            await expect(page.locator("#workspace-slug")).to_contain_text(address)
            guide = page.get_by_role("region", name="No conversations yet")
            await expect(guide).to_be_visible()
            for step in ("Put the chat widget on your website", "Connect your support email",
                         "Invite your team"):  # fmt: skip
                await expect(guide.get_by_role("link", name=step)).to_be_visible()
            await no_sideways_scroll(page)
            assert await audit(page) == [], "empty inbox"
            await shot(page, f"empty-inbox-{suffix}")
            # The new owner is asked to confirm the address; the link works once.
            link = await mailed_link(worker_log, email, "verify", tandem_url)
            await page.goto(link)
            await expect(page.get_by_text(f"{email} is confirmed")).to_be_visible()
            await page.goto(tandem_url + "/app/#/profile")
            await expect(page.locator("#profile-email")).to_contain_text("confirmed")
            await expect(page.locator("#profile-email")).not_to_contain_text("not confirmed")
        finally:
            await context.close()


async def test_a_name_typed_for_the_workspace_logs_in_and_a_wrong_one_says_so_plainly(
    tandem_url: str, browser: Browser
) -> None:
    tag = uuid.uuid4().hex[:6]
    context, page = await fresh(browser, DESKTOP)
    email = f"olivia-{tag}@acme.example"
    try:
        await sign_up_in_browser(page, tandem_url, f"Acme Support {tag}", email)
        await page.get_by_role("button", name="Log out").click()
        await expect(page.get_by_role("button", name="Log in")).to_be_visible()
        await page.get_by_label("Workspace").fill("No Such Team")
        await page.get_by_label("Email").fill(email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page.locator("#login-error")).to_have_text(
            "Wrong workspace, email or password."
        )
        await expect(page.get_by_text("regex")).to_have_count(0)
        await page.get_by_label("Workspace").fill(f"Acme Support {tag}")  # its name, as typed
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await in_app(page)
    finally:
        await context.close()


async def test_an_invited_agent_joins_and_logs_back_in_without_being_told_the_address(
    tandem_url: str, browser: Browser, worker_log: Path
) -> None:
    owner = await sign_up(tandem_url)
    agent_email = f"bo-{uuid.uuid4().hex[:6]}@agents.example"
    invited = await owner.post(
        "/invitations", json={"email": agent_email, "name": "Bo Agent", "role": "agent"}
    )
    assert invited.status_code == 201, invited.text
    link = tandem_url + "/app/" + invited.json()["accept_url"].split("/app/", 1)[1]
    for viewport, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        context, page = await fresh(browser, viewport)
        try:
            if suffix == "desktop":
                await page.goto(link)
                await expect(
                    page.get_by_role("heading", name=f"Join Workspace {owner.workspace_slug}")
                ).to_be_visible()
                await expect(page.get_by_text(f"“{owner.workspace_slug}”")).to_be_visible()
                assert await audit(page) == [], "accept"
                await shot(page, f"accept-{suffix}")
                await page.get_by_label("Password").fill(PASSWORD)
                await page.get_by_role("button", name="Join the workspace").click()
                await in_app(page)
                # Logged out, this browser remembers where: only the password is asked.
                await page.get_by_role("button", name="Log out").click()
                await expect(page.get_by_label("Workspace")).to_have_value(owner.workspace_slug)
                await expect(page.get_by_label("Email")).to_have_value(agent_email)
                await page.get_by_label("Password").fill(PASSWORD)
                await page.get_by_role("button", name="Log in").click()
                await in_app(page)
            else:
                # Another device remembers nothing: "Forgot your workspace?" emails the list.
                await page.goto(tandem_url + "/app/")
                await page.get_by_role("link", name="Forgot your workspace?").click()
                await page.get_by_label("Email").fill(agent_email)
                await page.get_by_role("button", name="Email me my workspaces").click()
                await expect(page.locator("#find-notice")).to_contain_text("We sent")
                await no_sideways_scroll(page)
                await shot(page, f"find-workspace-{suffix}")
                login = await mailed_link(worker_log, agent_email, "login", tandem_url)
                await page.goto(login)
                await expect(page.get_by_label("Workspace")).to_have_value(owner.workspace_slug)
                await page.get_by_label("Email").fill(agent_email)
                await page.get_by_label("Password").fill(PASSWORD)
                await page.get_by_role("button", name="Log in").click()
                await in_app(page)
                await expect(page.locator("#workspace-slug")).to_contain_text(owner.workspace_slug)
        finally:
            await context.close()
    await owner.aclose()


async def test_a_forgotten_password_is_reset_from_the_emailed_link(
    tandem_url: str, browser: Browser, worker_log: Path
) -> None:
    owner = await sign_up(tandem_url)
    email = f"owner@{owner.workspace_slug}.example"
    context, page = await fresh(browser, PHONE)
    try:
        await page.goto(tandem_url + "/app/#/reset")
        await page.get_by_label("Workspace").fill(owner.workspace_slug)
        await page.get_by_label("Email").fill(email)
        await page.get_by_role("button", name="Email me a link").click()
        await expect(page.locator("#reset-notice")).to_contain_text("a reset link is on its way")
        link = await mailed_link(worker_log, email, "reset", tandem_url)
        await page.goto(link)
        await page.get_by_label("New password", exact=True).fill("brand new passphrase")
        await shot(page, "reset-phone")
        await page.get_by_role("button", name="Save and log in").click()
        await in_app(page)
        # The old session (the API client's) has ended; the link is spent.
        assert (await owner.get("/me")).status_code == 401
        await page.goto(link)
        await page.get_by_label("New password", exact=True).fill("another passphrase!")
        await page.get_by_role("button", name="Save and log in").click()
        await expect(page.locator("#reset-confirm-error")).to_contain_text(
            "unknown, used or expired"
        )
    finally:
        await context.close()
        await owner.aclose()


async def test_the_profile_renames_me_everywhere(tandem_url: str, browser: Browser) -> None:
    owner = await sign_up(tandem_url)
    context, page = await fresh(browser, DESKTOP)
    try:
        await page.goto(tandem_url + "/app/")
        await page.get_by_label("Workspace").fill(owner.workspace_slug)
        await page.get_by_label("Email").fill(f"owner@{owner.workspace_slug}.example")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.get_by_role("link", name="Profile").click()
        await expect(page.get_by_label("Name")).to_have_value("Olivia Owner")
        await page.get_by_label("Name").fill("Olivia Ramos")
        await page.get_by_label("Language").select_option("es")
        await page.get_by_role("button", name="Save").click()
        await expect(page.locator("#profile-status")).to_have_text("Saved.")
        await expect(page.locator(".me")).to_contain_text("Olivia Ramos")
        # A picture: judged by its bytes, shown in the profile and the top bar.
        await page.get_by_label("Choose a picture").set_input_files(
            files=[{"name": "me.png", "mimeType": "image/png", "buffer": PNG_PIXEL}]
        )
        await expect(page.locator("#profile-avatar img")).to_be_visible()
        await expect(page.locator(".me img.avatar")).to_have_count(1)
        await page.get_by_label("Choose a picture").set_input_files(
            files=[{"name": "me.png", "mimeType": "image/png", "buffer": b"<svg/>"}]
        )
        await expect(page.locator("#profile-picture-error")).to_contain_text(
            "PNG, JPEG, GIF or WebP"
        )
        # Notifications are set here too: the sound stays on in this browser.
        await page.locator("#profile-notify-sound").check()
        assert await page.evaluate("localStorage.getItem('tandem.sound')") == "on"
        profile = (await owner.get("/me/profile")).json()
        assert (profile["name"], profile["language"]) == ("Olivia Ramos", "es")
        await expect(page.get_by_role("link", name="Perfil")).to_be_visible()  # at once
        await page.locator("#profile-language").select_option("en")
        await page.locator("#profile-details-title ~ button[type=submit]").click()
        await expect(page.get_by_role("link", name="Profile")).to_be_visible()
        assert await audit(page) == [], "profile"
        await shot(page, "profile-desktop")
    finally:
        await context.close()
        await owner.aclose()


async def test_the_app_speaks_the_browsers_language_then_the_profiles(
    tandem_url: str, browser: Browser
) -> None:
    owner = await sign_up(tandem_url)
    context = await browser.new_context(viewport=DESKTOP, locale="de-DE")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await page.goto(tandem_url + "/app/")
        await expect(page.get_by_role("button", name="Anmelden")).to_be_visible()
        await expect(page.get_by_role("link", name="Passwort vergessen?")).to_be_visible()
        assert await page.evaluate("document.documentElement.lang") == "de"
        await page.get_by_label("Arbeitsbereich").fill(owner.workspace_slug)
        await page.get_by_label("E-Mail").fill(f"owner@{owner.workspace_slug}.example")
        await page.get_by_label("Passwort").fill(PASSWORD)
        await page.get_by_role("button", name="Anmelden").click()
        await in_app(page)
        changed = await owner.patch("/me/profile", json={"language": "es"})
        assert changed.status_code == 200
        await page.goto(tandem_url + "/app/#/profile")
        await page.reload()
        await expect(page.get_by_role("heading", name="Perfil")).to_be_visible()
        assert await page.evaluate("document.documentElement.lang") == "es"
    finally:
        await context.close()
        await owner.aclose()


async def test_an_agent_asking_for_settings_is_told_where_their_own_are(
    tandem_url: str, browser: Browser
) -> None:
    owner = await sign_up(tandem_url)
    agent = await invite_and_join(owner, tandem_url, "Bo Agent")
    context, page = await log_in(browser, tandem_url, owner.workspace_slug, email_of(owner, "bo"))
    try:
        await page.goto(tandem_url + "/app/#/settings")
        await expect(page.locator("#settings-refused")).to_contain_text(
            "Workspace settings are for its admins and owner"
        )
        await expect(page.get_by_role("region", name="Tickets")).to_be_hidden()
        await page.get_by_role("link", name="Open your profile").click()
        await expect(page.get_by_label("Name")).to_have_value("Bo Agent")
    finally:
        await context.close()
        for client in (owner, agent):
            await client.aclose()


async def log_out(page: Page) -> None:
    menu = page.get_by_role("button", name="Menu")
    if await menu.is_visible():  # on a phone the header is folded into a menu
        await menu.click()
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_a_new_team_starts_from_the_browser_alone(
    tandem_url: str, browser: Browser, host_site: HostSite, viewport: dict[str, int]
) -> None:
    """Sign up, put the widget on the shop's site from the snippet the settings screen shows,
    invite an agent whose link works, and the agent logs out and back in — no `curl`, and
    nobody tells the agent the workspace's address."""
    tag = uuid.uuid4().hex[:6]
    context, page = await fresh(browser, viewport)
    agent_context, agent = await fresh(browser, viewport)
    try:
        slug = await sign_up_in_browser(
            page, tandem_url, f"Corner Shop {tag}", f"owner-{tag}@shop.example"
        )
        await page.goto(f"{tandem_url}/app/#/settings/widget")
        await page.get_by_label("Site address (origin)").fill(host_site.url)
        await page.get_by_role("button", name="Add origin").click()
        await expect(page.get_by_text(host_site.url, exact=True).first).to_be_visible()
        snippet = await page.get_by_label("Install snippet", exact=True).input_value()
        assert tandem_url in snippet
        shop_page = await context.new_page()
        await shop_page.goto(
            host_site.page(f"shop-{tag}.html", f"<!doctype html><h1>Corner shop</h1>{snippet}")
        )
        await expect(shop_page.get_by_role("button", name="Open chat")).to_be_visible()
        await shop_page.close()

        await page.goto(f"{tandem_url}/app/#/settings/members")
        await page.get_by_label("Name", exact=True).fill("Bo Agent")
        await page.get_by_label("Email", exact=True).fill(f"bo-{tag}@shop.example")
        await page.get_by_role("button", name="Create invitation").click()
        link = await page.get_by_label("Invitation link", exact=True).input_value()
        invite = page.get_by_role("main", name="Settings")
        await expect(invite.get_by_text(slug).first).to_be_visible()  # the address, on it
        await no_sideways_scroll(page)

        await agent.goto(link)
        await agent.get_by_label("Password").fill(PASSWORD)
        await agent.get_by_role("button", name="Join the workspace").click()
        await in_app(agent)
        await log_out(agent)
        await expect(agent.get_by_label("Workspace")).to_have_value(slug)
        await agent.get_by_label("Password").fill(PASSWORD)
        await agent.get_by_role("button", name="Log in").click()
        await in_app(agent)
        # The address is in the top bar, or on a phone in the menu.
        menu = agent.get_by_role("button", name="Menu")
        if await menu.is_visible():
            await menu.click()
            await expect(agent.locator("#menu-workspace")).to_have_text(
                f"Workspace address: {slug}"
            )
        else:
            await expect(agent.locator("#workspace-slug")).to_contain_text(slug)
        await no_sideways_scroll(agent)
    finally:
        await context.close()
        await agent_context.close()
