"""WhatsApp through Meta's Cloud API: connecting a number, its templates, and its webhook.

The owner connects a number with its ids, a system-user access token and the app secret,
then subscribes the webhook URL in Meta's app dashboard with the verify token shown here.
Meta checks the URL with a GET, then posts messages and statuses, each signed with the app
secret over the raw body; an unsigned or wrongly signed post is refused (401) before its
JSON is read, and nothing is written. Meta retries what is not answered 200 for up to 7
days and sends duplicates: messages are stored once by their wamid. A cancelled
workspace's posts are answered 409, so Meta keeps retrying them for those days and a restore
within them receives what came meanwhile (app/services/lifecycle.py).
"""

from __future__ import annotations

import logging
from typing import Annotated

import msgspec
from beanie import PydanticObjectId
from starlette.responses import PlainTextResponse, Response

from app.actions.inbound import receive
from app.api.body import read_body
from app.api.endpoint import Api, Call
from app.delivery.whatsapp import TEMPLATES_JOB, apply_status
from app.documents import Workspace
from app.documents.workspace import WhatsAppChannel
from app.domain.errors import DomainError, Forbidden, NotAuthenticated, NotFound
from app.domain.roles import Action
from app.schemas.common import iso
from app.services.ids import require_id
from app.services.lifecycle import refusal_for_provider
from app.services.workspaces import get_workspace
from channels import whatsapp
from realtime.events import Channel

api = Api()
log = logging.getLogger("tandem.channels")
C = "channels"
API_PREFIX = "/api/v1"
Digits = Annotated[str, msgspec.Meta(pattern=r"^\d{3,30}$")]


class WhatsAppConnect(msgspec.Struct, forbid_unknown_fields=True):
    phone_number_id: Digits  # WhatsApp Manager → API setup: "Phone number ID"
    waba_id: Digits  # "WhatsApp Business Account ID"
    access_token: Annotated[str, msgspec.Meta(min_length=10, max_length=1000)]
    app_secret: Annotated[str, msgspec.Meta(min_length=8, max_length=200)]


class TemplateOut(msgspec.Struct):
    name: str
    language: str
    category: str
    body_text: str
    param_count: int


class WhatsAppChannelOut(msgspec.Struct, omit_defaults=True):
    connected: bool
    # For Meta's app dashboard → WhatsApp → Configuration: callback URL and verify token.
    webhook_url: str | None = None
    verify_token: str | None = None
    phone_number_id: str | None = None
    waba_id: str | None = None
    connected_at: str | None = None
    templates: list[TemplateOut] = []
    templates_synced_at: str | None = None
    templates_error: str | None = None


class SyncQueued(msgspec.Struct):
    queued: bool


class WebhookTaken(msgspec.Struct):
    messages: int  # new messages stored (a duplicate counts 0)
    statuses: int  # statuses that moved a message on


def channel_out(call: Call, workspace: Workspace) -> WhatsAppChannelOut:
    channel = workspace.whatsapp
    if channel is None:
        return WhatsAppChannelOut(connected=False)
    base = call.runtime.settings.public_url
    return WhatsAppChannelOut(
        connected=True,
        webhook_url=f"{base}{API_PREFIX}/webhooks/whatsapp/{workspace.id}",
        verify_token=channel.verify_token,
        phone_number_id=channel.phone_number_id,
        waba_id=channel.waba_id,
        connected_at=iso(channel.enabled_at),
        templates=[
            TemplateOut(t.name, t.language, t.category, t.body_text, t.param_count)
            for t in channel.templates
        ],
        templates_synced_at=iso(channel.templates_synced_at),
        templates_error=channel.templates_error,
    )


async def _sync_soon(call: Call, ws: PydanticObjectId) -> bool:
    timers = call.runtime.deps.timers
    if timers is None:
        return False
    await timers.queue.enqueue(TEMPLATES_JOB, {"ws": str(ws)})
    return True


@api.op(
    "GET",
    "/channels/whatsapp",
    summary="Whether WhatsApp is connected: webhook URL, verify token, templates (owner)",
    tag=C,
    response=WhatsAppChannelOut,
    errors=(403,),
)
async def whatsapp_channel(call: Call) -> WhatsAppChannelOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    return channel_out(call, await get_workspace(call.agent.workspace_id))


