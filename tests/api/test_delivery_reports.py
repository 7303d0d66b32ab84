"""A provider's delivery reports move a reply forward, once each, and tell the agents: one
`message.updated` event per change; duplicates and late reports change nothing."""

from __future__ import annotations

from beanie import PydanticObjectId
from starlette.applications import Starlette

from app.actions.messages import record_delivery
from app.actions.tickets import open_ticket
from app.documents import Ticket
from realtime.events import Actor, Channel, DeliveryStatus, MessageUpdated
from tests.apiclient import AgentClient, runtime_of, sign_up

POSTMARK = Actor(kind="channel", name="Postmark")


async def email_ticket(app: Starlette) -> tuple[AgentClient, str, Ticket]:
    """A signed-up owner, their workspace id, and a ticket that came in by email."""
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    ticket = await open_ticket(
        runtime_of(app).deps,
        workspace_id=PydanticObjectId(ws),
        subject="By email",
        channel=Channel.EMAIL,
        actor=POSTMARK,
    )
    return owner, ws, ticket


async def test_delivery_reports_move_a_reply_forward_once_each(app: Starlette) -> None:
    owner, ws, ticket = await email_ticket(app)
    runtime = runtime_of(app)
    reply = await owner.post(f"/tickets/{ticket.id}/messages", json={"text": "On its way"})
    assert reply.status_code == 201
    message = reply.json()["message"]
    assert message["delivery_status"] == "queued"  # email goes out through the provider
    mid, oid = message["id"], PydanticObjectId(message["id"])
    before = await runtime.relay.broker.last_seq(ws)

    async def report(status: DeliveryStatus, error: str | None = None) -> bool:
        moved = await record_delivery(
            runtime.deps, PydanticObjectId(ws), oid, status, actor=POSTMARK, error=error
        )
        return moved is not None

    assert await report(DeliveryStatus.SENT)
    assert not await report(DeliveryStatus.SENT)  # the provider said it twice
    assert await report(DeliveryStatus.DELIVERED)
    assert not await report(DeliveryStatus.SENT)  # arrived late
    assert not await report(DeliveryStatus.FAILED, "bounced")  # delivered already

    replay = await runtime.relay.broker.replay(ws, before, 100)
    updates = [e for e in replay.events if isinstance(e, MessageUpdated)]
    assert [u.data.message.delivery_status for u in updates] == ["sent", "delivered"]
    assert all(u.data.message.id == mid for u in updates)
    thread = (await owner.get(f"/tickets/{ticket.id}")).json()["messages"]
    assert [m["delivery_status"] for m in thread if m["id"] == mid] == ["delivered"]
    await owner.aclose()


async def test_a_failed_delivery_shows_the_providers_reason(app: Starlette) -> None:
    owner, ws, ticket = await email_ticket(app)
    runtime = runtime_of(app)
    reply = (await owner.post(f"/tickets/{ticket.id}/messages", json={"text": "Hi"})).json()
    failed = await record_delivery(
        runtime.deps,
        PydanticObjectId(ws),
        PydanticObjectId(reply["message"]["id"]),
        DeliveryStatus.FAILED,
        actor=POSTMARK,
        error="406 inactive recipient",
    )
    assert failed is not None
    thread = (await owner.get(f"/tickets/{ticket.id}")).json()["messages"]
    shown = next(m for m in thread if m["id"] == reply["message"]["id"])
    assert shown["delivery_status"] == "failed"
    assert shown["delivery_error"] == "406 inactive recipient"
    await owner.aclose()
