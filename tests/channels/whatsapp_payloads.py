"""WhatsApp Cloud API `messages` webhooks as Meta posts them: customers' messages of each
type, and the statuses of messages the business sent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"
CUSTOMER_WA_ID = "16505551234"
CUSTOMER_NAME = "Sheena Nelson"
APP_SECRET = "app-secret-for-tests"


def wamid() -> str:
    """A message id shaped like WhatsApp's (`wamid.` and base64)."""
    raw = b"\x15\x02\x00\x12\x18\x14" + uuid.uuid4().hex.upper().encode()[:20] + b"\x00"
    return "wamid.HBgLMTY1MDU1NTEyMzQV" + base64.b64encode(raw).decode()


def webhook(
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    contacts: list[dict[str, Any]] | None = None,
    field: str = "messages",
) -> dict[str, Any]:
    """The envelope every `messages` webhook shares, around messages and/or statuses."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": PHONE_NUMBER_ID,
        },
    }
    if messages is not None:
        value["contacts"] = (
            contacts if contacts is not None else [contact(CUSTOMER_WA_ID, CUSTOMER_NAME)]
        )
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": field}]}],
    }


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    """The `X-Hub-Signature-256` header Meta sends with `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def contact(wa_id: str, name: str) -> dict[str, Any]:
    return {"profile": {"name": name}, "wa_id": wa_id}


def message(
    kind: str,
    content: dict[str, Any] | None = None,
    *,
    sender: str = CUSTOMER_WA_ID,
    id: str | None = None,
    timestamp: int | None = None,
    context: str | None = None,
) -> dict[str, Any]:
    """One customer message of `kind`, its type-named object being `content`."""
    msg: dict[str, Any] = {
        "from": sender,
        "id": id or wamid(),
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "type": kind,
    }
    if context:
        msg["context"] = {"from": DISPLAY_PHONE_NUMBER, "id": context}
    if content is not None:
        msg[kind] = content
    return msg


def text(body: str = "Does it come in another color?", **kw: Any) -> dict[str, Any]:
    return message("text", {"body": body}, **kw)


def media(
    kind: str = "image",
    *,
    media_id: str = "1479537139650973",
    mime_type: str = "image/jpeg",
    caption: str | None = None,
    filename: str | None = None,
    **kw: Any,
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "mime_type": mime_type,
        "sha256": hashlib.sha256(media_id.encode()).digest().hex(),
        "id": media_id,
    }
    if caption is not None:
        content["caption"] = caption
    if filename is not None:
        content["filename"] = filename
    if kind == "audio":
        content["voice"] = True
    if kind == "sticker":
        content["animated"] = False
    return message(kind, content, **kw)


def button_reply(title: str = "Yes, cancel it", **kw: Any) -> dict[str, Any]:
    content = {"type": "button_reply", "button_reply": {"id": "cancel-yes", "title": title}}
    return message("interactive", content, **kw)


def list_reply(
    title: str = "Express shipping", description: str = "Arrives tomorrow", **kw: Any
) -> dict[str, Any]:
    content = {
        "type": "list_reply",
        "list_reply": {"id": "ship-express", "title": title, "description": description},
    }
    return message("interactive", content, **kw)


def quick_reply(text: str = "Talk to an agent", **kw: Any) -> dict[str, Any]:
    """A tap on a template's quick-reply button; it names the template message it answers."""
    return message("button", {"payload": "AGENT", "text": text}, **kw)


def location(**kw: Any) -> dict[str, Any]:
    content = {
        "address": "1 Hacker Way, Menlo Park, CA 94025",
        "latitude": 37.483307,
        "longitude": -122.148981,
        "name": "Main office",
        "url": "https://example.com",
    }
    return message("location", content, **kw)


def shared_contacts(**kw: Any) -> dict[str, Any]:
    msg = message("contacts", None, **kw)
    msg["contacts"] = [
        {
            "name": {"first_name": "Ana", "formatted_name": "Ana Ruiz"},
            "phones": [{"phone": "+34 600 000 000", "type": "CELL", "wa_id": "34600000000"}],
        }
    ]
    return msg


def reaction(to_wamid: str, emoji: str = "\U0001f44d", **kw: Any) -> dict[str, Any]:
    return message("reaction", {"message_id": to_wamid, "emoji": emoji}, **kw)


def unsupported(**kw: Any) -> dict[str, Any]:
    msg = message("unsupported", None, **kw)
    msg["errors"] = [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }
    ]
    return msg


def status(
    wamid_: str,
    state: str = "delivered",
    *,
    recipient: str = CUSTOMER_WA_ID,
    timestamp: int = 1750263773,
    errors: list[dict[str, Any]] | None = None,
    tag: str | None = None,
) -> dict[str, Any]:
    """A status of a message the business sent (tagged as the send request was)."""
    st: dict[str, Any] = {
        "id": wamid_,
        "status": state,
        "timestamp": str(timestamp),
        "recipient_id": recipient,
    }
    if state in ("sent", "delivered"):
        st["conversation"] = {
            "id": "ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e",
            "origin": {"type": "service"},
        }
        st["pricing"] = {"billable": False, "pricing_model": "PMP", "category": "service",
                         "type": "free_customer_service"}  # fmt: skip
    if errors:
        st["errors"] = errors
    if tag:
        st["biz_opaque_callback_data"] = tag
    return st


def status_error(code: int, title: str, details: str) -> dict[str, Any]:
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


def outside_window_error() -> dict[str, Any]:
    return status_error(
        131047,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
    )


def graph_error(
    code: int, message: str, details: str = "", type_: str = "OAuthException"
) -> dict[str, Any]:
    """Graph's error answer, as a failed API call gets it."""
    error: dict[str, Any] = {
        "message": f"(#{code}) {message}",
        "type": type_,
        "code": code,
        "fbtrace_id": "A" + uuid.uuid4().hex[:22],
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


def template(
    name: str = "order_update",
    body: str = "Hello {{1}}, your order {{2}} has shipped.",
    *,
    language: str = "en_US",
    status: str = "APPROVED",
    category: str = "UTILITY",
    extra_components: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A message template as `GET /{waba_id}/message_templates` lists it."""
    return {
        "name": name,
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": body}, *(extra_components or [])],
        "language": language,
        "status": status,
        "category": category,
        "id": str(abs(hash(name + language)) % 10**15),
    }
