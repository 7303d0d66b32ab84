"""Emails reach Tandem through Postmark's inbound webhook: checked, stored once, threaded into
the sender's conversation, and answered in the codes Postmark acts on."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette

from tests.apiclient import AgentClient, sign_up
from tests.channels.postmark_payloads import inbound_email


class Postmark:
    """Posts to a workspace's inbound webhook the way Postmark does, credentials from the
    URL the owner pasted."""

    def __init__(self, app: Starlette, url: str) -> None:
        parts = urlsplit(url)
        self.path = parts.path
        self.auth = (
            "Basic " + base64.b64encode(f"{parts.username}:{parts.password}".encode()).decode()
        )
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")

    async def post(self, payload: Any, auth: str | None = None) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"content-type": "application/json", "authorization": auth or self.auth}
        return await self.http.post(self.path, content=body, headers=headers)


async def connected(app: Starlette) -> tuple[AgentClient, Postmark]:
    owner = await sign_up(app)
    made = await owner.put("/channels/email")
    assert made.status_code == 200, made.text
    return owner, Postmark(app, made.json()["inbound_webhook_url"])


async def thread(owner: AgentClient, ticket_id: str) -> list[str]:
    detail = (await owner.get(f"/tickets/{ticket_id}")).json()
    return [m["text"] for m in detail["messages"] if m["kind"] == "message"]


async def test_an_email_opens_a_ticket_and_the_replies_thread_into_it(app: Starlette) -> None:
    owner, postmark = await connected(app)
    first = await postmark.post(inbound_email(rfc_id="c1@mail.example.com"))
    assert first.status_code == 200, first.text
    ticket_id = first.json()["ticket_id"]
    ticket = (await owner.get(f"/tickets/{ticket_id}")).json()["ticket"]
    assert ticket["channel"] == "email"
    assert ticket["subject"] == "Order 1234 never arrived"
    contact = (await owner.get(f"/contacts/{ticket['contact_id']}")).json()
    assert contact["email"] == "carla@example.com"

    # Answering her own message (In-Reply-To), even with another subject: the same ticket.
    answer = inbound_email(
        subject="something else", text="Any news?", in_reply_to="c1@mail.example.com"
    )
    assert (await postmark.post(answer)).json()["ticket_id"] == ticket_id
    # The ticket's plus-address token, then the same subject, thread too.
    hashed = inbound_email(subject="?", text="Third", mailbox_hash=ticket_id)
    assert (await postmark.post(hashed)).json()["ticket_id"] == ticket_id
    same = inbound_email(subject="RE: Order 1234 never arrived", text="Fourth")
    assert (await postmark.post(same)).json()["ticket_id"] == ticket_id
    assert await thread(owner, ticket_id) == [
        "Hi, my order never arrived.", "Any news?", "Third", "Fourth",
    ]  # fmt: skip
    # A new subject from her is a new conversation.
    other = await postmark.post(inbound_email(subject="Invoice copy", text="Please"))
    assert other.json()["ticket_id"] != ticket_id
    await owner.aclose()


async def test_a_thread_never_takes_someone_elses_message(app: Starlette) -> None:
    owner, postmark = await connected(app)
    first = await postmark.post(inbound_email(rfc_id="c2@mail.example.com"))
    ticket_id = first.json()["ticket_id"]
    # Someone else answering her message, or naming her ticket's token: their own ticket.
    intruder = inbound_email(sender="mallory@example.net", in_reply_to="c2@mail.example.com")
    assert (await postmark.post(intruder)).json()["ticket_id"] != ticket_id
    token = inbound_email(sender="mallory@example.net", mailbox_hash=ticket_id, subject="x")
    assert (await postmark.post(token)).json()["ticket_id"] != ticket_id
    assert await thread(owner, ticket_id) == ["Hi, my order never arrived."]
    await owner.aclose()


async def test_the_same_email_posted_five_times_at_once_is_stored_once(app: Starlette) -> None:
    owner, postmark = await connected(app)
    payload = inbound_email(message_id="pm-dup-1", subject="Twice?")
    answers = await asyncio.gather(*(postmark.post(payload) for _ in range(5)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["message_id"] for a in answers}) == 1
    assert sum(a.json()["created"] for a in answers) == 1
    page = (await owner.get("/tickets", params={"text": "Twice"})).json()["items"]
    assert len(page) == 1
    assert await thread(owner, page[0]["id"]) == ["Hi, my order never arrived."]
    await owner.aclose()


async def test_refusals_are_the_codes_postmark_acts_on_and_write_nothing(app: Starlette) -> None:
    owner, postmark = await connected(app)
    wrong = "Basic " + base64.b64encode(b"postmark:guess").decode()
    refused = await postmark.post(inbound_email(subject="Forged"), auth=wrong)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "bad_webhook_credentials"
    unprocessable = await postmark.post(b'{"Subject": "no sender", "MessageID": "m"}')
    assert unprocessable.status_code == 403
    assert unprocessable.json()["error"]["code"] == "unprocessable_payload"
    assert (await postmark.post(b"{not json")).status_code == 403
    # After reconnecting, the old URL's credentials stop working.
    old_auth = postmark.auth
    reconnected = await owner.put("/channels/email")
    assert reconnected.status_code == 200
    assert (await postmark.post(inbound_email(subject="Old"), auth=old_auth)).status_code == 401
    listed = (await owner.get("/tickets")).json()["items"]
    assert listed == []
    # The settings never show the password again.
    shown = (await owner.get("/channels/email")).json()
    assert shown["connected"] is True
    assert urlsplit(shown["inbound_webhook_url"]).password is None
    await owner.aclose()


async def test_a_workspace_without_email_refuses_the_webhook(app: Starlette) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    assert (await owner.get("/channels/email")).json() == {"connected": False}
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    answer = await http.post(
        f"/api/v1/webhooks/postmark/{ws}/inbound",
        content=json.dumps(inbound_email()).encode(),
        headers={"authorization": "Basic " + base64.b64encode(b"postmark:x").decode()},
    )
    assert answer.status_code == 401
    await owner.aclose()


async def test_an_emails_html_is_kept_sanitized_with_its_quoted_history(app: Starlette) -> None:
    owner, postmark = await connected(app)
    payload = inbound_email(text="Still broken.")
    payload["HtmlBody"] = (
        '<div onclick="steal()">Still <b>broken</b>.<script>steal()</script>'
        '<img src="https://tracker.example/open.gif">'
        '<a href="javascript:steal()">x</a><a href="https://shop.example/o/1">order</a></div>'
        "<blockquote>On Monday, Support wrote: we shipped it</blockquote>"
    )
    ticket_id = (await postmark.post(payload)).json()["ticket_id"]
    detail = (await owner.get(f"/tickets/{ticket_id}")).json()
    [message] = [m for m in detail["messages"] if m["kind"] == "message"]
    assert message["text"] == "Still broken."  # the reply alone, without the history
    kept = message["html"]
    assert "<b>broken</b>" in kept
    assert "<blockquote>On Monday, Support wrote: we shipped it</blockquote>" in kept
    assert 'href="https://shop.example/o/1"' in kept
    for gone in ("script", "onclick", "javascript:", "<img", "tracker.example"):
        assert gone not in kept
    await owner.aclose()


async def test_disconnected_email_refuses_postmarks_posts(app: Starlette) -> None:
    owner, postmark = await connected(app)
    assert (await owner.delete("/channels/email")).status_code == 204
    assert (await owner.get("/channels/email")).json() == {"connected": False}
    assert (await postmark.post(inbound_email())).status_code == 401
    await owner.aclose()
