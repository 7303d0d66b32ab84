"""Where I am signed in, from the profile: a phone left logged in is signed out from the
laptop, and that phone's open app is sent to the login page within seconds, without a reload;
"Log out everywhere" does the same to every browser, this one included."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.apiclient import sign_up
from tests.browser.test_accessibility import audit
from tests.browser.test_inbox_browser import email_of, log_in, screenshot

pytestmark = pytest.mark.browser
ENDED = "Your session has ended"


async def test_a_session_signed_out_from_the_profile_leaves_that_browser_at_once(
    browser: Browser, tandem_url: str, artifacts_dir: Path
) -> None:
    owner = await sign_up(tandem_url)
    email = email_of(owner, "owner")
    laptop_context, laptop = await log_in(browser, tandem_url, owner.workspace_slug, email)
    phone_context, phone = await log_in(
        browser,
        tandem_url,
        owner.workspace_slug,
        email,
        user_agent="Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile",
    )
    try:
        await laptop.goto(tandem_url + "/app/#/profile")
        rows = laptop.locator("#profile-sessions .session-row")
        # The two just made, and the one the sign-up started.
        await expect(rows).to_have_count(3)
        await expect(laptop.locator('.session-row[data-current="true"]')).to_contain_text(
            "This browser"
        )
        phone_row = laptop.locator(".session-row", has_text="Chrome on Android")
        await expect(phone_row).to_be_visible()
        assert await audit(laptop) == [], "sessions card"
        await laptop.locator("#profile-sessions").scroll_into_view_if_needed()
        await screenshot(laptop, artifacts_dir, "profile-sessions.png")
        await phone_row.get_by_role("button", name="Sign out").click()
        await laptop.get_by_role("button", name="Yes, sign out").click()
        await expect(rows).to_have_count(2)

        # The phone's app learns it over its socket: the login page, no reload needed.
        await expect(phone.get_by_role("button", name="Log in")).to_be_visible(timeout=5000)
        await expect(phone.get_by_text(ENDED)).to_be_visible()

        await laptop.get_by_role("button", name="Log out everywhere").click()
        await expect(laptop.get_by_role("button", name="Log in")).to_be_visible(timeout=5000)
        assert (await owner.get("/me")).status_code == 401  # the sign-up's session too
    finally:
        await laptop_context.close()
        await phone_context.close()
        await owner.aclose()
