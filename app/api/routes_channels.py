"""Customer channels a workspace connects: email through Postmark, and its inbound webhook.

The owner connects email once (`PUT /channels/email`) and pastes the inbound webhook URL it
answers — credentials included, shown that once — into Postmark's server settings. Postmark
then posts each inbound email there. Its answers follow what Postmark does with them: a
2xx is done; 401 (wrong credentials) and 5xx (a backend down) are retried for hours; 403 is
for a payload that can never be processed, which Postmark stops retrying. A cancelled
workspace's webhooks get 403 too: Postmark keeps the email among its failed inbound
messages, retryable by hand after a restore (app/services/lifecycle.py).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

import msgspec
from beanie import PydanticObjectId
from bson import ObjectId

from app.actions.contacts import mark_bounced
from app.actions.inbound import receive
from app.actions.messages import record_delivery
from app.api.body import read_body
from app.api.endpoint import Api, Call
from app.delivery.email import POSTMARK
from app.documents import Workspace
from app.documents.workspace import EmailChannel
from app.domain.errors import Forbidden, NotAuthenticated, NotFound
from app.domain.roles import Action
from app.services.ids import require_id
from app.services.lifecycle import refusal_for_provider
from app.services.workspaces import get_workspace
from channels import postmark
from realtime.events import Channel, DeliveryStatus

api = Api()
log = logging.getLogger("tandem.channels")
C = "channels"
INBOUND_USER = "postmark"
# Postmark's inbound payload carries attachments base64-encoded, up to 35 MB of them.
WEBHOOK_BODY_LIMIT = 40 * 1024 * 1024
API_PREFIX = "/api/v1"  # where app.main mounts every operation


class EmailChannelOut(msgspec.Struct, omit_defaults=True):
    connected: bool
    # Paste into Postmark: Servers → your server → Settings → Inbound → Webhook URL. With
    # the password only in the answer that made it.
    inbound_webhook_url: str | None = None
    # For Postmark's delivery, bounce and open webhooks (same credentials).
    events_webhook_url: str | None = None
    connected_at: str | None = None
    sending_from: str | None = None  # replies go out From this address, once set
    reply_address: str | None = None


class EmailSending(msgspec.Struct, forbid_unknown_fields=True):
    server_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    from_address: Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    # Answers come back through its plus-addresses; Postmark's inbound address, or your own
    # forwarded to it. The From address when left out.
    reply_address: Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None


class WebhookAccepted(msgspec.Struct):
    ticket_id: str
    message_id: str
    created: bool  # False when Postmark sent a message again that was stored already


def webhook_url(call: Call, workspace_id: str, password: str | None, hook: str = "inbound") -> str:
    base = urlsplit(call.runtime.settings.public_url)
    auth = f"{INBOUND_USER}:{password}@" if password else f"{INBOUND_USER}@"
    path = f"{base.path.rstrip('/')}{API_PREFIX}/webhooks/postmark/{workspace_id}/{hook}"
    return urlunsplit((base.scheme, auth + base.netloc, path, "", ""))


def channel_out(call: Call, workspace: Workspace, password: str | None = None) -> EmailChannelOut:
    if workspace.email is None:
        return EmailChannelOut(connected=False)
    return EmailChannelOut(
        connected=True,
        inbound_webhook_url=webhook_url(call, str(workspace.id), password),
        events_webhook_url=webhook_url(call, str(workspace.id), password, "events"),
        connected_at=workspace.email.enabled_at.isoformat(),
        sending_from=workspace.email.from_address if workspace.email.server_token else None,
        reply_address=workspace.email.reply_address,
    )


@api.op(
    "GET",
    "/channels/email",
    summary="Whether email (Postmark) is connected, and its inbound webhook URL (owner)",
    tag=C,
    response=EmailChannelOut,
    errors=(403,),
)
async def email_channel(call: Call) -> EmailChannelOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    return channel_out(call, await get_workspace(call.agent.workspace_id))


@api.op(
    "PUT",
    "/channels/email",
    secret=True,
    summary="Connect email (Postmark): new inbound webhook credentials, shown once (owner)",
    tag=C,
    response=EmailChannelOut,
    errors=(403,),
)
async def connect_email(call: Call) -> EmailChannelOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    password = secrets.token_urlsafe(24)
    channel = EmailChannel(
        inbound_user=INBOUND_USER,
        inbound_password_sha256=hashlib.sha256(password.encode()).hexdigest(),
    )
    ws = require_id(call.agent.workspace_id, "workspace")
    before = (await get_workspace(call.agent.workspace_id)).email
    if before is not None:  # new credentials; how replies are sent stays as it was
        channel.server_token, channel.from_address = before.server_token, before.from_address
        channel.reply_address = before.reply_address
    await Workspace.get_pymongo_collection().update_one(
        {"_id": ws}, {"$set": {"email": channel.model_dump()}}
    )
    log.info("workspace %s connected email; earlier webhook credentials stop working", ws)
    return channel_out(call, await get_workspace(call.agent.workspace_id), password)


@api.op(
    "PATCH",
    "/channels/email",
    secret=True,
    summary="Set how email replies are sent: Postmark server token, From, Reply-To (owner)",
    tag=C,
    body=EmailSending,
    response=EmailChannelOut,
    errors=(403, 404, 422),
)
async def email_sending(call: Call) -> EmailChannelOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    body: EmailSending = call.body
    ws = require_id(call.agent.workspace_id, "workspace")
    done = await Workspace.get_pymongo_collection().update_one(
        {"_id": ws, "email": {"$ne": None}},
        {
            "$set": {
                "email.server_token": body.server_token,
                "email.from_address": body.from_address.lower(),
                "email.reply_address": (body.reply_address or body.from_address).lower(),
            }
        },
    )
    if done.matched_count != 1:
        raise NotFound("connect email first (PUT /channels/email)")
    return channel_out(call, await get_workspace(call.agent.workspace_id))


@api.op(
    "DELETE",
    "/channels/email",
    summary="Disconnect email: its webhooks are refused from now on, replies stop (owner)",
    tag=C,
    status=204,
    errors=(403,),
)
async def disconnect_email(call: Call) -> None:
    call.agent.require(Action.MANAGE_WORKSPACE)
    ws = require_id(call.agent.workspace_id, "workspace")
    await Workspace.get_pymongo_collection().update_one({"_id": ws}, {"$unset": {"email": ""}})
    log.info("workspace %s disconnected email", ws)


async def _postmark_body(call: Call, workspace_id: str, limit: int) -> bytes:
    """A Postmark webhook's body, once its credentials are checked."""
    await _check_postmark(call, workspace_id)
    return await read_body(call.request, limit)


