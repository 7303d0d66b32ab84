"""A whole workspace as one zip, streamed as it is read: a JSON array per kind of record and
every stored file.

    manifest.json            format, workspace id, when, by whom, how many of each
    workspace.json           name, address, widget, hours, channels and AI settings, no secrets
    users.json               members with their role and teams, no password hashes
    teams.json, contacts.json, tickets.json (with their timeline), messages.json (notes
    included), canned_responses.json, articles.json, audit_events.json
    files/<blob id>/<name>   attachments and pictures, as they were received

Records are read in batches from the store and written through a zip writer that never seeks,
so the answer starts at once and memory stays flat however large the workspace is; the
compression runs in a thread, off the event loop that serves live sockets.
"""

from __future__ import annotations

import asyncio
import re
import zipfile
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, cast

import msgspec
from beanie import Document
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from app.blobs.mongo import FILES
from app.blobs.store import BlobNotFound, BlobStore
from app.documents import (
    Article,
    AuditEvent,
    CannedResponse,
    Contact,
    Membership,
    Message,
    Team,
    Ticket,
    User,
    Workspace,
)
from app.documents.common import utcnow

FORMAT = 1
BATCH = 200
Doc = dict[str, Any]
# Fields that are Tandem's bookkeeping or a secret, never the workspace's content.
BOOKKEEPING = {"outbox", "rev", "dedupe_key", "sending_since"}
CONTACT_KEYS = {"email_key", "phone_key", "whatsapp_id_key", "external_id_key"}
USER_SECRETS = {"password_hash", "session_epoch"}


def _enc_hook(value: Any) -> Any:
    if isinstance(value, ObjectId):
        return str(value)
    raise NotImplementedError(f"cannot export a {type(value).__name__}")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)


def _without(doc: Doc, fields: Iterable[str]) -> Doc:
    """The record with `id` first, without `fields`."""
    dropped = {"_id", *fields}
    return {"id": doc["_id"], **{k: v for k, v in doc.items() if k not in dropped}}


@dataclass(frozen=True)
class Part:
    name: str
    model: type[Document]
    shape: Callable[[Doc], Doc | None]


def _plain(doc: Doc) -> Doc | None:
    return _without(doc, BOOKKEEPING)


def _contact(doc: Doc) -> Doc | None:
    return _without(doc, BOOKKEEPING | CONTACT_KEYS)


def _article(doc: Doc) -> Doc | None:
    return None if doc.get("deleted_at") else _without(doc, BOOKKEEPING)


PARTS = (
    Part("teams.json", Team, _plain),
    Part("contacts.json", Contact, _contact),
    Part("tickets.json", Ticket, _plain),
    Part("messages.json", Message, _plain),
    Part("canned_responses.json", CannedResponse, _plain),
    Part("articles.json", Article, _article),
    Part("audit_events.json", AuditEvent, _plain),
)


def workspace_settings(workspace: Workspace) -> Doc:
    """What an owner set up, without a secret: no widget secret, webhook password, provider
    token, app secret, verify token or model key."""
    email = workspace.email
    whatsapp = workspace.whatsapp
    return {
        "id": str(workspace.id),
        "name": workspace.name,
        "slug": workspace.slug,
        "created_at": workspace.created_at,
        "timezone": workspace.timezone,
        "business_hours": {d: h.model_dump() for d, h in workspace.business_hours.items()},
        "allowed_origins": workspace.allowed_origins,
        "widget_greeting": workspace.widget_greeting,
        "widget_reply_time": workspace.widget_reply_time,
        "email": None
        if email is None
        else {
            "connected_at": email.enabled_at,
            "from_address": email.from_address,
            "reply_address": email.reply_address,
        },
        "whatsapp": None
        if whatsapp is None
        else {
            "phone_number_id": whatsapp.phone_number_id,
            "waba_id": whatsapp.waba_id,
            "connected_at": whatsapp.enabled_at,
            "templates": [t.model_dump() for t in whatsapp.templates],
        },
        "ai": workspace.ai.model_dump(exclude={"api_key"}),
        "cancelled_at": workspace.cancelled_at,
        "purge_after": workspace.purge_after,
    }


