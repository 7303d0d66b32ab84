"""The webchat widget's endpoints, called cross-origin from customers' sites.

Every call names (or carries a token for) one workspace and is refused unless the request's
Origin is on that workspace's allowed list. Visitors authenticate with their visitor token
(`Authorization: Bearer vt.…`), which grants their own conversation and nothing else."""

from __future__ import annotations

from functools import partial
from typing import Any

from app import widget_limits
from app.actions import contacts as contact_actions
from app.actions.attachments import uploaded_by
from app.actions.inbound import current_conversation, receive
from app.actions.messages import mark_read
from app.actions.widget_identity import verified_contact
from app.api.endpoint import Api, Call
from app.auth.socket_tokens import SocketClaims
from app.auth.throttle import client_address
from app.auth.visitor_tokens import VisitorClaims, identity_ok
from app.documents import Contact, Message, Workspace
from app.documents.message import Kind
from app.domain.errors import Forbidden, Invalid, NotAuthenticated, NotFound
from app.schemas.tickets import message_out
from app.schemas.widget import (
    ConversationOut,
    ProfileIn,
    ReadIn,
    SessionIn,
    SessionOut,
    VisitorOut,
    WidgetMessageIn,
    WidgetMessageOut,
    WidgetStatusOut,
)
from app.services import contacts
from app.services.ids import require_id
from app.services.lifecycle import refusal_for_visitors
from app.services.tickets import messages_of
from channels import webchat
from realtime.events import Actor, Channel, Direction, MessageView, visitor_message

api = Api()
W = "widget"
# Attributes Tandem itself sets on a visitor; the host page may not overwrite them.
RESERVED_ATTRIBUTES = frozenset({"source", "claimed_email"})


def check_origin(call: Call, workspace: Workspace) -> None:
    origin = (call.request.headers.get("origin") or "").rstrip("/")
    if origin not in workspace.allowed_origins:
        raise Forbidden(
            f"the origin {origin or '(none)'} may not embed this workspace's widget; an owner "
            "adds it under allowed origins",
            code="origin_not_allowed",
        )


async def load_workspace(workspace_id: str) -> Workspace:
    workspace = await Workspace.get(require_id(workspace_id, "workspace"))
    if workspace is None:
        raise NotFound("no such workspace")
    if (closed := refusal_for_visitors(workspace)) is not None:
        raise closed  # a cancelled workspace's widget shows nothing
    return workspace


async def visitor_of(call: Call) -> tuple[Workspace, Contact]:
    header = call.request.headers.get("authorization", "")
    claims = (
        call.runtime.visitor_tokens.read(header[7:].strip())
        if header[:7].lower() == "bearer "
        else None
    )
    if claims is None:
        raise NotAuthenticated("a valid visitor token is needed", code="visitor_token_invalid")
    workspace = await load_workspace(claims.workspace_id)
    check_origin(call, workspace)
    contact = await contacts.find_contact(workspace.id, claims.contact_id)
    if contact is None:
        raise NotAuthenticated("this visitor no longer exists", code="visitor_token_invalid")
    return workspace, contact


def visitor_actor(contact: Contact) -> Actor:
    return Actor(kind="contact", id=str(contact.id), name=contact.name)


async def agents_online(call: Call, workspace: Workspace) -> bool:
    snapshot = await call.runtime.presence.snapshot(str(workspace.id))
    return any(status == "online" for status in snapshot.values())


def seen_up_to(thread: list[MessageView], read_up_to: str | None = None) -> str | None:
    """The last of the visitor's messages an agent has seen: up to `read_up_to` (an agent
    had the conversation open), or before an agent's reply (an agent who answered had it in
    front of them; automated replies prove nothing), whichever is later."""
    seen = last_in = None
    for message in thread:
        if message.direction is Direction.IN:
            last_in = message.id
            if read_up_to is not None and message.id == read_up_to:
                seen = last_in
        elif message.author.kind == "agent":
            seen = last_in
    return seen


def widget_message(message: Message) -> WidgetMessageOut:
    return visitor_message(message_out(message))


