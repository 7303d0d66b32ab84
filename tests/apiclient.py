"""Test-side helpers: an in-process Tandem app on the real services, and agents as clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from app.main import create_app
from app.runtime import Runtime
from app.settings import Settings

PASSWORD = "correct horse battery"


def test_settings(mongodb_url: str, redis_url: str, db_name: str, **extra: Any) -> Settings:
    # The local model servers tests talk to run on this machine, as an operator's Ollama
    # would (TANDEM_AI_PRIVATE_HOSTS).
    extra.setdefault("ai_private_hosts", ("127.0.0.1",))
    return Settings(
        mongodb_url=mongodb_url,
        mongodb_db=db_name,
        redis_url=redis_url,
        secret_key="test-secret-" + db_name,
        var_dir=Path("var"),
        **extra,
    )


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@dataclass
class AgentClient:
    """One person's browser: its own cookie jar, sending the CSRF token it was given."""

    http: httpx.AsyncClient
    user_id: str = ""
    workspace_slug: str = ""

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return await self.http.request(method, "/api/v1" + path, **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.request("POST", path, json=json, **kw)

    async def patch(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.request("PATCH", path, json=json, **kw)

    async def put(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.request("PUT", path, json=json, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kw)

    def adopt_session(self, response: httpx.Response) -> None:
        assert response.status_code in (200, 201), response.text
        body = response.json()
        self.user_id = body["user_id"]
        self.http.headers["X-CSRF-Token"] = body["csrf_token"]

    async def aclose(self) -> None:
        await self.http.aclose()


def new_client(app: Starlette | str) -> AgentClient:
    """A client of the in-process app, or of a running server when given its base URL."""
    if isinstance(app, str):
        return AgentClient(httpx.AsyncClient(base_url=app, timeout=10))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return AgentClient(httpx.AsyncClient(transport=transport, base_url="http://testserver"))


def runtime_of(app: Starlette) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


def unique_slug(prefix: str = "ws") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def sign_up(
    app: Starlette | str, slug: str | None = None, name: str = "Olivia Owner"
) -> AgentClient:
    client = new_client(app)
    slug = slug or unique_slug()
    response = await client.post(
        "/auth/signup",
        json={
            "workspace_name": f"Workspace {slug}",
            "workspace_slug": slug,
            "name": name,
            "email": f"owner@{slug}.example",
            "password": PASSWORD,
        },
    )
    client.adopt_session(response)
    client.workspace_slug = slug
    return client


async def invite_and_join(
    owner: AgentClient, app: Starlette | str, name: str, role: str = "agent"
) -> AgentClient:
    handle = name.split()[0].lower()
    email = f"{handle}@{owner.workspace_slug}.example"
    invited = await owner.post("/invitations", json={"email": email, "name": name, "role": role})
    assert invited.status_code == 201, invited.text
    client = new_client(app)
    joined = await client.post(
        "/invitations/accept", json={"token": invited.json()["token"], "password": PASSWORD}
    )
    client.adopt_session(joined)
    client.workspace_slug = owner.workspace_slug
    return client
