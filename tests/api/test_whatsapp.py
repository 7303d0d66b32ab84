"""WhatsApp through the Cloud API: a number connected by the owner, Meta's signed webhooks
taken once each, replies sent through a local server speaking the Graph API, statuses moving
them forward, and the 24-hour window answered with approved templates."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId
from starlette.applications import Starlette

from app.delivery.whatsapp import TransientDelivery, deliver_whatsapp, sync_templates
from app.documents import Message, Ticket
from app.documents.common import utcnow
from app.jobs import JobQueue
from app.jobs.model import Job
from app.jobs.timers import Timers
from app.settings import Settings
from app.worker import TEMPLATES_REFRESH_JOB, handlers
from tests.apiclient import AgentClient, invite_and_join, runtime_of, sign_up
from tests.channels import whatsapp_payloads as wa
from tests.channels.fake_graph import fake_graph
from tests.jobs.helpers import consuming, eventually, fast_config


class Meta:
    """Posts to a workspace's WhatsApp webhook the way Meta does: signed with the app secret."""

    def __init__(self, app: Starlette, ws: str) -> None:
        self.path = f"/api/v1/webhooks/whatsapp/{ws}"
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")

    async def post(
        self, payload: dict[str, Any] | bytes, signature: str | None = None
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else wa.encode(payload)
        headers = {"content-type": "application/json"}
        headers["x-hub-signature-256"] = signature if signature is not None else wa.sign(body)
        return await self.http.post(self.path, content=body, headers=headers)


CONNECT = {
    "phone_number_id": wa.PHONE_NUMBER_ID,
    "waba_id": wa.WABA_ID,
    "access_token": "EAAG-test-access-token",
    "app_secret": wa.APP_SECRET,
}


async def connected(app: Starlette) -> tuple[AgentClient, Meta, str]:
    owner = await sign_up(app)
    made = await owner.put("/channels/whatsapp", json=CONNECT)
    assert made.status_code == 200, made.text
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    return owner, Meta(app, ws), ws


async def thread(owner: AgentClient, ticket_id: str) -> list[dict[str, Any]]:
    detail = (await owner.get(f"/tickets/{ticket_id}")).json()
    return [m for m in detail["messages"] if m["kind"] == "message"]


async def ticket_of(owner: AgentClient) -> str:
    listed = (await owner.get("/tickets", params={"channel": "whatsapp"})).json()["items"]
    assert len(listed) == 1
    return str(listed[0]["id"])


async def test_connecting_shows_the_webhook_and_answers_metas_verification(
    app: Starlette,
) -> None:
    owner, meta, ws = await connected(app)
    shown = (await owner.get("/channels/whatsapp")).json()
    assert shown["webhook_url"].endswith(f"/api/v1/webhooks/whatsapp/{ws}")
    assert shown["phone_number_id"] == wa.PHONE_NUMBER_ID
    assert CONNECT["access_token"] not in str(shown)
    assert CONNECT["app_secret"] not in str(shown)
    check = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    right = await meta.http.get(
        meta.path, params={**check, "hub.verify_token": shown["verify_token"]}
    )
    assert (right.status_code, right.text) == (200, "1158201444")
    wrong = await meta.http.get(meta.path, params={**check, "hub.verify_token": "guess"})
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "bad_verify_token"
    mistyped = await owner.put("/channels/whatsapp", json={**CONNECT, "waba_id": "12"})
    assert mistyped.status_code == 422  # checked before anything is kept
    assert (await owner.get("/channels/whatsapp")).json()["waba_id"] == wa.WABA_ID
    await owner.aclose()


async def test_a_message_opens_a_ticket_once_however_often_meta_sends_it(app: Starlette) -> None:
    owner, meta, _ = await connected(app)
    first = wa.webhook(messages=[wa.text("Where is my order?")])
    answers = await asyncio.gather(*(meta.post(first) for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert sum(a.json()["messages"] for a in answers) == 1
    ticket_id = await ticket_of(owner)
    assert [m["text"] for m in await thread(owner, ticket_id)] == ["Where is my order?"]
    detail = (await owner.get(f"/tickets/{ticket_id}")).json()
    contact = (await owner.get(f"/contacts/{detail['ticket']['contact_id']}")).json()
    assert (contact["name"], contact["whatsapp_id"]) == (wa.CUSTOMER_NAME, wa.CUSTOMER_WA_ID)

    # The next message, an unknown type and a button reply continue the same conversation.
    more = wa.webhook(messages=[wa.unsupported(), wa.button_reply("Yes, cancel it")])
    assert (await meta.post(more)).json()["messages"] == 2
    texts = [m["text"] for m in await thread(owner, ticket_id)]
    assert texts[0] == "Where is my order?"
    assert texts[1].startswith("Unsupported message")
    assert texts[2] == "Yes, cancel it"
    await owner.aclose()


async def test_unsigned_forged_malformed_or_huge_posts_write_nothing(app: Starlette) -> None:
    owner, meta, _ = await connected(app)
    body = wa.encode(wa.webhook(messages=[wa.text("forged")]))
    tampered = body.replace(b"forged", b"forgeD")
    assert (await meta.post(body, signature="")).status_code == 401
    assert (await meta.post(tampered, signature=wa.sign(body))).status_code == 401
    assert (await meta.post(body, signature=wa.sign(body, "another-secret"))).status_code == 401
    malformed = await meta.post(b'{"object": "whatsapp_business_account", "entry": [')
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "unprocessable_payload"
    huge = wa.encode(wa.webhook(messages=[wa.text("x" * 3_000_000)]))
    assert (await meta.post(huge)).status_code == 413
    listed = (await owner.get("/tickets", params={"channel": "whatsapp"})).json()["items"]
    assert listed == []
    await owner.aclose()


async def wa_ticket(app: Starlette) -> tuple[AgentClient, Meta, str, str]:
    owner, meta, ws = await connected(app)
    assert (await meta.post(wa.webhook(messages=[wa.text("Hello?")]))).status_code == 200
    return owner, meta, ws, await ticket_of(owner)


async def test_a_reply_is_sent_and_its_statuses_move_it_forward_only(app: Starlette) -> None:
    owner, meta, ws, ticket_id = await wa_ticket(app)
    reply = await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "Hi! Checking."})
    assert reply.status_code == 201
    message_id = reply.json()["message"]["id"]
    assert reply.json()["message"]["delivery_status"] == "queued"
    deps = runtime_of(app).deps
    with fake_graph() as graph:
        graph.script.append((429, wa.graph_error(130429, "Rate limit hit")))
        async with httpx.AsyncClient() as http:
            with pytest.raises(TransientDelivery):
                await deliver_whatsapp(deps, http, graph.url, ws, message_id)
            await deliver_whatsapp(deps, http, graph.url, ws, message_id)
            await deliver_whatsapp(deps, http, graph.url, ws, message_id)  # sent: not again
    assert len(graph.sent) == 2
    sent = graph.sent[-1]
    assert (sent["to"], sent["text"]["body"]) == (wa.CUSTOMER_WA_ID, "Hi! Checking.")
    assert sent["biz_opaque_callback_data"] == message_id
    assert graph.phone_number_ids[-1] == wa.PHONE_NUMBER_ID
    assert graph.tokens[-1] == CONNECT["access_token"]
    wamid = graph.wamids[-1]

    async def status(state: str, **kw: Any) -> int:
        answer = await meta.post(wa.webhook(statuses=[wa.status(wamid, state, **kw)]))
        assert answer.status_code == 200
        return int(answer.json()["statuses"])

    assert await status("read", tag=message_id) == 1  # delivered's report was overtaken
    assert await status("delivered") == 0  # arrived late: found by wamid, changes nothing
    assert await status("sent") == 0
    shown = next(m for m in await thread(owner, ticket_id) if m["id"] == message_id)
    assert shown["delivery_status"] == "read"
    unknown = wa.webhook(statuses=[wa.status(wa.wamid(), "delivered")])
    assert (await meta.post(unknown)).json() == {"messages": 0, "statuses": 0}
    await owner.aclose()


async def test_permanent_failures_and_interrupted_sends_show_why(app: Starlette) -> None:
    owner, _, ws, ticket_id = await wa_ticket(app)
    deps = runtime_of(app).deps
    first = (await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "One"})).json()
    second = (await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "Two"})).json()
    # The second's earlier send was cut off mid-request: WhatsApp cannot be asked about it.
    await Message.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(second["message"]["id"])}, {"$set": {"sending_since": utcnow()}}
    )
    with fake_graph() as graph:
        graph.fail(131026, "Message undeliverable", "Receiver is incapable of receiving this")
        async with httpx.AsyncClient() as http:
            await deliver_whatsapp(deps, http, graph.url, ws, first["message"]["id"])
            await deliver_whatsapp(deps, http, graph.url, ws, second["message"]["id"])
    assert len(graph.sent) == 1  # the interrupted one is not sent a second time
    shown = {m["id"]: m for m in await thread(owner, ticket_id)}
    failed = shown[first["message"]["id"]]
    assert failed["delivery_status"] == "failed"
    assert failed["delivery_error"].startswith("Message undeliverable")
    interrupted = shown[second["message"]["id"]]
    assert interrupted["delivery_status"] == "failed"
    assert interrupted["delivery_error"].startswith("sending was interrupted")
    await owner.aclose()


