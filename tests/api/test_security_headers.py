"""Security headers: the agent app cannot be framed and runs only its own scripts; API answers
are never rendered or framed; the widget's script may be embedded by customers' sites; HSTS
once Tandem is served over https."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from app.api.security_headers import headers_for
from tests.apiclient import new_client, running_app, sign_up
from tests.apiclient import test_settings as settings_for


async def test_the_app_the_api_and_the_widget_script_carry_their_headers(app: Starlette) -> None:
    owner = await sign_up(app)
    page = await owner.http.get("/app/")
    csp = page.headers["content-security-policy"]
    for rule in ("script-src 'self'", "frame-ancestors 'none'", "object-src 'none'",
                 "connect-src 'self'", "base-uri 'none'"):  # fmt: skip
        assert rule in csp, rule
    assert "'unsafe-eval'" not in csp
    assert "script-src 'self';" in csp  # no inline script
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    script = await owner.http.get("/app/main.js")
    assert script.headers["content-security-policy"] == csp
    api = await owner.get("/me")
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["referrer-policy"] == "no-referrer"
    refused = await new_client(app).get("/me")  # errors too
    assert refused.status_code == 401
    assert refused.headers["x-content-type-options"] == "nosniff"
    widget = await owner.http.get("/widget.js")
    assert widget.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "x-frame-options" not in widget.headers
    # The help center keeps its own stricter policy (no scripts at all).
    help_page = await owner.http.get(f"/help/{owner.workspace_slug}")
    assert help_page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "strict-transport-security" not in page.headers  # plain http here
    await owner.aclose()


@pytest.fixture
async def https_app(mongodb_url: str, redis_url: str, db_name: str) -> AsyncIterator[Starlette]:
    settings = settings_for(mongodb_url, redis_url, db_name, public_url="https://inbox.example.com")
    async with running_app(settings) as started:
        yield started


async def test_behind_https_browsers_are_told_to_stay_on_it(https_app: Starlette) -> None:
    answer = await new_client(https_app).get("/auth/options")
    assert answer.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert headers_for("/app/", https=False).get("Strict-Transport-Security") is None
