"""Email through Postmark: its inbound webhook's JSON parsed into an `Inbound`.

Postmark does not sign webhooks; the URL carries basic-auth credentials instead, checked in
constant time. The parts Tandem uses of Postmark's inbound format:

    FromFull {Email, Name}   the sender (From as a fallback)
    Subject, MessageID       the subject; Postmark's id of the message (dedupe)
    StrippedTextReply        the new text without the quoted history (TextBody as a fallback)
    HtmlBody                 the HTML as sent
    MailboxHash              the part after "+" in the address it was sent to
    Headers [{Name, Value}]  Message-ID, In-Reply-To, References (names case-insensitive)
    Attachments [{Name, ContentType, ContentLength, Content (base64)}]
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from channels.adapter import Inbound

NAME = "email"
_REF = re.compile(r"<([^<>\s]+)>")
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|antw)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


class Unprocessable(ValueError):
    """A payload that can never be processed, however often it is sent again."""


class _Address(msgspec.Struct):
    Email: str = ""
    Name: str = ""


class _Header(msgspec.Struct):
    Name: str = ""
    Value: str = ""


class _Attachment(msgspec.Struct):
    Name: str = ""
    ContentType: str = "application/octet-stream"
    ContentLength: int = 0
    Content: str = ""


class _Payload(msgspec.Struct):
    FromFull: _Address | None = None
    From: str = ""
    Subject: str = ""
    MessageID: str = ""
    TextBody: str = ""
    HtmlBody: str = ""
    StrippedTextReply: str = ""
    MailboxHash: str = ""
    Headers: list[_Header] = []
    Attachments: list[_Attachment] = []


_decoder = msgspec.json.Decoder(_Payload)


def credentials_ok(authorization: str | None, user: str, password_digest: str) -> bool:
    """Whether an `Authorization: Basic …` header names `user` and a password whose
    SHA-256 hex digest is `password_digest`, compared in constant time."""
    if not authorization or not authorization.lower().startswith("basic "):
        return False
    try:
        given = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    name, _, password = given.partition(":")
    digest = hashlib.sha256(password.encode()).hexdigest()
    return hmac.compare_digest(name.encode(), user.encode()) & hmac.compare_digest(
        digest.encode(), password_digest.encode()
    )


def refs(value: str) -> list[str]:
    """The Message-IDs in a header value, without their angle brackets."""
    return _REF.findall(value)


def thread_subject(subject: str) -> str:
    """A subject as a thread knows it: without "Re:"/"Fwd:" prefixes, spaces or case."""
    return " ".join(_REPLY_PREFIX.sub("", subject).split()).casefold()


def _header(headers: list[_Header], name: str) -> str:
    wanted = name.lower()
    return next((h.Value for h in headers if h.Name.lower() == wanted), "")


def parse_inbound(workspace_id: str, body: bytes) -> Inbound:
    """Postmark's inbound JSON as an `Inbound`; `Unprocessable` when it is not one."""
    try:
        payload = _decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Unprocessable(f"not Postmark's inbound JSON: {exc}") from None
    sender = payload.FromFull or _Address(Email=payload.From)
    email = sender.Email.strip()
    if "@" not in email:
        raise Unprocessable("the message has no sender address")
    if not payload.MessageID:
        raise Unprocessable("the message has no MessageID")
    text = (payload.StrippedTextReply or payload.TextBody).strip()
    answered = refs(_header(payload.Headers, "In-Reply-To"))
    answered += [
        r for r in reversed(refs(_header(payload.Headers, "References"))) if r not in answered
    ]
    own = refs(_header(payload.Headers, "Message-ID"))
    return Inbound(
        workspace_id=workspace_id,
        text=text or "(no text)",
        identifier=("email", email),
        sender_name=sender.Name.strip() or None,
        subject=payload.Subject.strip() or "(no subject)",
        provider_message_id=f"postmark:{payload.MessageID}",
        html=payload.HtmlBody or None,
        message_ref=own[0] if own else None,
        reply_to_refs=tuple(answered),
        thread_token=_token(payload.MailboxHash),
        attachments=[_attachment(a) for a in payload.Attachments],
    )


