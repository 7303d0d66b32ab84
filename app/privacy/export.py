"""Everything about one person, as a zip for them: `export.json` and their files.

`export.json` holds the contact and each of their conversations with the messages exchanged
with them, both ways (what they wrote and what the team answered), each file listed with its
place in the zip under `attachments/`. The team's private notes are left out unless asked for
(`include_notes`): they are the company's own records, may hold other people's data (an
agent's opinion, a colleague's name) and are what a data-access answer is entitled to review
before handing over; an admin who has reviewed them, or whose policy is to give everything,
asks for them. Timeline lines ("Ana assigned…") are workflow, not the person's data, and are
left out.

The zip is written as it is sent: the JSON first, then each file in the blob store's chunks,
so no file is ever held whole.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator

import msgspec
from beanie import PydanticObjectId

from app.blobs.store import BlobNotFound, BlobStore
from app.documents import Message
from app.documents.common import utcnow
from app.domain.attachments import safe_filename
from app.privacy.subject import Subject
from app.schemas.common import iso
from app.schemas.contacts import contact_out
from realtime.events import ContactView, Kind

FORMAT = "tandem.personal-data.v1"
DOCUMENT = "export.json"


class ExportedFile(msgspec.Struct):
    filename: str
    content_type: str
    size: int
    path: str | None  # where it is in the zip; None when Tandem did not keep the file
    refused: str | None = None  # why it was not kept


class ExportedMessage(msgspec.Struct):
    id: str
    direction: str  # "in": written by the person; "out": by the team
    kind: str  # "message", or "note" when notes were asked for
    author: str | None  # the team member's name, or the person's as it was then
    text: str
    created_at: str | None
    files: list[ExportedFile]


class ExportedConversation(msgspec.Struct):
    id: str
    number: int
    subject: str
    channel: str
    status: str
    created_at: str | None
    updated_at: str | None
    messages: list[ExportedMessage]


class PersonalDataExport(msgspec.Struct):
    format: str
    exported_at: str | None
    workspace_id: str
    notes_included: bool
    contact: ContactView
    conversations: list[ExportedConversation]


class _Spool(io.RawIOBase):
    """Where the zip writes; what it wrote is taken away piece by piece and sent."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buffer += data
        return len(data)

    def take(self) -> bytes:
        out = bytes(self._buffer)
        self._buffer.clear()
        return out


def _included(message: Message, notes: bool) -> bool:
    return message.kind is Kind.MESSAGE or (notes and message.kind is Kind.NOTE)


async def build_export(
    subject: Subject, blobs: BlobStore | None, *, notes: bool
) -> tuple[PersonalDataExport, list[tuple[str, str]]]:
    """The document, and the (blob id, path in the zip) of each file kept to go with it."""
    ws = str(subject.workspace_id)
    files: list[tuple[str, str]] = []
    conversations: list[ExportedConversation] = []
    for ticket in subject.tickets:
        messages: list[ExportedMessage] = []
        for m in subject.messages:
            if m.ticket_id != ticket.id or not _included(m, notes):
                continue
            exported_files: list[ExportedFile] = []
            for a in m.attachments:
                path = None
                if a.blob_id and blobs is not None and await blobs.info(ws, a.blob_id):
                    path = f"attachments/{a.blob_id}/{safe_filename(a.filename)}"
                    files.append((a.blob_id, path))
                exported_files.append(
                    ExportedFile(a.filename, a.content_type, a.size, path, a.refused)
                )
            messages.append(
                ExportedMessage(
                    id=str(m.id),
                    direction=m.direction.value,
                    kind=m.kind.value,
                    author=m.author.name,
                    text=m.text,
                    created_at=iso(m.created_at),
                    files=exported_files,
                )
            )
        conversations.append(
            ExportedConversation(
                id=str(ticket.id),
                number=ticket.number,
                subject=ticket.subject,
                channel=ticket.channel.value,
                status=ticket.status.value,
                created_at=iso(ticket.created_at),
                updated_at=iso(ticket.updated_at),
                messages=messages,
            )
        )
    document = PersonalDataExport(
        format=FORMAT,
        exported_at=iso(utcnow()),
        workspace_id=ws,
        notes_included=notes,
        contact=contact_out(subject.contact),
        conversations=conversations,
    )
    return document, files


async def zip_stream(
    workspace_id: PydanticObjectId,
    document: PersonalDataExport,
    files: list[tuple[str, str]],
    blobs: BlobStore | None,
) -> AsyncIterator[bytes]:
    """The zip, piece by piece. A file deleted since the document was made is left out."""
    spool = _Spool()
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(DOCUMENT, msgspec.json.format(msgspec.json.encode(document)))
        yield spool.take()
        for blob_id, path in files:
            if blobs is None:
                break
            try:
                chunks = await blobs.read(str(workspace_id), blob_id)
            except BlobNotFound:
                continue
            with archive.open(path, "w", force_zip64=True) as member:
                async for chunk in chunks:
                    member.write(chunk)
                    if piece := spool.take():
                        yield piece
            yield spool.take()
    yield spool.take()
