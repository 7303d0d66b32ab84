"""An agent's reply to an email goes out through Postmark (a local server speaking its API),
threaded so the customer's answer comes back to the same ticket; a transient failure is
retried, a permanent one shows its reason, and a sent reply is never sent again."""

from __future__ import annotations

import base64

import httpx
import pytest
from starlette.applications import Starlette

from app.delivery.common import NotWrittenYet
from app.delivery.email import TransientDelivery, deliver_email
from tests.api.test_email_inbound import connected, thread
from tests.apiclient import AgentClient, runtime_of
from tests.channels.fake_postmark import fake_postmark
from tests.channels.postmark_payloads import inbound_email


async def test_a_reply_is_emailed_threaded_and_its_answer_comes_back(app: Starlette) -> None:
    owner, postmark = await connected(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    sending = {"server_token": "pm-token", "from_address": "help@acme.example",
               "reply_address": "support@inbound.acme.example"}  # fmt: skip
    settings = await owner.patch("/channels/email", json=sending)
    assert settings.status_code == 200
    assert settings.json()["sending_from"] == "help@acme.example"
    assert "pm-token" not in settings.text  # the token is never shown back
    first = await postmark.post(inbound_email(rfc_id="q1@mail.example.com", subject="Refund?"))
    ticket_id = first.json()["ticket_id"]
    reply = await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "Refunded!"})
    message = reply.json()["message"]
    assert message["delivery_status"] == "queued"
    deps = runtime_of(app).deps

    with fake_postmark() as fake:
        async with httpx.AsyncClient() as http:
            fake.script.append((503, {"ErrorCode": 0, "Message": "try later"}))
            with pytest.raises(TransientDelivery):  # the job queue retries it
                await deliver_email(deps, http, fake.url, ws, message["id"])
            assert await statuses(owner, ticket_id) == ["queued"]
            await deliver_email(deps, http, fake.url, ws, message["id"])
            await deliver_email(deps, http, fake.url, ws, message["id"])  # a retry after success
    assert await statuses(owner, ticket_id) == ["sent"]
    assert len(fake.received) == 2  # the 503 and the one that went out; never a third
    sent = fake.received[-1]
    assert fake.tokens[-1] == "pm-token"
    assert (sent["From"], sent["To"], sent["Subject"]) == (
        "help@acme.example", "carla@example.com", "Re: Refund?",
    )  # fmt: skip
    assert sent["TextBody"] == "Refunded!"
    assert sent["ReplyTo"] == f"support+{ticket_id}@inbound.acme.example"
    headers = {h["Name"]: h["Value"] for h in sent["Headers"]}
    assert headers["In-Reply-To"] == "<q1@mail.example.com>"
    ours = headers["Message-ID"].strip("<>")

    # The customer answers our email, with a new subject: it threads by our Message-ID.
    answer = inbound_email(subject="thanks", text="Got it, thanks", in_reply_to=ours)
    assert (await postmark.post(answer)).json()["ticket_id"] == ticket_id
    expected = ["Hi, my order never arrived.", "Refunded!", "Got it, thanks"]
    assert await thread(owner, ticket_id) == expected
    await owner.aclose()


async def test_a_permanent_failure_shows_postmarks_reason(app: Starlette) -> None:
    owner, postmark = await connected(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    sending = {"server_token": "pm-token", "from_address": "help@acme.example"}
    assert (await owner.patch("/channels/email", json=sending)).status_code == 200
    ticket_id = (await postmark.post(inbound_email(sender="gone@example.org"))).json()["ticket_id"]
    reply = (await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "Hello"})).json()
    with fake_postmark() as fake:
        why = "You tried to send to a recipient that has been marked as inactive."
        fake.script.append((422, {"ErrorCode": 406, "Message": why}))
        async with httpx.AsyncClient() as http:
            await deliver_email(runtime_of(app).deps, http, fake.url, ws, reply["message"]["id"])
    detail = (await owner.get(f"/tickets/{ticket_id}")).json()["messages"]
    failed = next(m for m in detail if m["id"] == reply["message"]["id"])
    assert failed["delivery_status"] == "failed"
    assert failed["delivery_error"].startswith("inactive recipient:")
    await owner.aclose()


async def test_sending_needs_email_connected_first(app: Starlette) -> None:
    owner, _ = await connected(app)
    bad = await owner.patch("/channels/email", json={"server_token": "t", "from_address": "nope"})
    assert bad.status_code == 422
    await owner.aclose()


async def statuses(owner: AgentClient, ticket_id: str) -> list[str]:
    detail = (await owner.get(f"/tickets/{ticket_id}")).json()["messages"]
    return [
        m["delivery_status"] for m in detail if m["direction"] == "out" and m["kind"] == "message"
    ]


