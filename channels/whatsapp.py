"""WhatsApp through Meta's Cloud API: its webhooks parsed, its Graph API requests rendered.

Meta signs every webhook POST with `X-Hub-Signature-256: sha256=<hex>`, an HMAC-SHA256 of
the raw body keyed with the app secret; subscribing a webhook is a GET with `hub.mode`,
`hub.verify_token` and `hub.challenge`, answered with the challenge. The parts Tandem uses
of the `messages` webhook:

    object                              "whatsapp_business_account"
    entry[].changes[] {field, value}    only field "messages" is read
    value.metadata.phone_number_id      the business number that received or sent
    value.contacts[] {profile.name, wa_id}
    value.messages[] {from, id (wamid), timestamp, type, context {id}, <type> {...}}
        text {body}; image/video/audio/sticker/document {id, mime_type, sha256, caption,
        filename}; interactive {button_reply|list_reply {title, description}};
        button {text}; location {latitude, longitude, name, address}
    value.statuses[] {id (wamid), status, timestamp, recipient_id, biz_opaque_callback_data,
                      errors[] {code, title, message, error_data.details}}

And of the Graph API, under `/{GRAPH_VERSION}/`:

    POST {phone_number_id}/messages     send; answers {messages: [{id: wamid}]} or
                                        {error: {message, type, code, error_data.details}}
    GET  {media_id}                     {url, mime_type, sha256, file_size}; the url itself
                                        needs the same bearer token
    GET  {waba_id}/message_templates    {data: [{name, language, status, category,
                                        components [{type, text, format, buttons}]}], paging}

A free-form message reaches a customer only within 24 hours of their last message; after
that only an approved template does (error 131047).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import msgspec

from channels.adapter import Inbound

NAME = "whatsapp"
GRAPH_VERSION = "v21.0"
WINDOW_SECONDS = 24 * 3600
NEEDS_TEMPLATE = "needs a template: more than 24 hours since the customer's last message"
OUTSIDE_WINDOW = 131047

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
_CAPTIONED = {"image", "video", "document"}
_STATUSES = {"sent", "delivered", "read", "failed"}
_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_GRAPH_PREFIX = re.compile(r"^\(#\d+\)\s*")
_ANY_PLACEHOLDER = re.compile(r"\{\{\s*[^{}]*?\s*\}\}")


class Unprocessable(ValueError):
    """A payload that can never be processed, however often it is sent again."""


# -- webhook verification ---------------------------------------------------------------------


def signature_ok(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `X-Hub-Signature-256` is `sha256=` and the hex HMAC-SHA256 of the raw body
    keyed with the app secret, compared in constant time."""
    if not header or not app_secret:
        return False
    scheme, _, given = header.strip().partition("=")
    if scheme.lower() != "sha256" or not re.fullmatch(r"[0-9a-fA-F]{64}", given):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.lower().encode())


def verify_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to answer a subscription request with, when it asks to subscribe and
    names our verify token (compared in constant time); None otherwise."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token", "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    challenge = params.get("hub.challenge")
    return challenge or None


# -- webhook payloads -------------------------------------------------------------------------


class _Profile(msgspec.Struct):
    name: str = ""


class _Contact(msgspec.Struct):
    wa_id: str = ""
    profile: _Profile | None = None


class _Metadata(msgspec.Struct):
    phone_number_id: str = ""
    display_phone_number: str = ""


class _Context(msgspec.Struct):
    id: str = ""
    forwarded: bool = False


class _Text(msgspec.Struct):
    body: str = ""


class _Media(msgspec.Struct):
    id: str = ""
    mime_type: str = "application/octet-stream"
    sha256: str = ""
    caption: str = ""
    filename: str = ""


class _Reply(msgspec.Struct):
    id: str = ""
    title: str = ""
    description: str = ""


class _Interactive(msgspec.Struct):
    type: str = ""
    button_reply: _Reply | None = None
    list_reply: _Reply | None = None


class _Button(msgspec.Struct):
    text: str = ""
    payload: str = ""


class _Location(msgspec.Struct):
    latitude: float | None = None
    longitude: float | None = None
    name: str = ""
    address: str = ""


