"""Translations for the agent who asks: a customer's message into the agent's language, and
the agent's reply into the customer's. They are short, so each is one JSON answer.

Refusals come before anything is sent, as for drafts: another workspace's ticket or message
(404), AI switched off (403), no key (409), this month's budget used up (402). A provider
failure is a JSON error with the provider error's code (app/ai/translate.py). Each call is one
ledger row with action "translate", holding counts only.
"""

from __future__ import annotations

from typing import Annotated

import httpx
import msgspec
from beanie import PydanticObjectId

from app.ai.ledger import check_allowed
from app.ai.prompts import reply_translation_messages, translation_messages
from app.ai.translate import MAX_TEXT_CHARS, language_tag, tokens_for, translate
from app.api.endpoint import Api, Call
from app.documents import Message, Ticket
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.roles import Action
from app.services.ids import require_id
from app.services.tickets import read_ticket
from app.services.workspaces import get_workspace
from realtime.events import Direction, Kind

api = Api()

CUSTOMER_READ = 20  # latest customer messages looked at for one with text

LanguageTag = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
        max_length=35,
        description="A BCP-47 language tag: en, es, pt-BR, zh-Hant",
    ),
]
ReplyText = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT_CHARS)]


class TranslateIn(msgspec.Struct, forbid_unknown_fields=True):
    to: LanguageTag


class TranslationOut(msgspec.Struct):
    text: str
    to: str
    # The original's language as the model tells it (a BCP-47 tag), when it says.
    source_language: str | None
    # The message was longer than one translation takes: only its start is translated.
    truncated: bool = False


class TranslateReplyIn(msgspec.Struct, forbid_unknown_fields=True):
    text: ReplyText


class ReplyTranslationOut(msgspec.Struct):
    text: str
    # The customer's language as the model tells it (a BCP-47 tag), when it says.
    to: str | None


def _http(call: Call) -> httpx.AsyncClient:
    http: httpx.AsyncClient = call.request.app.state.ai_http
    return http


async def _message_text(ws: PydanticObjectId, ticket: Ticket, message_id: str) -> str:
    """The text of a customer's message or an agent's reply on the ticket; notes and the
    ticket's timeline lines are refused."""
    raw = await Message.get_pymongo_collection().find_one(
        {"_id": require_id(message_id, "message"), "workspace_id": ws, "ticket_id": ticket.id},
        {"kind": 1, "text": 1},
    )
    if raw is None:
        line = await Ticket.get_pymongo_collection().find_one(
            {"_id": ticket.id, "workspace_id": ws, "activity.id": message_id}, {"_id": 1}
        )
        if line is not None:
            raise Invalid("a timeline line cannot be translated", code="not_translatable")
        raise NotFound("no such message")
    kind = raw.get("kind", Kind.MESSAGE.value)
    if kind == Kind.NOTE.value:
        raise Invalid("an internal note cannot be translated", code="not_translatable")
    if kind == Kind.SYSTEM.value:
        raise Invalid("a timeline line cannot be translated", code="not_translatable")
    text = str(raw.get("text") or "").strip()
    if not text:
        raise Invalid("the message has no text to translate", code="nothing_to_translate")
    return text


async def _latest_customer_text(ws: PydanticObjectId, ticket: Ticket) -> str | None:
    raw = await (
        Message.get_pymongo_collection()
        .find(
            {
                "workspace_id": ws,
                "ticket_id": ticket.id,
                "direction": Direction.IN.value,
                "kind": {"$nin": [Kind.NOTE.value, Kind.SYSTEM.value]},
            },
            {"text": 1},
        )
        .sort("_id", -1)
        .limit(CUSTOMER_READ)
        .to_list()
    )
    for message in raw:
        text = str(message.get("text") or "").strip()
        if text:
            return text
    return None


ERRORS = (402, 403, 404, 409, 422, 429, 502, 504)


@api.op(
    "POST",
    "/tickets/{ticket_id}/messages/{message_id}/translation",
    summary="A message of the ticket translated into the given language, with the language "
    "the model says it was written in",
    tag="ai",
    body=TranslateIn,
    response=TranslationOut,
    errors=ERRORS,
)
async def translate_message(call: Call) -> TranslationOut:
    call.agent.require(Action.WORK_TICKETS)
    body: TranslateIn = call.body
    to = language_tag(body.to)
    if to is None:
        raise Invalid("`to` is not a BCP-47 language tag", field="to", code="invalid_field")
    ws = require_id(call.agent.workspace_id, "workspace")
    ticket = await read_ticket(ws, require_id(call.path("ticket_id"), "ticket"))
    text = await _message_text(ws, ticket, call.path("message_id"))
    workspace = await get_workspace(call.agent.workspace_id)
    api_key = await check_allowed(ws, workspace.ai)
    truncated = len(text) > MAX_TEXT_CHARS
    text = text[:MAX_TEXT_CHARS]
    parsed = await translate(
        _http(call),
        ws,
        call.agent.user_id,
        workspace.ai,
        api_key,
        translation_messages(text, to),
        max_tokens=tokens_for(text),
        language_keys=("source_language", "language"),
    )
    return TranslationOut(
        text=parsed.text, to=to, source_language=parsed.language, truncated=truncated
    )


@api.op(
    "POST",
    "/tickets/{ticket_id}/ai/translate-reply",
    summary="The agent's reply translated into the language of the customer's latest message",
    tag="ai",
    body=TranslateReplyIn,
    response=ReplyTranslationOut,
    errors=ERRORS,
)
async def translate_reply(call: Call) -> ReplyTranslationOut:
    call.agent.require(Action.WORK_TICKETS)
    body: TranslateReplyIn = call.body
    if not body.text.strip():
        raise Invalid("there is no text to translate", field="text", code="invalid_field")
    ws = require_id(call.agent.workspace_id, "workspace")
    ticket = await read_ticket(ws, require_id(call.path("ticket_id"), "ticket"))
    workspace = await get_workspace(call.agent.workspace_id)
    api_key = await check_allowed(ws, workspace.ai)
    sample = await _latest_customer_text(ws, ticket)
    if sample is None:
        raise Conflict(
            "the ticket has no message from the customer to take the language from",
            code="nothing_to_answer",
        )
    parsed = await translate(
        _http(call),
        ws,
        call.agent.user_id,
        workspace.ai,
        api_key,
        reply_translation_messages(body.text, sample),
        max_tokens=tokens_for(body.text),
        language_keys=("language", "target_language", "to"),
    )
    return ReplyTranslationOut(text=parsed.text, to=parsed.language)
