"""The agent app in the profile's language: after login the navigation, the ticket list and the
ticket's controls speak it, whatever the browser's language was on the login form; a new
language in the profile shows on the next load. Real Chromium, a real Tandem process."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Browser, Page, expect

from tests.apiclient import PASSWORD, sign_up

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 800}


async def expect_list_header(page: Page, title: str, shown: str) -> None:
    await expect(page.locator("#list-title")).to_have_text(title)
    await expect(page.locator(".list-head .muted")).to_have_text(shown)


async def test_the_app_speaks_the_profiles_language_after_login(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    created = await owner.post(
        "/tickets",
        json={
            "subject": "Parcel late",
            "contact": {"email": f"{uuid.uuid4().hex[:8]}@customer.example", "name": "Carla"},
            "message": {"text": "Where is my parcel?"},
        },
    )
    assert created.status_code == 201, created.text
    changed = await owner.patch("/me/profile", json={"language": "de"})
    assert changed.status_code == 200, changed.text
    context = await browser.new_context(viewport=VIEWPORT, locale="en-US")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        # The login form is in the browser's language: nobody is known yet.
        await page.goto(tandem_url + "/app/")
        await page.get_by_label("Workspace").fill(owner.workspace_slug)
        await page.get_by_label("Email").fill(f"owner@{owner.workspace_slug}.example")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()

        # Logged in, the app speaks the profile's German.
        nav = page.get_by_role("navigation", name="Hauptnavigation")
        for name in ("Posteingang", "Dashboard", "Textbausteine", "Wissensdatenbank"):
            await expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
        for name in ("Kanäle", "Erwähnungen", "Einstellungen", "Profil"):
            await expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
        await expect(nav.get_by_role("link", name="Inbox")).to_have_count(0)
        assert await page.evaluate("document.documentElement.lang") == "de"
        # Longer words still fit the bar: Log out stays on screen, the page never widens.
        logout = page.get_by_role("button", name="Abmelden")
        box = await logout.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= VIEWPORT["width"], box
        assert await page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]
        await expect_list_header(page, "Alle", "1 angezeigt")
        await expect(page.get_by_role("searchbox", name="Tickets suchen")).to_have_attribute(
            "placeholder", "Betreff oder #Nummer suchen"
        )
        await expect(page.locator("#ticket-sort option:checked")).to_have_text("Neueste zuerst")
        await expect(page.locator("#view-mine")).to_contain_text("Meine")
        await expect(page.locator("label[for=filter-tag]")).to_have_text("Schlagwort")
        await expect(page.locator("label[for=filter-channel]")).to_have_text("Kanal")
        await expect(page.locator(".select-all")).to_have_text("Alle 1 angezeigten auswählen")
        row = page.locator(".ticket-row", has_text="Parcel late")
        await expect(row.locator(".badge")).to_have_text("offen")
        await expect(row.locator(".assignee")).to_have_text("Nicht zugewiesen")

        # The ticket's controls and the composer too.
        await row.get_by_role("link").click()
        await expect(page.locator("label[for=ticket-priority]")).to_have_text("Priorität")
        await expect(page.locator("label[for=ticket-assignee]")).to_have_text("Zuständig")
        await expect(page.locator("#ticket-status option:checked")).to_have_text("offen")
        await expect(page.locator("label[for=kind-message]")).to_have_text(
            re.compile(r"^\s*Antworten$")
        )
        await expect(page.locator("label[for=kind-note]")).to_have_text(
            re.compile(r"^\s*Private Notiz$")
        )
        await expect(page.locator("#composer-send")).to_have_text("Antwort senden")

        # Settings name their sections in German.
        await nav.get_by_role("link", name="Einstellungen").click()
        menu = page.get_by_role("navigation", name="Einstellungsbereiche")
        for name in ("Mitglieder", "Teams", "Zeiten und Zeitzone", "API-Tokens", "Audit-Protokoll"):
            await expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()

        # French in the profile: the next load of the app is in French.
        changed = await owner.patch("/me/profile", json={"language": "fr"})
        assert changed.status_code == 200, changed.text
        await page.goto(tandem_url + "/app/#/inbox")
        await page.reload()
        nav = page.get_by_role("navigation", name="Navigation principale")
        await expect(nav.get_by_role("link", name="Boîte de réception")).to_be_visible()
        for name in ("Tableau de bord", "Réponses types", "Paramètres", "Profil"):
            await expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
        assert await page.evaluate("document.documentElement.lang") == "fr"
        await expect_list_header(page, "Tous", "1 affichés")
        await expect(page.get_by_role("searchbox", name="Rechercher des tickets")).to_be_visible()
        await expect(page.locator("#view-unassigned")).to_contain_text("Non attribué")
        badge = page.locator(".ticket-row", has_text="Parcel late").locator(".badge")
        await expect(badge).to_have_text(re.compile(r"^ouvert$"))
    finally:
        await context.close()
        await owner.aclose()