class _Pipe:
    """Where the zip writer writes: kept until the stream takes it. It cannot seek, so the
    writer puts each entry's sizes after its data."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def safe_name(filename: str) -> str:
    """A file name that stays inside its folder whatever the sender called it."""
    name = re.sub(r"[^\w.\- ()]+", "_", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    name = name.strip(" .") or "file"
    return name[:150]


class WorkspaceExport:
    def __init__(
        self,
        workspace: Workspace,
        database: AsyncDatabase[Doc],
        blobs: BlobStore | None,
        exported_by: str,
    ) -> None:
        assert workspace.id is not None
        self.workspace = workspace
        self.ws = workspace.id
        self.database = database
        self.blobs = blobs
        self.exported_by = exported_by
        self.counts: dict[str, int] = {}
        self._pipe = _Pipe()
        self._zip = zipfile.ZipFile(
            cast(IO[bytes], self._pipe), "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True
        )
        self._stamp = utcnow().timetuple()[:6]

    def _entry(self, name: str, *, compress: bool = True) -> IO[bytes]:
        info = zipfile.ZipInfo(name, date_time=self._stamp)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        return self._zip.open(info, "w", force_zip64=True)

    async def stream(self) -> AsyncIterator[bytes]:
        yield await self._json_file("workspace.json", workspace_settings(self.workspace))
        yield await self._users()
        for part in PARTS:
            async for chunk in self._collection(part):
                yield chunk
        async for chunk in self._files():
            yield chunk
        manifest = {
            "format": FORMAT,
            "workspace_id": str(self.ws),
            "workspace": self.workspace.slug,
            "exported_at": utcnow(),
            "exported_by": self.exported_by,
            "counts": self.counts,
        }
        yield await self._json_file("manifest.json", manifest)
        await asyncio.to_thread(self._zip.close)
        yield self._pipe.take()

    async def _json_file(self, name: str, value: Any) -> bytes:
        data = _encoder.encode(value)
        with self._entry(name) as entry:
            await asyncio.to_thread(entry.write, data)
        return self._pipe.take()

    async def _users(self) -> bytes:
        roles: dict[Any, Doc] = {}
        async for m in Membership.get_pymongo_collection().find({"workspace_id": self.ws}):
            roles[m["user_id"]] = {"role": m["role"], "team_ids": m.get("team_ids", [])}
        users: list[Doc] = []
        async for u in User.get_pymongo_collection().find({"workspace_id": self.ws}):
            users.append({**_without(u, USER_SECRETS), **roles.get(u["_id"], {})})
        self.counts["users"] = len(users)
        return await self._json_file("users.json", users)

    async def _collection(self, part: Part) -> AsyncIterator[bytes]:
        count = 0
        cursor = part.model.get_pymongo_collection().find(
            {"workspace_id": self.ws}, batch_size=BATCH
        )
        with self._entry(part.name) as entry:
            await asyncio.to_thread(entry.write, b"[")
            batch: list[bytes] = []
            async for raw in cursor:
                shaped = part.shape(raw)
                if shaped is None:
                    continue
                batch.append((b",\n" if count else b"\n") + _encoder.encode(shaped))
                count += 1
                if len(batch) == BATCH:
                    await asyncio.to_thread(entry.write, b"".join(batch))
                    batch = []
                    yield self._pipe.take()
            await asyncio.to_thread(entry.write, b"".join(batch) + b"\n]\n")
        self.counts[part.name.removesuffix(".json")] = count
        yield self._pipe.take()

    async def _files(self) -> AsyncIterator[bytes]:
        if self.blobs is None:
            return
        count = 0
        ids = [
            str(raw["_id"])
            async for raw in self.database[FILES].find({"workspace_id": self.ws}, {"_id": 1})
        ]
        for blob_id in ids:
            info = await self.blobs.info(str(self.ws), blob_id)
            if info is None:
                continue
            try:
                chunks = await self.blobs.read(str(self.ws), blob_id)
                with self._entry(
                    f"files/{blob_id}/{safe_name(info.filename)}", compress=False
                ) as entry:
                    async for chunk in chunks:
                        await asyncio.to_thread(entry.write, chunk)
                        yield self._pipe.take()
            except BlobNotFound:
                continue  # deleted while the export ran
            count += 1
        self.counts["files"] = count


def export_filename(workspace: Workspace, now: datetime | None = None) -> str:
    day = (now or utcnow()).strftime("%Y-%m-%d")
    return f"tandem-{safe_name(workspace.slug)}-{day}.zip"