def _refuse(workspace_id: str, exc: postmark.Unprocessable) -> Forbidden:
    """403: Postmark stops retrying a payload that can never be processed."""
    log.warning("postmark webhook for %s refused: %s", workspace_id, exc)
    return Forbidden(str(exc), code="unprocessable_payload")


async def _check_postmark(call: Call, workspace_id: str) -> None:
    """The webhook's basic-auth credentials, against the workspace's (401 otherwise)."""
    workspace = await Workspace.find_one(Workspace.id == require_id(workspace_id, "workspace"))
    channel = workspace.email if workspace is not None else None
    authorization = call.request.headers.get("authorization")
    if channel is None or not postmark.credentials_ok(
        authorization, channel.inbound_user, channel.inbound_password_sha256
    ):
        log.warning("postmark webhook for %s refused: wrong or no credentials", workspace_id)
        raise NotAuthenticated("wrong webhook credentials", code="bad_webhook_credentials")
    assert workspace is not None
    if (closed := refusal_for_provider(workspace, "postmark", 403)) is not None:
        raise closed


@api.op(
    "POST",
    "/webhooks/postmark/{workspace_id}/inbound",
    auth=False,
    summary="Postmark's inbound webhook: one email in (basic auth from the webhook URL)",
    tag=C,
    response=WebhookAccepted,
    errors=(401, 403, 404, 413, 503),  # 404: an id that is no workspace's
)
async def postmark_inbound(call: Call) -> WebhookAccepted:
    workspace_id = call.path("workspace_id")
    body = await _postmark_body(call, workspace_id, WEBHOOK_BODY_LIMIT)
    try:
        inbound = postmark.parse_inbound(workspace_id, body)
    except postmark.Unprocessable as exc:
        raise _refuse(workspace_id, exc) from None
    received = await receive(
        call.runtime.deps,
        Channel.EMAIL,
        inbound,
        file_limit=call.runtime.settings.max_attachment_bytes,
    )
    return WebhookAccepted(
        ticket_id=str(received.ticket.id),
        message_id=str(received.message.id),
        created=received.created,
    )


class ReportTaken(msgspec.Struct):
    applied: bool  # False for a report that changed nothing (a duplicate, late, not ours)


@api.op(
    "POST",
    "/webhooks/postmark/{workspace_id}/events",
    auth=False,
    summary="Postmark's delivery, bounce and open webhooks: a reply's status moves on",
    tag=C,
    response=ReportTaken,
    errors=(401, 403, 404, 413, 503),  # 404: an id that is no workspace's
)
async def postmark_events(call: Call) -> ReportTaken:
    workspace_id = call.path("workspace_id")
    body = await _postmark_body(call, workspace_id, call.runtime.settings.max_body_bytes)
    try:
        report = postmark.parse_event(body)
    except postmark.Unprocessable as exc:
        raise _refuse(workspace_id, exc) from None
    if report is None:
        return ReportTaken(applied=False)
    ws, deps = PydanticObjectId(workspace_id), call.runtime.deps
    if report.dead_address:
        reason = report.reason or "bounced"
        await mark_bounced(deps, ws, report.dead_address, reason, actor=POSTMARK)
    if not ObjectId.is_valid(report.message_id):
        log.warning("postmark event for %s names no message of ours: %r", ws, report.message_id)
        return ReportTaken(applied=False)
    try:
        moved = await record_delivery(
            deps,
            ws,
            PydanticObjectId(report.message_id),
            DeliveryStatus(report.status),
            actor=POSTMARK,
            error=report.reason,
        )
    except NotFound:
        log.warning("postmark event for %s: unknown message %s, ignored", ws, report.message_id)
        return ReportTaken(applied=False)
    return ReportTaken(applied=moved is not None)