async def test_delivery_bounce_and_open_webhooks_move_the_reply_on(app: Starlette) -> None:
    owner, postmark = await connected(app)
    events_path = postmark.path.replace("/inbound", "/events")
    ticket_id = (await postmark.post(inbound_email())).json()["ticket_id"]
    first = (await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "One"})).json()
    second = (await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "Two"})).json()

    async def event(record: dict[str, object], auth: str | None = None) -> httpx.Response:
        headers = {"authorization": auth or postmark.auth}
        return await postmark.http.post(events_path, json=record, headers=headers)

    def ours(message: dict[str, object]) -> dict[str, str]:
        return {"tandem_message": str(message["message"]["id"])}  # type: ignore[index]

    delivered = {"RecordType": "Delivery", "MessageID": "pm-1", "Metadata": ours(first)}
    assert (await event(delivered)).json() == {"applied": True}
    assert (await event(delivered)).json() == {"applied": False}  # Postmark said it twice
    opened = {"RecordType": "Open", "MessageID": "pm-1", "Metadata": ours(first)}
    assert (await event(opened)).json() == {"applied": True}
    bounce = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "MessageID": "pm-2",
        "Metadata": ours(second),
    }
    assert (await event(bounce)).json() == {"applied": True}
    assert await statuses(owner, ticket_id) == ["read", "failed"]
    detail = (await owner.get(f"/tickets/{ticket_id}")).json()["messages"]
    bounced = next(m for m in detail if m["id"] == second["message"]["id"])
    assert bounced["delivery_error"].startswith("bounced (HardBounce)")

    # Not ours, unknown, or forged: nothing changes.
    stranger = {"RecordType": "Delivery", "MessageID": "x", "Metadata": {}}
    assert (await event(stranger)).json() == {"applied": False}
    unknown = {"RecordType": "Delivery", "Metadata": {"tandem_message": "6b0c00000000000000000000"}}
    assert (await event(unknown)).json() == {"applied": False}
    forged = "Basic " + base64.b64encode(b"postmark:guess").decode()
    assert (await event(delivered, auth=forged)).status_code == 401
    headers = {"authorization": postmark.auth}
    malformed = await postmark.http.post(events_path, content=b"nope", headers=headers)
    assert malformed.status_code == 403
    await owner.aclose()


async def test_a_hard_bounce_marks_the_address_until_it_changes(app: Starlette) -> None:
    owner, postmark = await connected(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    sending = {"server_token": "pm-token", "from_address": "help@acme.example"}
    assert (await owner.patch("/channels/email", json=sending)).status_code == 200
    ticket_id = (await postmark.post(inbound_email(sender="old@example.net"))).json()["ticket_id"]
    contact_id = (await owner.get(f"/tickets/{ticket_id}")).json()["ticket"]["contact_id"]
    first = (await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "One"})).json()
    bounce = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "Description": "Unknown user.",
        "Email": "old@example.net",
        "Inactive": True,
        "Metadata": {"tandem_message": first["message"]["id"]},
    }
    events_path = postmark.path.replace("/inbound", "/events")
    answer = await postmark.http.post(
        events_path, json=bounce, headers={"authorization": postmark.auth}
    )
    assert answer.json() == {"applied": True}
    contact = (await owner.get(f"/contacts/{contact_id}")).json()
    assert contact["email_bounce"].startswith("bounced (HardBounce)")

    # The next reply is not sent to the dead address; the agent sees why.
    second = (await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "Two"})).json()
    with fake_postmark() as fake:
        async with httpx.AsyncClient() as http:
            await deliver_email(runtime_of(app).deps, http, fake.url, ws, second["message"]["id"])
    assert fake.received == []
    detail = (await owner.get(f"/tickets/{ticket_id}")).json()["messages"]
    refused = next(m for m in detail if m["id"] == second["message"]["id"])
    assert refused["delivery_status"] == "failed"
    assert refused["delivery_error"].startswith("old@example.net bounced earlier")

    # Keeping the address keeps the mark; a corrected address clears it.
    same = await owner.patch(f"/contacts/{contact_id}", json={"email": "OLD@example.net"})
    assert same.json()["email_bounce"] is not None
    fixed = await owner.patch(f"/contacts/{contact_id}", json={"email": "new@example.net"})
    assert fixed.status_code == 200
    assert fixed.json()["email_bounce"] is None
    await owner.aclose()


async def test_a_delivery_job_that_runs_before_its_reply_is_written_waits_for_it(
    app: Starlette,
) -> None:
    """The job is enqueued just before the reply is written: a worker can be faster."""
    owner, _ = await connected(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    not_yet = "6b0c00000000000000000001"
    with fake_postmark() as fake:
        async with httpx.AsyncClient() as http:
            with pytest.raises(NotWrittenYet):  # retried by the job queue
                await deliver_email(runtime_of(app).deps, http, fake.url, ws, not_yet, attempt=1)
            # Still missing on its last wait: the write never happened, the job ends.
            await deliver_email(runtime_of(app).deps, http, fake.url, ws, not_yet, attempt=3)
    assert fake.received == []
    await owner.aclose()


async def test_new_webhook_credentials_keep_how_replies_are_sent(app: Starlette) -> None:
    owner, _ = await connected(app)
    sending = {"server_token": "pm-token", "from_address": "help@acme.example"}
    assert (await owner.patch("/channels/email", json=sending)).status_code == 200
    again = await owner.put("/channels/email")
    assert again.status_code == 200
    assert again.json()["sending_from"] == "help@acme.example"
    await owner.aclose()