async def test_after_24_hours_only_an_approved_template_goes_out(app: Starlette) -> None:
    owner, _, ws, ticket_id = await wa_ticket(app)
    deps = runtime_of(app).deps
    options = (await owner.get(f"/tickets/{ticket_id}/reply-options")).json()
    assert options["free_text"] is True
    assert options["window_closes_at"] is not None
    # A day and an hour pass without the customer writing.
    await Ticket.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(ticket_id)},
        {"$set": {"last_customer_message_at": utcnow() - timedelta(hours=25)}},
    )
    with fake_graph() as graph:
        async with httpx.AsyncClient() as http:
            assert await sync_templates(http, graph.url, ws) == 1  # the pending one is left out
        options = (await owner.get(f"/tickets/{ticket_id}/reply-options")).json()
        assert options["free_text"] is False
        assert "24 hours" in options["why"]
        assert [(t["name"], t["param_count"]) for t in options["templates"]] == [
            ("order_update", 2)
        ]
        refused = await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "Hi again"})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "needs_template"
        short = {"name": "order_update", "language": "en_US", "params": ["Sheena"]}
        wrong = await owner.post(f"/tickets/{ticket_id}/messages", json={"template": short})
        assert wrong.status_code == 422
        use = {**short, "params": ["Sheena", "#4411"]}
        posted = await owner.post(f"/tickets/{ticket_id}/messages", json={"template": use})
        assert posted.status_code == 201, posted.text
        message = posted.json()["message"]
        assert message["text"] == "Hello Sheena, your order #4411 has shipped."
        async with httpx.AsyncClient() as http:
            await deliver_whatsapp(deps, http, graph.url, ws, message["id"])
    sent = graph.sent[-1]
    assert sent["type"] == "template"
    assert sent["template"]["name"] == "order_update"
    params = sent["template"]["components"][0]["parameters"]
    assert [p["text"] for p in params] == ["Sheena", "#4411"]
    # Notes are not replies: they need no template.
    note = await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "VIP", "kind": "note"})
    assert note.status_code == 201
    await owner.aclose()


