"""WhatsApp end to end through a real server process and worker: a customer's message opens
a ticket, the agent's reply reaches the Graph API, Meta's statuses show on the agent's socket
as they come, and after 24 hours the composer's template goes out instead."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId
from pymongo import AsyncMongoClient

from app.documents.common import utcnow
from realtime.client import TandemClient
from realtime.events import Event, MessageUpdated
from tests.channels import whatsapp_payloads as wa
from tests.channels.fake_graph import FakeGraph
from tests.jobs.helpers import eventually
from tests.live.test_two_processes import live_url, signed_up, socket_token
from tests.servers import tandem_worker

pytestmark = pytest.mark.processes


async def meta_posts(server: str, ws: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = wa.encode(payload)
    async with httpx.AsyncClient(base_url=server) as meta:
        answer = await meta.post(
            f"/api/v1/webhooks/whatsapp/{ws}",
            content=body,
            headers={"x-hub-signature-256": wa.sign(body), "content-type": "application/json"},
        )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_a_whatsapp_conversation_with_live_statuses_and_a_template(
    server: str,
    graph_api: FakeGraph,
    worker_env: dict[str, Any],
    mongodb_url: str,
    db_name: str,
) -> None:
    owner = await signed_up(server)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    connect = {
        "phone_number_id": wa.PHONE_NUMBER_ID,
        "waba_id": wa.WABA_ID,
        "access_token": graph_api.access_token,
        "app_secret": wa.APP_SECRET,
    }
    assert (await owner.put("/channels/whatsapp", json=connect)).status_code == 200
    seen: list[Event] = []

    async def on_event(event: Event) -> None:
        seen.append(event)

    with tandem_worker(**worker_env):

        async def templates_synced() -> bool:
            channel = (await owner.get("/channels/whatsapp")).json()
            return bool(channel.get("templates"))

        await eventually(templates_synced, 20)
        await meta_posts(server, ws, wa.webhook(messages=[wa.text("My parcel is late")]))
        listed = (await owner.get("/tickets", params={"channel": "whatsapp"})).json()["items"]
        ticket_id = listed[0]["id"]
        async with TandemClient(
            live_url(server),
            token=await socket_token(owner),
            topics=[f"ticket:{ticket_id}"],
            on_event=on_event,
        ) as agent:
            await agent.wait_ready()
            reply = await owner.post(
                f"/tickets/{ticket_id}/messages", json={"text": "Let me check the courier."}
            )
            assert reply.status_code == 201, reply.text
            message_id = reply.json()["message"]["id"]

            def live_statuses() -> list[str]:
                return [
                    str(e.data.message.delivery_status)
                    for e in seen
                    if isinstance(e, MessageUpdated) and e.data.message.id == message_id
                ]

            async def sent() -> bool:
                return live_statuses() == ["sent"]

            await eventually(sent, 20)
            request = graph_api.sent[-1]
            assert (request["to"], request["text"]["body"]) == (
                wa.CUSTOMER_WA_ID, "Let me check the courier.",
            )  # fmt: skip
            wamid = graph_api.wamids[-1]
            for state in ("delivered", "read"):
                status = wa.status(wamid, state, tag=message_id)
                assert (await meta_posts(server, ws, wa.webhook(statuses=[status])))[
                    "statuses"
                ] == 1

            async def read() -> bool:
                return live_statuses() == ["sent", "delivered", "read"]

            await eventually(read, 10)

        # A day passes in silence: only the approved template can reach the customer now.
        store: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
        await store[db_name]["tickets"].update_one(
            {"_id": PydanticObjectId(ticket_id)},
            {"$set": {"last_customer_message_at": utcnow() - timedelta(hours=25)}},
        )
        await store.close()
        options = (await owner.get(f"/tickets/{ticket_id}/reply-options")).json()
        assert options["free_text"] is False
        template = options["templates"][0]
        use = {"name": template["name"], "language": template["language"],
               "params": ["Sheena", "#88"]}  # fmt: skip
        posted = await owner.post(f"/tickets/{ticket_id}/messages", json={"template": use})
        assert posted.status_code == 201, posted.text
        template_id = posted.json()["message"]["id"]

        async def template_sent() -> bool:
            detail = (await owner.get(f"/tickets/{ticket_id}")).json()["messages"]
            return any(m["id"] == template_id and m["delivery_status"] == "sent" for m in detail)

        await eventually(template_sent, 20)
    assert graph_api.sent[-1]["type"] == "template"
    assert graph_api.sent[-1]["biz_opaque_callback_data"] == template_id
    await owner.aclose()
