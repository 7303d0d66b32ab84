"""Settings → Export and cancel in real Chromium: the owner downloads the workspace, cancels it
with their password, sees when its data goes, and restores it."""

from __future__ import annotations

import json
import zipfile

import pytest
from playwright.async_api import Browser, expect

from tests.apiclient import PASSWORD, sign_up
from tests.browser.test_accessibility import audit
from tests.browser.test_settings_browser import log_in, open_section

pytestmark = pytest.mark.browser


async def test_the_owner_exports_cancels_and_restores_from_settings(
    browser: Browser, tandem_url: str
) -> None:
    owner = await sign_up(tandem_url)
    ticket = await owner.post("/tickets", json={"subject": "Keep me"})
    assert ticket.status_code == 201, ticket.text
    context, page = await log_in(browser, tandem_url, owner)
    try:
        await page.get_by_role("link", name="Settings").click()
        await open_section(page, "workspace", "Export and cancel")
        assert await audit(page) == [], "export and cancel"

        async with page.expect_download() as download:
            await page.get_by_role("link", name="Export workspace").click()
        path = await (await download.value).path()
        archive = zipfile.ZipFile(path)
        subjects = [t["subject"] for t in json.loads(archive.read("tickets.json"))]
        assert subjects == ["Keep me"]

        # A wrong password cancels nothing and says so.
        await page.get_by_role("button", name="Cancel workspace").click()
        await page.get_by_label("Your password").fill("not my password")
        await page.get_by_role("button", name="Yes, cancel the workspace").click()
        await expect(page.locator("#lifecycle-error")).to_have_text("That password is not right.")

        await page.get_by_label("Your password").fill(PASSWORD)
        await page.get_by_role("button", name="Yes, cancel the workspace").click()
        banner = page.locator("#lifecycle-cancelled")
        await expect(banner).to_contain_text("This workspace is cancelled and read-only.")
        await expect(banner).to_contain_text("Its data will be deleted after")
        assert (await owner.get("/workspace/lifecycle")).json()["status"] == "cancelled"
        assert await audit(page) == [], "cancelled"

        await page.get_by_role("button", name="Restore workspace").click()
        await expect(page.locator("#settings-status")).to_have_text(
            "Workspace restored: everything works again."
        )
        await expect(banner).to_have_count(0)
        await expect(page.get_by_role("button", name="Cancel workspace")).to_be_visible()
        assert (await owner.get("/workspace/lifecycle")).json()["status"] == "active"
    finally:
        await context.close()
        await owner.aclose()
