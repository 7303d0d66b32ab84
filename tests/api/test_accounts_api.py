"""A person's own account: logging in with the workspace's name, resetting a password,
confirming an address, finding one's workspaces, and the profile — with the emails going
out through a local server that speaks Postmark's API, or to the log when there is none."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette

from app.jobs import JobQueue
from app.mail.send import send_account_mail
from app.worker import handlers
from tests.apiclient import (
    PASSWORD,
    AgentClient,
    invite_and_join,
    new_client,
    runtime_of,
    sign_up,
)
from tests.channels.fake_postmark import FakePostmark, fake_postmark
from tests.jobs.helpers import consuming, eventually, fast_config

NEW_PASSWORD = "a-much-better-passphrase"


@pytest.fixture(scope="module")
def postmark() -> Iterator[FakePostmark]:
    with fake_postmark() as fake:
        yield fake


@asynccontextmanager
async def mail_worker(app: Starlette, postmark: FakePostmark) -> AsyncIterator[None]:
    """A worker for the app's jobs whose account emails go to the local Postmark."""
    runtime = runtime_of(app)
    settings = replace(
        runtime.settings,
        postmark_api_url=postmark.url,
        mail_postmark_token="server-token",
        mail_from="Tandem <accounts@tandem.example>",
    )
    queue = JobQueue(runtime.redis, fast_config(prefix="tandem"))
    async with (
        httpx.AsyncClient() as http,
        consuming(queue, handlers(runtime.deps, http, settings), consumer="mail"),
    ):
        yield


async def mail_to(postmark: FakePostmark, address: str, subject_has: str) -> dict:
    async def arrived() -> bool:
        return any(m["To"] == address and subject_has in m["Subject"] for m in postmark.sent)

    await eventually(arrived, 10)
    return [m for m in postmark.sent if m["To"] == address and subject_has in m["Subject"]][-1]


def link_in(mail: dict, route: str) -> str:
    found = re.search(rf"/app/#/{route}/([A-Za-z0-9_-]+)", mail["TextBody"])
    assert found, mail["TextBody"]
    return found.group(1)


def email_of(client: AgentClient) -> str:
    return f"owner@{client.workspace_slug}.example"