async def test_a_reply_sent_outside_the_window_fails_later_with_needs_a_template(
    app: Starlette,
) -> None:
    owner, meta, ws, ticket_id = await wa_ticket(app)
    reply = (await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "Hi"})).json()
    message_id = reply["message"]["id"]
    with fake_graph() as graph:
        async with httpx.AsyncClient() as http:
            await deliver_whatsapp(runtime_of(app).deps, http, graph.url, ws, message_id)
    failed = wa.status(graph.wamids[-1], "failed", errors=[wa.outside_window_error()])
    assert (await meta.post(wa.webhook(statuses=[failed]))).json()["statuses"] == 1
    shown = next(m for m in await thread(owner, ticket_id) if m["id"] == message_id)
    assert shown["delivery_status"] == "failed"
    assert shown["delivery_error"].startswith("needs a template")
    await owner.aclose()


async def test_every_connected_numbers_templates_are_refreshed_by_the_worker(
    app: Starlette,
) -> None:
    owner, _, _ = await connected(app)
    runtime = runtime_of(app)
    queue = JobQueue(runtime.redis, fast_config())
    deps = replace(runtime.deps, timers=Timers(queue))
    with fake_graph() as graph:
        graph.templates = [wa.template("refund_done", "Your refund of {{1}} is on its way.")]
        async with httpx.AsyncClient() as http:
            jobs = handlers(deps, http, Settings(whatsapp_graph_url=graph.url))
            refresh = Job(id="r1", kind=TEMPLATES_REFRESH_JOB, payload={}, enqueued_at=utcnow())
            async with consuming(queue, jobs):
                await jobs[TEMPLATES_REFRESH_JOB](refresh)

                async def synced() -> bool:
                    channel = (await owner.get("/channels/whatsapp")).json()
                    return [t["name"] for t in channel.get("templates", [])] == ["refund_done"]

                await eventually(synced)
    assert any(r.path.endswith(f"/{wa.WABA_ID}/message_templates") for r in graph.requests)
    await owner.aclose()


async def test_a_disconnected_number_refuses_metas_posts_and_sends_nothing(
    app: Starlette,
) -> None:
    owner, meta, ws, ticket_id = await wa_ticket(app)
    reply = (await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "Hi"})).json()
    message_id = reply["message"]["id"]
    agent = await invite_and_join(owner, app, "Ana Agent")
    assert (await agent.delete("/channels/whatsapp")).status_code == 403
    assert (await owner.delete("/channels/whatsapp")).status_code == 204
    assert (await owner.get("/channels/whatsapp")).json() == {"connected": False}
    late = await meta.post(wa.webhook(messages=[wa.text("Anyone?")]))
    assert late.status_code == 401
    with fake_graph() as graph:
        async with httpx.AsyncClient() as http:
            await deliver_whatsapp(runtime_of(app).deps, http, graph.url, ws, message_id)
    assert graph.sent == []
    shown = next(m for m in await thread(owner, ticket_id) if m["id"] == message_id)
    assert shown["delivery_error"] == "WhatsApp is not connected for this workspace"
    await agent.aclose()
    await owner.aclose()