class _Message(msgspec.Struct, rename={"sender": "from"}):
    id: str
    sender: str
    type: str = "unknown"
    timestamp: str | int = 0
    context: _Context | None = None
    text: _Text | None = None
    image: _Media | None = None
    video: _Media | None = None
    audio: _Media | None = None
    document: _Media | None = None
    sticker: _Media | None = None
    interactive: _Interactive | None = None
    button: _Button | None = None
    location: _Location | None = None


class _ErrorData(msgspec.Struct):
    details: str = ""


class _Error(msgspec.Struct):
    code: int | None = None
    title: str = ""
    message: str = ""
    error_data: _ErrorData | None = None


class _Status(msgspec.Struct):
    id: str
    status: str
    recipient_id: str = ""
    timestamp: str | int = 0
    errors: list[_Error] = []
    biz_opaque_callback_data: str = ""


class _Value(msgspec.Struct):
    metadata: _Metadata | None = None
    contacts: list[_Contact] = []
    messages: list[_Message] = []
    statuses: list[_Status] = []


class _Change(msgspec.Struct):
    field: str = ""
    value: msgspec.Raw = msgspec.Raw()


class _Entry(msgspec.Struct):
    id: str = ""
    changes: list[_Change] = []


class _Payload(msgspec.Struct):
    object: str
    entry: list[_Entry] = []


_payload_decoder = msgspec.json.Decoder(_Payload)
_value_decoder = msgspec.json.Decoder(_Value)


StatusName = Literal["sent", "delivered", "read", "failed"]


@dataclass(frozen=True)
class StatusReport:
    """What became of a message Tandem sent: `sent`, `delivered`, `read` or `failed`."""

    wamid: str
    status: StatusName
    recipient_id: str
    timestamp: int
    error_code: int | None = None
    error: str | None = None
    needs_template: bool = False
    # What the sender tagged the message with (`biz_opaque_callback_data`): Tandem's own id
    # of it, known even when the send's answer never arrived.
    tag: str | None = None


@dataclass
class Webhook:
    """A `messages` webhook: the customers' messages and the statuses of Tandem's. For each
    message, keyed by its wamid: when the customer sent it (Unix seconds, the start of the
    24-hour window) and the business number it was sent to."""

    messages: list[Inbound] = field(default_factory=list)
    statuses: list[StatusReport] = field(default_factory=list)
    timestamps: dict[str, int] = field(default_factory=dict)
    phone_number_ids: dict[str, str] = field(default_factory=dict)