async def test_the_workspace_may_be_typed_as_its_name(app: Starlette) -> None:
    owner = await sign_up(app)
    visitor = new_client(app)
    spelled = owner.workspace_slug.replace("-", " ").upper()  # "WS 1A2B…" for "ws-1a2b…"
    answer = await visitor.post(
        "/auth/login",
        json={"workspace": spelled, "email": email_of(owner), "password": PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    wrong = await visitor.post(
        "/auth/login",
        json={"workspace": "Not A Workspace!!", "email": email_of(owner), "password": PASSWORD},
    )
    assert wrong.status_code == 401
    assert "regex" not in wrong.text
    assert wrong.json()["error"]["message"] == "wrong workspace, email or password"
    for client in (owner, visitor):
        await client.aclose()


async def test_a_forgotten_password_is_reset_by_email_once(
    app: Starlette, postmark: FakePostmark
) -> None:
    owner = await sign_up(app)
    stranger = new_client(app)
    async with mail_worker(app, postmark):
        asked = await stranger.post(
            "/auth/password-reset",
            json={"workspace": owner.workspace_slug, "email": email_of(owner)},
        )
        assert asked.status_code == 202, asked.text
        unknown = await stranger.post(
            "/auth/password-reset",
            json={"workspace": owner.workspace_slug, "email": "nobody@else.example"},
        )
        assert unknown.status_code == 202
        assert unknown.json()["message"].startswith("If nobody@else.example has an account")
        mail = await mail_to(postmark, email_of(owner), "Reset your Tandem password")
    assert mail["From"] == "Tandem <accounts@tandem.example>"
    assert not [m for m in postmark.sent if m["To"] == "nobody@else.example"]
    token = link_in(mail, "reset")

    weak = await stranger.post(
        "/auth/password-reset/confirm", json={"token": token, "password": "short"}
    )
    assert weak.status_code == 422  # refused before the link is used up
    done = await stranger.post(
        "/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    stranger.adopt_session(done)
    assert (await stranger.get("/me")).json()["email"] == email_of(owner)
    # The session from before the reset has ended; the link works once.
    assert (await owner.get("/me")).status_code == 401
    again = await stranger.post(
        "/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD + "!"}
    )
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "link_invalid"
    fresh = new_client(app)
    login = {"workspace": owner.workspace_slug, "email": email_of(owner)}
    assert (
        await fresh.post("/auth/login", json={**login, "password": PASSWORD})
    ).status_code == 401
    assert (
        await fresh.post("/auth/login", json={**login, "password": NEW_PASSWORD})
    ).status_code == 200
    for client in (owner, stranger, fresh):
        await client.aclose()


async def test_a_new_owner_confirms_their_address(app: Starlette, postmark: FakePostmark) -> None:
    async with mail_worker(app, postmark):
        owner = await sign_up(app)
        mail = await mail_to(postmark, email_of(owner), "Confirm your email address")
    assert (await owner.get("/me/profile")).json()["email_verified"] is False
    confirmed = await new_client(app).post(
        "/auth/verify-email", json={"token": link_in(mail, "verify")}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert (await owner.get("/me/profile")).json()["email_verified"] is True
    await owner.aclose()


async def test_a_person_is_emailed_every_workspace_they_belong_to(
    app: Starlette, postmark: FakePostmark
) -> None:
    first = await sign_up(app)
    address = email_of(first)
    second = await sign_up(app)
    invited = await second.post(
        "/invitations", json={"email": address, "name": "Olga", "role": "agent"}
    )
    joiner = new_client(app)
    token = invited.json()["token"]
    joiner.adopt_session(
        await joiner.post("/invitations/accept", json={"token": token, "password": PASSWORD})
    )
    async with mail_worker(app, postmark):
        asked = await new_client(app).post("/auth/find-workspaces", json={"email": address})
        assert asked.status_code == 202
        mail = await mail_to(postmark, address, "Your Tandem workspaces")
    for slug in (first.workspace_slug, second.workspace_slug):
        assert f"address: {slug}" in mail["TextBody"]
        assert f"/app/#/login?workspace={slug}" in mail["TextBody"]
    for client in (first, second, joiner):
        await client.aclose()


async def test_without_a_mail_provider_account_emails_go_to_the_log(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    owner = await sign_up(app)
    settings = runtime_of(app).settings  # no mail provider in the test settings
    with caplog.at_level(logging.WARNING, logger="tandem.mail"):
        async with httpx.AsyncClient() as http:
            how = await send_account_mail(
                http,
                settings,
                {"to": email_of(owner), "subject": "Your Tandem workspaces", "text": "a list"},
            )
    assert how == "log"
    assert "log-only mailer" in caplog.text
    assert "a list" in caplog.text
    options = (await new_client(app).get("/auth/options")).json()
    assert options == {"signup_enabled": True, "mailer": "log"}
    await owner.aclose()


async def test_asking_for_account_emails_is_limited(app: Starlette) -> None:
    visitor = new_client(app)
    body = {"email": "flooded@victim.example"}
    answers = [
        (await visitor.post("/auth/find-workspaces", json=body)).status_code for _ in range(6)
    ]
    assert answers == [202] * 5 + [429]
    await visitor.aclose()


async def test_the_profile_changes_name_language_and_password(app: Starlette) -> None:
    owner = await sign_up(app)
    changed = await owner.patch("/me/profile", json={"name": "Ana Owner", "language": "es"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Ana Owner"
    assert changed.json()["language"] == "es"
    assert (await owner.get("/me")).json()["name"] == "Ana Owner"
    bad = await owner.patch("/me/profile", json={"language": "xx"})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"] == {"field": "language"}

    other_tab = new_client(app)
    login = {"workspace": owner.workspace_slug, "email": email_of(owner), "password": PASSWORD}
    assert (await other_tab.post("/auth/login", json=login)).status_code == 200
    wrong = await owner.post(
        "/me/password", json={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "wrong_password"
    right = await owner.post(
        "/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert right.status_code == 200, right.text
    owner.adopt_session(right)
    assert (await owner.get("/me")).status_code == 200  # this tab goes on
    assert (await other_tab.get("/me")).status_code == 401  # the others end
    for client in (owner, other_tab):
        await client.aclose()


async def test_an_invitation_shows_where_it_leads_before_joining(app: Starlette) -> None:
    owner = await sign_up(app)
    invited = await owner.post(
        "/invitations", json={"email": "bo@agents.example", "name": "Bo", "role": "agent"}
    )
    token = invited.json()["token"]
    visitor = new_client(app)
    preview = await visitor.get("/invitations/preview", params={"token": token})
    assert preview.status_code == 200, preview.text
    assert preview.json() == {
        "workspace_name": f"Workspace {owner.workspace_slug}",
        "workspace_slug": owner.workspace_slug,
        "email": "bo@agents.example",
        "name": "Bo",
        "role": "agent",
    }
    await visitor.post("/invitations/accept", json={"token": token, "password": PASSWORD})
    used = await visitor.get("/invitations/preview", params={"token": token})
    assert used.status_code == 404
    assert used.json()["error"]["code"] == "invitation_invalid"
    for client in (owner, visitor):
        await client.aclose()


PNG_PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a9e1a40000000049454e44ae426082"
)


async def test_a_picture_is_set_seen_by_teammates_only_and_removed(app: Starlette) -> None:
    owner = await sign_up(app)
    teammate = await invite_and_join(owner, app, "Bo Agent")
    svg = await owner.put(
        "/me/avatar",
        content=b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        headers={"Content-Type": "image/png"},
    )
    assert svg.status_code == 415  # judged by its bytes, not its label
    huge = await owner.put("/me/avatar", content=PNG_PIXEL + b"\0" * (1024 * 1024))
    assert huge.status_code == 413
    kept = await owner.put("/me/avatar", content=PNG_PIXEL, headers={"Content-Type": "image/png"})
    assert kept.status_code == 200, kept.text
    url = kept.json()["avatar_url"]
    assert url.startswith(f"/api/v1/users/{owner.user_id}/avatar?v=")
    assert (await owner.get("/me")).json()["avatar_url"] == url
    seen = await teammate.http.get(url)
    assert seen.status_code == 200
    assert (seen.headers["content-type"], seen.content) == ("image/png", PNG_PIXEL)
    stranger = await sign_up(app)
    assert (await stranger.http.get(url)).status_code == 404  # another workspace's member
    removed = await owner.delete("/me/avatar")
    assert removed.json()["avatar_url"] is None
    assert (await teammate.http.get(url)).status_code == 404
    for client in (owner, teammate, stranger):
        await client.aclose()