async def _session_contact(call: Call, body: SessionIn, workspace: Workspace) -> Contact:
    claims = call.runtime.visitor_tokens.read(body.visitor_token) if body.visitor_token else None
    current = None
    if claims is not None and claims.workspace_id == str(workspace.id):
        current = await contacts.find_contact(workspace.id, claims.contact_id)
    if body.user is not None:
        if not identity_ok(workspace.widget_secret, body.user.id, body.user.hash):
            raise Forbidden(
                "the identity hash does not match this user id", code="identity_invalid"
            )
        # A proven identity: that contact, whatever the browser was before. The anonymous
        # visitor's conversation stays with the anonymous contact; nothing merges.
        return await verified_contact(call.runtime.deps, workspace, body.user)
    if current is not None and not current.verified:
        return current
    # No token, or a verified visitor's token without its proof (the visitor logged out of
    # the host site): a fresh anonymous visitor, never acting as that user.
    assert workspace.id is not None
    address = client_address(call.request)
    await widget_limits.new_visitor(call.runtime.redis, str(workspace.id), address)
    return await contact_actions.create_contact(
        call.runtime.deps,
        workspace.id,
        actor=Actor(kind="contact"),
        name=None,
        identifiers={},
        custom_attributes={"source": "webchat"},
    )


@api.op(
    "POST",
    "/widget/session",
    summary="Start or resume a visitor session (optionally with a verified identity)",
    tag=W,
    body=SessionIn,
    response=SessionOut,
    auth=False,
    errors=(403, 404, 422, 429),
)
async def session(call: Call) -> SessionOut:
    body: SessionIn = call.body
    workspace = await load_workspace(body.workspace)
    check_origin(call, workspace)
    contact = await _session_contact(call, body, workspace)
    ws, cid = str(workspace.id), str(contact.id)
    conversation = await current_conversation(contact, Channel.WEBCHAT)
    return SessionOut(
        visitor_token=call.runtime.visitor_tokens.issue(
            VisitorClaims(workspace_id=ws, contact_id=cid, verified=contact.verified)
        ),
        socket_token=call.runtime.socket_tokens.issue(
            SocketClaims(kind="visitor", workspace_id=ws, subject_id=cid)
        ),
        socket_path="/live",
        visitor=VisitorOut(cid, contact.name, contact.email, contact.verified),
        conversation_id=str(conversation.id) if conversation else None,
        agents_online=await agents_online(call, workspace),
        reply_time=workspace.widget_reply_time,
        greeting=workspace.widget_greeting,
    )


@api.op(
    "GET",
    "/widget/conversation",
    summary="The visitor's conversation (no private notes), with the event seq",
    tag=W,
    response=ConversationOut,
    auth=False,
    errors=(401, 403),
)
async def conversation(call: Call) -> ConversationOut:
    workspace, contact = await visitor_of(call)
    seq = await call.runtime.relay.broker.last_seq(str(workspace.id))
    ticket = await current_conversation(contact, Channel.WEBCHAT)
    messages = (
        [m for m in await messages_of(ticket, include_notes=False) if m.kind is Kind.MESSAGE]
        if ticket
        else []
    )
    return ConversationOut(
        conversation_id=str(ticket.id) if ticket else None,
        status=ticket.status.value if ticket else None,
        messages=[visitor_message(m) for m in messages],
        seq=seq,
        agents_online=await agents_online(call, workspace),
        seen_up_to=seen_up_to(
            messages,
            str(ticket.agent_read_up_to) if ticket and ticket.agent_read_up_to else None,
        ),
    )


@api.op(
    "GET",
    "/widget/status",
    summary="Whether an agent is online now, and the usual reply time",
    tag=W,
    response=WidgetStatusOut,
    auth=False,
    errors=(401, 403),
)
async def widget_status(call: Call) -> WidgetStatusOut:
    workspace, _ = await visitor_of(call)
    return WidgetStatusOut(
        agents_online=await agents_online(call, workspace), reply_time=workspace.widget_reply_time
    )