def parse_webhook(raw_body: bytes, workspace_id: str) -> Webhook:
    """A `messages` webhook's customer messages as `Inbound`s and its delivery statuses;
    `Unprocessable` when the body is not a WhatsApp Business Account webhook. Changes of
    other fields are skipped; a message of a type Tandem does not show still arrives, as a
    note pointing to WhatsApp."""
    try:
        payload = _payload_decoder.decode(raw_body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Unprocessable(f"not a WhatsApp webhook: {exc}") from None
    if payload.object != "whatsapp_business_account":
        raise Unprocessable(f"not a WhatsApp Business Account webhook: {payload.object!r}")
    webhook = Webhook()
    for entry in payload.entry:
        for change in entry.changes:
            if change.field != "messages" or not change.value:
                continue
            try:
                value = _value_decoder.decode(change.value)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise Unprocessable(f"not a WhatsApp messages change: {exc}") from None
            _collect(value, workspace_id, webhook)
    return webhook


def _collect(value: _Value, workspace_id: str, webhook: Webhook) -> None:
    names = {c.wa_id: c.profile.name for c in value.contacts if c.profile and c.profile.name}
    phone_number_id = value.metadata.phone_number_id if value.metadata else ""
    for message in value.messages:
        webhook.messages.append(_inbound(message, names.get(message.sender), workspace_id))
        webhook.timestamps[message.id] = _int(message.timestamp)
        if phone_number_id:
            webhook.phone_number_ids[message.id] = phone_number_id
    for status in value.statuses:
        report = _status(status)
        if report is not None:
            webhook.statuses.append(report)


def _inbound(message: _Message, name: str | None, workspace_id: str) -> Inbound:
    text, attachments = _message_text(message)
    answered = message.context.id if message.context and message.context.id else None
    return Inbound(
        workspace_id=workspace_id,
        text=text,
        identifier=("whatsapp_id", message.sender),
        sender_name=name,
        subject=None,
        provider_message_id=message.id,
        attachments=attachments,
        message_ref=message.id,
        reply_to_refs=(answered,) if answered else (),
    )


def _message_text(message: _Message) -> tuple[str, list[dict[str, object]]]:
    """What a customer's message says, as text, and the media it carries."""
    kind = message.type
    if kind == "text" and message.text is not None:
        return message.text.body, []
    if kind in MEDIA_KINDS:
        media: _Media | None = getattr(message, kind)
        if media is not None and media.id:
            text = media.caption or (media.filename if kind == "document" else "")
            return text, [_attachment(kind, media)]
    if kind == "interactive" and message.interactive is not None:
        reply = message.interactive.button_reply or message.interactive.list_reply
        if reply is not None and reply.title:
            return "\n".join(p for p in (reply.title, reply.description) if p), []
    if kind == "button" and message.button is not None and message.button.text:
        return message.button.text, []
    if kind == "location" and message.location is not None:
        return _location(message.location), []
    return f"Unsupported message ({kind}), see WhatsApp", []


def _attachment(kind: str, media: _Media) -> dict[str, object]:
    return {
        "kind": kind,
        "media_id": media.id,
        "content_type": media.mime_type,
        "filename": media.filename or None,
        "sha256": media.sha256,
    }


def _location(location: _Location) -> str:
    parts = ["Location:"] + [p for p in (location.name, location.address) if p]
    if location.latitude is not None and location.longitude is not None:
        parts.append(f"({location.latitude}, {location.longitude})")
    return " ".join(parts)


def _int(value: str | int) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _status(status: _Status) -> StatusReport | None:
    if status.status not in _STATUSES:
        return None
    error = status.errors[0] if status.errors else None
    code = error.code if error else None
    return StatusReport(
        wamid=status.id,
        status=cast(StatusName, status.status),
        recipient_id=status.recipient_id,
        timestamp=_int(status.timestamp),
        error_code=code,
        error=_reason(code, error) if error else None,
        needs_template=code == OUTSIDE_WINDOW,
        tag=status.biz_opaque_callback_data or None,
    )


def _reason(code: int | None, error: _Error) -> str:
    """An error as an agent reads it: its title (or message) and details."""
    if code == OUTSIDE_WINDOW:
        return NEEDS_TEMPLATE
    known = (TRANSIENT_CODES.get(code) or PERMANENT_CODES.get(code)) if code is not None else None
    head = error.title or _GRAPH_PREFIX.sub("", error.message) or known or f"error {code}"
    details = error.error_data.details if error.error_data else ""
    text = f"{head}: {details}" if details and details != head else head
    return text[:300]


# -- sending ----------------------------------------------------------------------------------


def messages_url(base_url: str, phone_number_id: str) -> str:
    return f"{base_url.rstrip('/')}/{GRAPH_VERSION}/{phone_number_id}/messages"


def media_url(base_url: str, media_id: str) -> str:
    return f"{base_url.rstrip('/')}/{GRAPH_VERSION}/{media_id}"


def templates_url(base_url: str, waba_id: str) -> str:
    return f"{base_url.rstrip('/')}/{GRAPH_VERSION}/{waba_id}/message_templates"


def _envelope(to: str, kind: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": kind}  # fmt: skip


def tagged(body: dict[str, Any], tag: str) -> dict[str, Any]:
    """A send request whose statuses will carry `tag` back (`biz_opaque_callback_data`)."""
    return {**body, "biz_opaque_callback_data": tag[:512]}


def render_text(to: str, text: str, reply_to_wamid: str | None = None) -> dict[str, Any]:
    """A free-form text message; quoting the customer's message it answers, when given."""
    body = _envelope(to, "text")
    body["text"] = {"preview_url": False, "body": text}
    if reply_to_wamid:
        body["context"] = {"message_id": reply_to_wamid}
    return body


def render_template(to: str, name: str, language: str, params: list[str]) -> dict[str, Any]:
    """An approved template, its body's `{{1}}`, `{{2}}`, … filled with `params` in order."""
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if params:
        template["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
        ]
    body = _envelope(to, "template")
    body["template"] = template
    return body


def render_media(
    to: str,
    kind: str,
    media_id_or_link: str,
    caption: str | None = None,
    filename: str | None = None,
) -> dict[str, Any]:
    """An image, video, audio, document or sticker, by an uploaded media id or a public
    https link. Captions go only where WhatsApp shows them (image, video, document), a
    filename only on a document."""
    if kind not in MEDIA_KINDS:
        raise ValueError(f"not a WhatsApp media type: {kind!r}")
    is_link = media_id_or_link.startswith(("https://", "http://"))
    media: dict[str, Any] = {"link" if is_link else "id": media_id_or_link}
    if caption and kind in _CAPTIONED:
        media["caption"] = caption
    if filename and kind == "document":
        media["filename"] = filename
    body = _envelope(to, kind)
    body[kind] = media
    return body


# Graph error codes a later attempt may get past: throttling, downtime, unknown errors.
TRANSIENT_CODES = {
    1: "API unknown error",
    2: "API service temporarily unavailable",
    4: "API too many calls",
    80007: "rate limit hit",
    130429: "throughput limit hit",
    131000: "something went wrong",
    131016: "service unavailable",
    131048: "spam rate limit hit",
    131056: "too many messages to this customer",
    131057: "business account in maintenance mode",
    133004: "server temporarily unavailable",
}
# Graph error codes no retry will fix.
PERMANENT_CODES = {
    0: "access token expired",
    10: "permission denied",
    100: "invalid parameter",
    190: "access token expired or revoked",
    200: "permission denied",
    368: "temporarily blocked for policy violations",
    131008: "required parameter missing",
    131009: "parameter value not valid",
    131021: "recipient cannot be the sender",
    131026: "message undeliverable",
    131031: "business account locked",
    131042: "payment issue",
    131045: "phone number certificate not valid",
    131047: NEEDS_TEMPLATE,
    131049: "Meta chose not to deliver",
    131050: "customer stopped marketing messages",
    131051: "unsupported message type",
    131052: "media download error",
    131053: "media upload error",
    133010: "business phone number not registered",
}


@dataclass(frozen=True)
class SendResult:
    """A send's answer: the message's wamid, or why not and whether trying again may help."""

    wamid: str | None = None
    permanent: bool = False
    code: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.wamid is not None


class _SentMessage(msgspec.Struct):
    id: str = ""


class _SendAnswer(msgspec.Struct):
    messages: list[_SentMessage] = []
    error: _Error | None = None


_send_decoder = msgspec.json.Decoder(_SendAnswer)


def is_permanent(status_code: int, code: int | None) -> bool:
    """Whether a failed send will fail again however often it is retried: by the Graph
    error code when it is a known one, else by the HTTP status (429 and 5xx are worth
    another attempt, other 4xx are not)."""
    if code is not None:
        if code in TRANSIENT_CODES:
            return False
        if code in PERMANENT_CODES or 132000 <= code <= 132016:  # template errors
            return True
    return not (status_code == 429 or status_code >= 500)


def parse_send_answer(status_code: int, body: bytes) -> SendResult:
    """Graph's answer to `POST …/messages` as the sent message's wamid or a failure."""
    try:
        answer = _send_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        answer = _SendAnswer()
    if 200 <= status_code < 300:
        wamid = next((m.id for m in answer.messages if m.id), None)
        if wamid:
            return SendResult(wamid=wamid)
        # WhatsApp took the request but named no message: sending again risks a duplicate.
        return SendResult(permanent=True, reason="the answer names no message")
    error = answer.error
    code = error.code if error else None
    reason = _reason(code, error) if error else f"HTTP {status_code}"
    return SendResult(permanent=is_permanent(status_code, code), code=code, reason=reason)


# -- uploading media --------------------------------------------------------------------------

# The types WhatsApp shows as an image, an audio or a video message; anything else goes as a
# document (with its filename).
_AS_IMAGE = {"image/jpeg", "image/png"}
_AS_AUDIO = {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}
_AS_VIDEO = {"video/mp4", "video/3gpp"}


def media_upload_url(base_url: str, phone_number_id: str) -> str:
    return f"{base_url.rstrip('/')}/{GRAPH_VERSION}/{phone_number_id}/media"


def media_kind(content_type: str) -> str:
    """How a file of this type is sent: `image`, `audio`, `video` or `document`."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in _AS_IMAGE:
        return "image"
    if kind in _AS_AUDIO:
        return "audio"
    if kind in _AS_VIDEO:
        return "video"
    return "document"


def captioned(kind: str) -> bool:
    """Whether a media message of this kind shows a caption."""
    return kind in _CAPTIONED


class _Uploaded(msgspec.Struct):
    id: str = ""
    error: _Error | None = None


def parse_upload_answer(status_code: int, body: bytes) -> SendResult:
    """Graph's answer to `POST …/media`: the uploaded media's id (as `wamid`), or why not."""
    try:
        answer = msgspec.json.decode(body, type=_Uploaded)
    except (msgspec.DecodeError, msgspec.ValidationError):
        answer = _Uploaded()
    if 200 <= status_code < 300 and answer.id:
        return SendResult(wamid=answer.id)
    code = answer.error.code if answer.error else None
    reason = _reason(code, answer.error) if answer.error else f"HTTP {status_code}"
    return SendResult(permanent=is_permanent(status_code, code), code=code, reason=reason)


# -- templates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    category: str
    status: str
    body_text: str
    param_count: int


class _TemplateButton(msgspec.Struct):
    type: str = ""
    url: str = ""


class _Component(msgspec.Struct):
    type: str = ""
    format: str = ""
    text: str = ""
    buttons: list[_TemplateButton] = []


class _TemplateData(msgspec.Struct):
    name: str = ""
    language: str = ""
    status: str = ""
    category: str = ""
    parameter_format: str = "POSITIONAL"
    components: list[_Component] = []


class _Paging(msgspec.Struct):
    next: str = ""


class _Templates(msgspec.Struct):
    data: list[_TemplateData] = []
    paging: _Paging | None = None


_templates_decoder = msgspec.json.Decoder(_Templates)


def _decode_templates(body: bytes) -> _Templates:
    try:
        return _templates_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Unprocessable(f"not a list of message templates: {exc}") from None


def parse_templates(body: bytes) -> list[Template]:
    """The approved templates Tandem can send: those whose only variables are numbered
    `{{n}}` placeholders in the body (no media header, header variables or URL variables)."""
    templates = []
    for t in _decode_templates(body).data:
        if t.status.upper() != "APPROVED" or not t.name or t.parameter_format.upper() == "NAMED":
            continue
        body_text = next((c.text for c in t.components if c.type.upper() == "BODY"), "")
        if not _fillable(t.components, body_text):
            continue
        templates.append(
            Template(
                name=t.name,
                language=t.language,
                category=t.category,
                status=t.status.upper(),
                body_text=body_text,
                param_count=len(set(_PLACEHOLDER.findall(body_text))),
            )
        )
    return templates


def _fillable(components: list[_Component], body_text: str) -> bool:
    if len(_ANY_PLACEHOLDER.findall(body_text)) != len(_PLACEHOLDER.findall(body_text)):
        return False
    for c in components:
        kind = c.type.upper()
        if kind == "HEADER" and (
            (c.format and c.format.upper() != "TEXT") or _ANY_PLACEHOLDER.search(c.text)
        ):
            return False
        if kind == "BUTTONS" and any(_ANY_PLACEHOLDER.search(b.url) for b in c.buttons):
            return False
    return True


def next_page(body: bytes) -> str | None:
    """The URL of the next page of templates, when there is one."""
    paging = _decode_templates(body).paging
    return paging.next if paging and paging.next else None


def fill_template(body_text: str, params: list[str]) -> str:
    """A template's body as the customer reads it: `{{n}}` replaced by the n-th param
    (placeholders without a param stay as they are)."""

    def fill(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return params[index] if 0 <= index < len(params) else match.group(0)

    return _PLACEHOLDER.sub(fill, body_text)


# -- media ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaInfo:
    url: str
    mime_type: str
    file_size: int
    sha256: str


class _MediaAnswer(msgspec.Struct):
    url: str
    mime_type: str = "application/octet-stream"
    sha256: str = ""
    file_size: int | str = 0


_media_decoder = msgspec.json.Decoder(_MediaAnswer)


def parse_media_info(body: bytes) -> MediaInfo:
    """Graph's answer to `GET /{media_id}`: where to download the media (with the same
    bearer token) and what it is."""
    try:
        answer = _media_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Unprocessable(f"not a media description: {exc}") from None
    if not answer.url:
        raise Unprocessable("the media description has no url")
    return MediaInfo(
        url=answer.url,
        mime_type=answer.mime_type,
        file_size=_int(answer.file_size),
        sha256=answer.sha256,
    )
