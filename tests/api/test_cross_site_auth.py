"""Another site cannot log a visitor in or out through their browser: login, logout and the
account forms refuse a foreign Origin and a login that is not JSON (a cross-site form's
`text/plain` post); Tandem's own pages and programs without an Origin go on working."""

from __future__ import annotations

import json

from starlette.applications import Starlette

from tests.apiclient import PASSWORD, new_client, sign_up

EVIL = {"Origin": "https://evil.example"}


async def test_a_cross_site_login_or_logout_is_refused(app: Starlette) -> None:
    owner = await sign_up(app)
    login = {
        "workspace": owner.workspace_slug,
        "email": f"owner@{owner.workspace_slug}.example",
        "password": PASSWORD,
    }
    forged = new_client(app)
    as_form = await forged.http.post(
        "/api/v1/auth/login",
        content=json.dumps(login),
        headers={**EVIL, "Content-Type": "text/plain"},
    )
    assert as_form.status_code == 403
    assert as_form.json()["error"]["code"] == "cross_site_request"
    assert "tandem_session" not in as_form.headers.get("set-cookie", "")
    plain = await forged.http.post(
        "/api/v1/auth/login", content=json.dumps(login), headers={"Content-Type": "text/plain"}
    )
    assert plain.status_code == 415  # no Origin, but not JSON either
    ours = await forged.post("/auth/login", json=login, headers={"Origin": "http://testserver"})
    assert ours.status_code == 200, ours.text

    # A forced logout from another site leaves the session alone.
    out = await owner.post("/auth/logout", headers=EVIL)
    assert out.status_code == 403
    assert (await owner.get("/me")).status_code == 200
    assert (
        await owner.post("/auth/logout", headers={"Origin": "http://testserver"})
    ).status_code == 204
    for client in (owner, forged):
        await client.aclose()


async def test_account_forms_refuse_other_sites_too(app: Starlette) -> None:
    visitor = new_client(app)
    for path, body in (
        ("/auth/password-reset", {"workspace": "acme", "email": "a@b.example"}),
        ("/auth/find-workspaces", {"email": "a@b.example"}),
        ("/auth/signup", {"workspace_name": "X", "workspace_slug": "xx-evil", "name": "E",
                          "email": "e@evil.example", "password": "long enough pass"}),
    ):  # fmt: skip
        refused = await visitor.post(path, json=body, headers=EVIL)
        assert refused.status_code == 403, (path, refused.text)
    await visitor.aclose()