def _token(mailbox_hash: str) -> str | None:
    token = mailbox_hash.strip()
    return token if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token) else None


def _attachment(a: _Attachment) -> dict[str, Any]:
    return {
        "filename": a.Name or "attachment",
        "content_type": a.ContentType,
        "size": a.ContentLength,
        "content": a.Content,
    }


def render_email(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    message_ref: str,
    answers: list[str],
    reply_to: str,
    tag: str,
    attachments: Sequence[tuple[str, str, bytes]] = (),  # (filename, content type, bytes)
) -> dict[str, Any]:
    """An agent's reply as Postmark's `POST /email` body. Tandem names the email itself
    (`Message-ID`), and says what it answers (`In-Reply-To`: the newest of `answers`;
    `References`: all of them, oldest first), so mail clients thread it and the customer's
    answer names it back; `Reply-To` is the ticket's plus-address, the next fallback."""
    headers = [{"Name": "Message-ID", "Value": f"<{message_ref}>"}]
    if answers:
        headers.append({"Name": "In-Reply-To", "Value": f"<{answers[-1]}>"})
        headers.append({"Name": "References", "Value": " ".join(f"<{r}>" for r in answers)})
    return {
        "From": sender,
        "To": to,
        "Subject": subject if subject.lower().startswith("re:") else f"Re: {subject}",
        "TextBody": text,
        "ReplyTo": reply_to,
        "Headers": headers,
        "MessageStream": "outbound",
        "Metadata": {"tandem_message": tag},
        **(
            {
                "Attachments": [
                    {"Name": name, "ContentType": kind, "Content": base64.b64encode(data).decode()}
                    for name, kind, data in attachments
                ]
            }
            if attachments
            else {}
        ),
    }


def plus_address(address: str, token: str) -> str:
    """`support@example.com` with a token: `support+<token>@example.com`."""
    local, _, domain = address.partition("@")
    return f"{local.split('+', 1)[0]}+{token}@{domain}"


# Postmark's API error codes that no retry will fix (its documented codes): an invalid or
# inactive recipient, a sender signature not confirmed, an invalid server token.
PERMANENT_ERRORS = {10: "invalid server token", 300: "invalid email", 400: "sender not confirmed",
                    406: "inactive recipient"}  # fmt: skip


class _Event(msgspec.Struct):
    RecordType: str = ""
    Type: str = ""
    TypeCode: int = 0
    Description: str = ""
    Email: str = ""
    Inactive: bool = False
    Metadata: dict[str, str] = {}


_event_decoder = msgspec.json.Decoder(_Event)
# Bounce types that are not a delivery's end: Postmark keeps trying (or it is not a bounce).
NOT_FINAL_BOUNCES = {"Transient", "DnsError", "SoftBounce", "AutoResponder", "OpenRelayTest"}
# Bounces that say the address itself is bad, whatever is sent to it.
HARD_BOUNCES = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated", "SpamComplaint"}


@dataclass(frozen=True)
class DeliveryReport:
    message_id: str  # Tandem's id of the message, from the email's metadata
    status: str  # delivered | read | failed
    reason: str | None = None
    # For a hard bounce, or when Postmark stopped sending to it: the address no longer taking
    # email, and why.
    dead_address: str | None = None


def parse_event(body: bytes) -> DeliveryReport | None:
    """A delivery, bounce or open webhook as a `DeliveryReport`. None for what does not move
    a message (another record type, a bounce Postmark keeps retrying, an email Tandem did not
    send)."""
    try:
        event = _event_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Unprocessable(f"not a Postmark webhook: {exc}") from None
    message_id = event.Metadata.get("tandem_message")
    if not message_id:
        return None
    if event.RecordType == "Delivery":
        return DeliveryReport(message_id, "delivered")
    if event.RecordType == "Open":
        return DeliveryReport(message_id, "read")
    if event.RecordType == "Bounce" and event.Type not in NOT_FINAL_BOUNCES:
        reason = f"bounced ({event.Type}): {event.Description}"[:300]
        dead = event.Inactive or event.Type in HARD_BOUNCES
        address = event.Email.strip() if dead and "@" in event.Email else None
        return DeliveryReport(message_id, "failed", reason, address)
    return None
