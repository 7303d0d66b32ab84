"""Shared by the lifecycle tests: a workspace with something of every kind in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette

from tests.apiclient import PASSWORD, AgentClient, invite_and_join, sign_up

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Seeded:
    owner: AgentClient
    admin: AgentClient
    agent: AgentClient
    ws: str
    ticket_id: str
    blob_id: str
    token: str
    ids: dict[str, str] = field(default_factory=dict)

    async def aclose(self) -> None:
        for client in (self.owner, self.admin, self.agent):
            await client.aclose()


async def ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def seeded(app: Starlette | str) -> Seeded:
    """An owner, an admin and an agent; a contact, a team, a ticket with a reply, a private
    note and a file; a canned response, an article, an API token and a pending invitation."""
    owner = await sign_up(app)
    admin = await invite_and_join(owner, app, "Adam Admin", role="admin")
    agent = await invite_and_join(owner, app, "Alex Agent")
    ws = (await ok(await owner.get("/me"), 200))["workspace"]["id"]
    contact = await ok(
        await owner.post("/contacts", json={"name": "Carla", "email": "carla@example.com"})
    )
    team = await ok(await owner.post("/teams", json={"name": "Support"}))
    ticket = await ok(
        await owner.post(
            "/tickets",
            json={
                "subject": "Refund",
                "contact": {"id": contact["id"]},
                "message": {"text": "Charged twice"},
            },
        )
    )
    upload = await ok(
        await owner.post(
            "/attachments",
            params={"filename": "receipt.png"},
            content=PNG,
            headers={"content-type": "image/png"},
        )
    )
    await ok(
        await owner.post(
            f"/tickets/{ticket['id']}/messages",
            json={"text": "Refunded.", "attachments": [upload["id"]]},
        )
    )
    await ok(
        await owner.post(
            f"/tickets/{ticket['id']}/messages", json={"text": "VIP customer", "kind": "note"}
        )
    )
    await ok(await owner.post("/canned-responses", json={"shortcut": "thanks", "body": "Thanks!"}))
    await ok(
        await owner.post(
            "/kb/articles", json={"title": "Refunds", "body": "We refund within a week."}
        )
    )
    token = await ok(await owner.post("/api-tokens", json={"name": "crm"}))
    await ok(
        await owner.post(
            "/invitations", json={"email": "later@example.com", "name": "Later", "role": "agent"}
        )
    )
    return Seeded(
        owner=owner,
        admin=admin,
        agent=agent,
        ws=ws,
        ticket_id=ticket["id"],
        blob_id=upload["id"],
        token=token["token"],
        ids={"contact": contact["id"], "team": team["id"]},
    )


async def cancel(owner: AgentClient, password: str = PASSWORD) -> Any:
    return await owner.post("/workspace/cancel", json={"password": password})
