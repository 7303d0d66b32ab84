"""Inbound emails as Postmark posts them to a webhook (its documented inbound JSON)."""

from __future__ import annotations

import base64
import uuid
from typing import Any


def inbound_email(
    *,
    sender: str = "carla@example.com",
    name: str = "Carla Cliente",
    subject: str = "Order 1234 never arrived",
    text: str = "Hi, my order never arrived.",
    message_id: str | None = None,
    rfc_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    mailbox_hash: str = "",
    attachments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    headers = [
        {"Name": "X-Spam-Status", "Value": "No"},
        {"Name": "Message-ID", "Value": f"<{rfc_id or uuid.uuid4().hex + '@mail.example.com'}>"},
    ]
    if in_reply_to:
        headers.append({"Name": "in-reply-to", "Value": f"<{in_reply_to}>"})
    if references:
        headers.append({"Name": "References", "Value": " ".join(f"<{r}>" for r in references)})
    return {
        "FromName": name,
        "MessageStream": "inbound",
        "From": sender,
        "FromFull": {"Email": sender, "Name": name, "MailboxHash": ""},
        "To": f"support{'+' + mailbox_hash if mailbox_hash else ''}@inbound.postmarkapp.com",
        "ToFull": [
            {"Email": "support@inbound.postmarkapp.com", "Name": "", "MailboxHash": mailbox_hash}
        ],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": "support@inbound.postmarkapp.com",
        "Subject": subject,
        "MessageID": message_id or str(uuid.uuid4()),
        "ReplyTo": "",
        "MailboxHash": mailbox_hash,
        "Date": "Sun, 29 Nov 2026 21:10:08 +0000",
        "TextBody": text + "\n\nOn Fri, Support wrote:\n> earlier text",
        "HtmlBody": f"<p>{text}</p><blockquote>earlier text</blockquote>",
        "StrippedTextReply": text,
        "Tag": "",
        "Headers": headers,
        "Attachments": attachments or [],
    }


def attachment(name: str = "receipt.txt", content: bytes = b"paid 12 EUR") -> dict[str, Any]:
    return {
        "Name": name,
        "Content": base64.b64encode(content).decode(),
        "ContentType": "text/plain",
        "ContentLength": len(content),
    }
