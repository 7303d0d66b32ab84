"""The webchat channel: visitors of a customer's website, through the embedded widget.

The widget talks to Tandem's own API, so there is no provider format to parse: a visitor's
message is already an `Inbound` naming its contact, and replies reach the visitor over their
socket as events, with nothing to render or send.
"""

from __future__ import annotations

from channels.adapter import Inbound

NAME = "webchat"
SUBJECT_LENGTH = 80


def subject_from(text: str) -> str:
    """A new conversation's subject: the first words of its first message, on one line."""
    line = " ".join(text.split())
    return line if len(line) <= SUBJECT_LENGTH else line[: SUBJECT_LENGTH - 1] + "…"


def parse(
    workspace_id: str,
    contact_id: str,
    text: str,
    client_id: str | None,
    name: str | None,
    uploads: list[str] | None = None,
) -> Inbound:
    """A visitor's message; `uploads` are the ids of files the visitor uploaded for it."""
    files: list[dict[str, object]] = [{"blob_id": blob_id} for blob_id in uploads or []]
    subject = subject_from(text) if text.strip() else "A file from the website"
    return Inbound(
        workspace_id=workspace_id,
        text=text,
        contact_id=contact_id,
        client_id=client_id,
        sender_name=name,
        subject=subject,
        attachments=files,
    )