@api.op(
    "POST",
    "/widget/messages",
    summary="Send a visitor message; resending the same client_id stores it once",
    tag=W,
    body=WidgetMessageIn,
    response=WidgetMessageOut,
    status=201,
    auth=False,
    errors=(401, 403, 413, 422, 429),
)
async def send_message(call: Call) -> WidgetMessageOut:
    workspace, contact = await visitor_of(call)
    body: WidgetMessageIn = call.body
    ws, address = str(workspace.id), client_address(call.request)
    await widget_limits.message(call.runtime.redis, ws, address, str(contact.id))
    if not body.text.strip() and not body.attachments:
        raise Invalid("write a message or attach a file", field="text")
    if body.attachments and not await uploaded_by(
        call.runtime.redis, body.attachments, f"contact:{contact.id}"
    ):
        raise Invalid("attach files you uploaded in the last day", field="attachments")
    inbound = webchat.parse(
        str(workspace.id),
        str(contact.id),
        body.text,
        body.client_id,
        contact.name,
        body.attachments,
    )
    # Counted only when the message would open a conversation, under the conversation lock.
    opening = partial(widget_limits.new_conversation, call.runtime.redis, ws, address)
    received = await receive(call.runtime.deps, Channel.WEBCHAT, inbound, before_opening=opening)
    return widget_message(received.message)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal including types (1 and True differ), so an unchanged page writes nothing."""
    return a.keys() == b.keys() and all(type(a[k]) is type(b[k]) and a[k] == b[k] for k in a)


@api.op(
    "POST",
    "/widget/profile",
    summary="The pre-chat form (name, email) and the host page's attributes; never merges",
    tag=W,
    body=ProfileIn,
    response=VisitorOut,
    auth=False,
    errors=(401, 403, 422),
)
async def profile(call: Call) -> VisitorOut:
    workspace, contact = await visitor_of(call)
    body: ProfileIn = call.body
    reserved = sorted(RESERVED_ATTRIBUTES & set(body.attributes or {}))
    if reserved:
        raise Invalid(
            f"the attribute {reserved[0]!r} is set by Tandem, not by the page",
            field=f"attributes.{reserved[0]}",
            code="reserved_attribute",
        )
    changes: dict[str, Any] = {}
    attributes = dict(contact.custom_attributes)
    if body.attributes:
        attributes.update(body.attributes)
    if body.name and not contact.verified:
        changes["name"] = body.name
    if body.email and not contact.verified:
        # Anyone can type any address here. It is kept, unverified, so agents see it and
        # can write to it, but it never makes this visitor the contact that tickets and
        # emails for the address are matched to (app/actions/contacts.py update_contact).
        assert workspace.id is not None
        owner = await contacts.lookup(workspace.id, "email", body.email)
        if owner is None or owner.id == contact.id:
            changes["email"] = body.email
        else:
            # Another contact's address: kept apart, so agents see the claim as such.
            attributes["claimed_email"] = body.email.lower()
    if not _same(attributes, contact.custom_attributes):
        changes["custom_attributes"] = attributes
    if changes:
        assert workspace.id is not None
        contact = await contact_actions.update_contact(
            call.runtime.deps,
            workspace.id,
            str(contact.id),
            changes,
            visitor_actor(contact),
            unverified_email=True,
        )
    return VisitorOut(str(contact.id), contact.name, contact.email, contact.verified)


@api.op(
    "POST",
    "/widget/read",
    summary="The visitor has read the conversation up to a message",
    tag=W,
    body=ReadIn,
    status=204,
    auth=False,
    errors=(401, 403, 404),
)
async def read(call: Call) -> None:
    _, contact = await visitor_of(call)
    body: ReadIn = call.body
    ticket = await current_conversation(contact, Channel.WEBCHAT)
    if ticket is None:
        raise NotFound("no such message in this conversation")
    await mark_read(
        call.runtime.deps, ticket, require_id(body.up_to, "message"), visitor_actor(contact)
    )