@api.op(
    "PUT",
    "/channels/whatsapp",
    secret=True,
    summary="Connect a WhatsApp number (Cloud API): its ids, access token and app secret (owner)",
    tag=C,
    body=WhatsAppConnect,
    response=WhatsAppChannelOut,
    errors=(403, 422),
)
async def connect_whatsapp(call: Call) -> WhatsAppChannelOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    body: WhatsAppConnect = call.body
    ws = require_id(call.agent.workspace_id, "workspace")
    before = (await get_workspace(call.agent.workspace_id)).whatsapp
    channel = WhatsAppChannel(
        phone_number_id=body.phone_number_id,
        waba_id=body.waba_id,
        access_token=body.access_token,
        app_secret=body.app_secret,
    )
    if before is not None:  # keep what Meta was told, and the templates until the next sync
        channel.verify_token, channel.templates = before.verify_token, before.templates
    await Workspace.get_pymongo_collection().update_one(
        {"_id": ws}, {"$set": {"whatsapp": channel.model_dump()}}
    )
    log.info("workspace %s connected WhatsApp number %s", ws, body.phone_number_id)
    await _sync_soon(call, ws)
    return channel_out(call, await get_workspace(call.agent.workspace_id))


@api.op(
    "POST",
    "/channels/whatsapp/templates/sync",
    summary="Fetch the approved message templates again from WhatsApp (owner)",
    tag=C,
    response=SyncQueued,
    status=202,
    errors=(403, 404),
)
async def sync_whatsapp_templates(call: Call) -> SyncQueued:
    call.agent.require(Action.MANAGE_WORKSPACE)
    ws = require_id(call.agent.workspace_id, "workspace")
    if (await get_workspace(call.agent.workspace_id)).whatsapp is None:
        raise NotFound("connect WhatsApp first (PUT /channels/whatsapp)")
    return SyncQueued(queued=await _sync_soon(call, ws))


@api.op(
    "DELETE",
    "/channels/whatsapp",
    summary="Disconnect WhatsApp: Meta's webhooks are refused from now on, replies stop (owner)",
    tag=C,
    status=204,
    errors=(403,),
)
async def disconnect_whatsapp(call: Call) -> None:
    call.agent.require(Action.MANAGE_WORKSPACE)
    ws = require_id(call.agent.workspace_id, "workspace")
    await Workspace.get_pymongo_collection().update_one({"_id": ws}, {"$unset": {"whatsapp": ""}})
    log.info("workspace %s disconnected WhatsApp", ws)


async def _channel(workspace_id: str) -> WhatsAppChannel | None:
    workspace = await Workspace.find_one(Workspace.id == require_id(workspace_id, "workspace"))
    return workspace.whatsapp if workspace is not None else None


@api.op(
    "GET",
    "/webhooks/whatsapp/{workspace_id}",
    auth=False,
    summary="Meta's webhook verification: answers hub.challenge for the right verify token",
    tag=C,
    errors=(403, 404),  # 404: an id that is no workspace's
)
async def whatsapp_verify(call: Call) -> Response:
    workspace_id = call.path("workspace_id")
    channel = await _channel(workspace_id)
    params = dict(call.request.query_params)
    challenge = whatsapp.verify_challenge(params, channel.verify_token) if channel else None
    if challenge is None:
        log.warning("whatsapp webhook verification for %s refused", workspace_id)
        raise Forbidden("wrong verify token", code="bad_verify_token")
    return PlainTextResponse(challenge)


@api.op(
    "POST",
    "/webhooks/whatsapp/{workspace_id}",
    auth=False,
    summary="Meta's WhatsApp webhook: customers' messages and statuses (signed with the app "
    "secret)",
    tag=C,
    response=WebhookTaken,
    errors=(400, 401, 404, 409, 413, 503),  # 404: an id that is no workspace's
)
async def whatsapp_webhook(call: Call) -> WebhookTaken:
    workspace_id = call.path("workspace_id")
    workspace = await Workspace.find_one(Workspace.id == require_id(workspace_id, "workspace"))
    channel = workspace.whatsapp if workspace is not None else None
    raw = await read_body(call.request, call.runtime.settings.max_body_bytes)
    signature = call.request.headers.get("x-hub-signature-256")
    if channel is None or not whatsapp.signature_ok(raw, signature, channel.app_secret):
        log.warning("whatsapp webhook for %s refused: unsigned or wrongly signed", workspace_id)
        raise NotAuthenticated("the signature does not match", code="bad_signature")
    assert workspace is not None
    if (closed := refusal_for_provider(workspace, "whatsapp", 409)) is not None:
        raise closed
    try:
        hook = whatsapp.parse_webhook(raw, workspace_id)
    except whatsapp.Unprocessable as exc:
        log.warning("whatsapp webhook for %s refused: %s", workspace_id, exc)
        raise DomainError(str(exc), code="unprocessable_payload") from None
    deps, ws = call.runtime.deps, PydanticObjectId(workspace_id)
    limit = call.runtime.settings.max_attachment_bytes
    stored = 0
    for inbound in hook.messages:
        received = await receive(deps, Channel.WHATSAPP, inbound, file_limit=limit)
        stored += received.created
    moved = 0
    for report in hook.statuses:
        moved += await apply_status(deps, ws, report)
    return WebhookTaken(messages=stored, statuses=moved)
