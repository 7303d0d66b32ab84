"""The few Tandem HTTP calls the benchmark makes, and the agent session they run as.

The writer works as a browser agent would: session cookie plus `X-CSRF-Token`, not an API
token (an API token also writes `last_used_at` on every request, which a person's PATCH
does not pay).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import msgspec

PREFIX = "/api/v1"


class AgentSession(msgspec.Struct, frozen=True):
    api: str  # http://127.0.0.1:<port> of the server the writer talks to
    cookies: dict[str, str]
    csrf: str
    ticket_id: str

    def save(self, path: Path) -> None:
        path.write_bytes(msgspec.json.encode(self))

    @classmethod
    def load(cls, path: Path) -> AgentSession:
        return msgspec.json.decode(path.read_bytes(), type=cls)

    def client(self, timeout: float = 10.0) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.api + PREFIX,
            cookies=self.cookies,
            headers={"X-CSRF-Token": self.csrf},
            timeout=timeout,
        )


def sign_up(api: str) -> AgentSession:
    """A fresh workspace, its owner logged in, and one ticket for the writer to change."""
    slug = "bench-" + secrets.token_hex(4)
    with httpx.Client(base_url=api + PREFIX, timeout=30) as http:
        answer = http.post(
            "/auth/signup",
            json={
                "workspace_name": "Fan-out bench",
                "workspace_slug": slug,
                "name": "Bench Writer",
                "email": f"writer@{slug}.example",
                "password": secrets.token_urlsafe(16),
            },
        )
        answer.raise_for_status()
        csrf = answer.json()["csrf_token"]
        cookies = dict(http.cookies.items())
        ticket = http.post(
            "/tickets", json={"subject": "Fan-out probe"}, headers={"X-CSRF-Token": csrf}
        )
        ticket.raise_for_status()
    return AgentSession(api=api, cookies=cookies, csrf=csrf, ticket_id=ticket.json()["id"])


async def socket_token(http: httpx.AsyncClient) -> str:
    answer = await http.post("/realtime/token")
    answer.raise_for_status()
    token: str = answer.json()["token"]
    return token


async def ticket_version(
    http: httpx.AsyncClient, ticket_id: str, field: str = "priority"
) -> tuple[int, str]:
    """The ticket's version and the current value of `field`."""
    answer = await http.get(f"/tickets/{ticket_id}")
    answer.raise_for_status()
    ticket = answer.json()["ticket"]
    return int(ticket["version"]), str(ticket[field])
