"""Email end to end through a real server process and worker: an email opens a ticket, the
agent's reply reaches Postmark threaded, the customer's answer lands in the same ticket; a
transient failure is retried, and a worker killed mid-send does not send twice."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.channels.fake_postmark import FakePostmark
from tests.channels.postmark_payloads import inbound_email
from tests.jobs.helpers import eventually, kill
from tests.live.test_two_processes import signed_up
from tests.servers import start_worker, tandem_worker

pytestmark = pytest.mark.processes


class Inbox:
    """A workspace with email connected, seen by its owner and by Postmark."""

    def __init__(self, server: str, owner: httpx.AsyncClient, webhook_url: str) -> None:
        parts = urlsplit(webhook_url)
        self.owner, self.path = owner, parts.path
        self.postmark = httpx.AsyncClient(base_url=server)  # no session: it is not an agent
        login = f"{parts.username}:{parts.password}".encode()
        self.auth = "Basic " + base64.b64encode(login).decode()

    async def aclose(self) -> None:
        await self.owner.aclose()
        await self.postmark.aclose()

    async def email_in(self, payload: dict[str, Any]) -> str:
        answer = await self.postmark.post(
            self.path,
            content=json.dumps(payload).encode(),
            headers={"authorization": self.auth, "content-type": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["ticket_id"])

    async def reply(self, ticket_id: str, text: str) -> str:
        posted = await self.owner.post(f"/tickets/{ticket_id}/messages", json={"text": text})
        assert posted.status_code == 201, posted.text
        return str(posted.json()["message"]["id"])

    async def message(self, ticket_id: str, message_id: str) -> dict[str, Any]:
        detail = (await self.owner.get(f"/tickets/{ticket_id}")).json()
        return next(m for m in detail["messages"] if m["id"] == message_id)

    async def status_becomes(self, ticket_id: str, message_id: str, wanted: str) -> None:
        async def reached() -> bool:
            return (await self.message(ticket_id, message_id))["delivery_status"] == wanted

        await eventually(reached, 20)


async def connected_inbox(server: str) -> Inbox:
    owner = await signed_up(server)
    made = await owner.put("/channels/email")
    assert made.status_code == 200, made.text
    sending = {"server_token": "pm-e2e", "from_address": "help@shop.example"}
    assert (await owner.patch("/channels/email", json=sending)).status_code == 200
    return Inbox(server, owner, made.json()["inbound_webhook_url"])


async def test_an_email_conversation_goes_round_trip(
    server: str, postmark_api: FakePostmark, worker_env: dict[str, Any]
) -> None:
    inbox = await connected_inbox(server)
    ticket_id = await inbox.email_in(
        inbound_email(sender="dana@example.com", rfc_id="d1@mail.example.com", subject="Broken")
    )
    with tandem_worker(**worker_env):
        # The owner's address confirmation goes out first, through the workspace's Postmark.
        async def confirmation_sent() -> bool:
            return any(m["Subject"].startswith("Confirm your email") for m in postmark_api.sent)

        await eventually(confirmation_sent, 20)
        postmark_api.script.append((500, {"ErrorCode": 0, "Message": "Internal error"}))
        reply_id = await inbox.reply(ticket_id, "Sorry, a new one is on its way.")
        await inbox.status_becomes(ticket_id, reply_id, "sent")
    tries = [e for e in postmark_api.received if e["TextBody"].startswith("Sorry")]
    assert len(tries) == 2  # the 500, then the retry that went out
    sent = tries[-1]
    assert (sent["To"], sent["Subject"]) == ("dana@example.com", "Re: Broken")
    headers = {h["Name"]: h["Value"] for h in sent["Headers"]}
    assert headers["In-Reply-To"] == "<d1@mail.example.com>"

    # Dana answers from her mail client: it threads by the Message-ID Tandem gave the reply.
    answer = inbound_email(
        sender="dana@example.com",
        subject="Re: Broken",
        text="Arrived, thank you!",
        in_reply_to=headers["Message-ID"].strip("<>"),
    )
    assert await inbox.email_in(answer) == ticket_id
    detail = (await inbox.owner.get(f"/tickets/{ticket_id}")).json()
    texts = [m["text"] for m in detail["messages"] if m["kind"] == "message"]
    assert texts[-2:] == ["Sorry, a new one is on its way.", "Arrived, thank you!"]
    await inbox.aclose()


async def test_a_worker_killed_mid_send_does_not_send_twice(
    server: str, postmark_api: FakePostmark, worker_env: dict[str, Any]
) -> None:
    inbox = await connected_inbox(server)
    ticket_id = await inbox.email_in(inbound_email(sender="eli@example.com", subject="Invoice"))
    postmark_api.stall = 30.0  # Postmark takes the email; its answer never gets back
    first = start_worker(**worker_env)
    try:
        reply_id = await inbox.reply(ticket_id, "Here is your invoice.")

        async def taken() -> bool:
            return any(m["TextBody"] == "Here is your invoice." for m in postmark_api.sent)

        await eventually(taken, 20)
    finally:
        kill(first)
    postmark_api.stall = 0.0
    assert (await inbox.message(ticket_id, reply_id))["delivery_status"] == "queued"
    searches = postmark_api.searches
    with tandem_worker(**worker_env):  # takes the dead worker's job over
        await inbox.status_becomes(ticket_id, reply_id, "sent")
    assert postmark_api.searches > searches  # it asked Postmark before sending again
    sends = [e for e in postmark_api.received if e["TextBody"] == "Here is your invoice."]
    assert len(sends) == 1
    await inbox.aclose()
