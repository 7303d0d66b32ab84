"""Files on messages, every channel and both directions: kept in the blob store, shown only to
who may see them, refused with a reason when too large or of a forbidden type."""

from __future__ import annotations

import base64
import struct
import uuid
import zlib
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.actions.attachments import keep_from_channel
from app.delivery.common import TransientDelivery
from app.delivery.email import deliver_email
from app.delivery.whatsapp import MediaJob, deliver_whatsapp, fetch_media
from tests.api.test_email_inbound import connected as email_connected
from tests.api.test_whatsapp import connected as whatsapp_connected
from tests.api.test_whatsapp import thread, ticket_of
from tests.apiclient import AgentClient, runtime_of, sign_up
from tests.channels import whatsapp_payloads as wa
from tests.channels.fake_graph import fake_graph
from tests.channels.fake_postmark import fake_postmark
from tests.channels.postmark_payloads import attachment, inbound_email
from tests.widget.test_widget_api import site_client, start, widget_workspace


def png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def raw_attachment(name: str, content_type: str, content: bytes) -> dict[str, Any]:
    return {**attachment(name, content), "ContentType": content_type}


async def files_of(owner: AgentClient, ticket_id: str) -> list[dict[str, Any]]:
    detail = (await owner.get(f"/tickets/{ticket_id}")).json()
    return [a for m in detail["messages"] for a in m["attachments"]]


async def test_an_emails_files_are_kept_and_bad_ones_say_why(app: Starlette) -> None:
    owner, postmark = await email_connected(app)
    image = png()
    files = [
        attachment("receipt.txt", b"paid 12 EUR"),
        raw_attachment("photo.png", "image/png", image),
        raw_attachment("invoice.pdf.exe", "application/pdf", b"MZ\x90\x00" + b"\x00" * 60),
        raw_attachment("fake.png", "image/png", b"<svg onload=alert(1)>"),
    ]
    answer = await postmark.post(inbound_email(attachments=files))
    assert answer.status_code == 200, answer.text
    shown = await files_of(owner, answer.json()["ticket_id"])
    assert [f["filename"] for f in shown] == [
        "receipt.txt", "photo.png", "invoice.pdf.exe", "fake.png",
    ]  # fmt: skip
    text, photo, exe, fake = shown
    assert (text["content_type"], text["inline"], text["refused"]) == ("text/plain", False, None)
    assert (photo["content_type"], photo["inline"]) == ("image/png", True)
    assert exe["refused"] is not None
    assert exe["url"] is None
    assert fake["refused"] is not None
    assert fake["url"] is None

    got = await owner.get(photo["url"].removeprefix("/api/v1"))
    assert got.status_code == 200
    assert got.content == image
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("inline")
    download = await owner.get(text["url"].removeprefix("/api/v1"))
    assert download.content == b"paid 12 EUR"
    assert download.headers["content-disposition"].startswith("attachment")

    # Another workspace's agent: the same id is simply not there.
    stranger = await sign_up(app)
    assert (await stranger.get(photo["url"].removeprefix("/api/v1"))).status_code == 404
    assert (await stranger.get("/attachments/not-an-id")).status_code == 404
    await stranger.aclose()
    await owner.aclose()


async def test_a_file_over_the_limit_becomes_a_note_of_its_size(app: Starlette) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    big = {"filename": "scan.pdf", "content_type": "application/pdf",
           "content": base64.b64encode(b"%PDF-1.7\n" + b"0" * 3000).decode()}  # fmt: skip
    [kept] = await keep_from_channel(runtime_of(app).deps.blobs, ws, [big], limit=2048)
    assert kept.blob_id is None
    assert kept.refused is not None
    assert kept.refused.startswith("too large")
    assert kept.size > 2048
    await owner.aclose()


async def test_an_agent_attaches_a_file_to_an_email_reply(app: Starlette) -> None:
    owner, postmark = await email_connected(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    sending = {"server_token": "pm-token", "from_address": "help@acme.example"}
    assert (await owner.patch("/channels/email", json=sending)).status_code == 200
    ticket_id = (await postmark.post(inbound_email())).json()["ticket_id"]
    upload = await owner.post(
        "/attachments",
        params={"filename": "label.png"},
        content=png(),
        headers={"content-type": "image/png"},
    )
    assert upload.status_code == 201, upload.text
    blob = upload.json()
    assert (blob["content_type"], blob["inline"]) == ("image/png", True)
    reply = await owner.post(
        f"/tickets/{ticket_id}/messages",
        json={"text": "Here is your return label.", "attachments": [blob["id"]]},
    )
    assert reply.status_code == 201, reply.text
    assert [a["filename"] for a in reply.json()["message"]["attachments"]] == ["label.png"]
    with fake_postmark() as fake:
        async with httpx.AsyncClient() as http:
            await deliver_email(
                runtime_of(app).deps, http, fake.url, ws, reply.json()["message"]["id"]
            )
    [sent_file] = fake.received[-1]["Attachments"]
    assert sent_file["Name"] == "label.png"
    assert base64.b64decode(sent_file["Content"]) == png()

    # Refusals: a forbidden type, nothing at all, someone else's upload.
    exe = await owner.post(
        "/attachments", params={"filename": "x.exe"}, content=b"MZ" + b"\x00" * 100,
        headers={"content-type": "application/octet-stream"},
    )  # fmt: skip
    assert exe.status_code == 415
    assert exe.json()["error"]["code"] == "unsupported_type"
    agent = await sign_up(app)
    foreign = await agent.post(
        f"/tickets/{ticket_id}/messages", json={"text": "x", "attachments": [blob["id"]]}
    )
    assert foreign.status_code in (404, 422)  # not their ticket, nor their file
    await agent.aclose()
    await owner.aclose()


async def test_a_visitor_sends_a_file_and_only_they_and_the_agents_can_fetch_it(
    app: Starlette,
) -> None:
    owner, ws, _ = await widget_workspace(app)
    visitor, other = site_client(app), site_client(app)
    await start(visitor, ws)
    await start(other, ws)
    upload = await visitor.post(
        "/attachments", params={"filename": "broken.png"}, content=png(),
        headers={"content-type": "image/png"},
    )  # fmt: skip
    assert upload.status_code == 201, upload.text
    blob_id = upload.json()["id"]
    stolen = await other.post(
        "/messages", json={"client_id": uuid.uuid4().hex, "attachments": [blob_id]}
    )
    assert stolen.status_code == 422  # only the uploader can send it
    sent = await visitor.post(
        "/messages", json={"client_id": uuid.uuid4().hex, "attachments": [blob_id]}
    )
    assert sent.status_code == 201, sent.text
    [shown] = sent.json()["attachments"]
    assert (shown["id"], shown["filename"], shown["inline"]) == (blob_id, "broken.png", True)
    assert (await visitor.get(f"/attachments/{blob_id}")).content == png()
    assert (await other.get(f"/attachments/{blob_id}")).status_code == 404
    ticket_id = sent.json()["conversation_id"]
    agent_copy = await files_of(owner, ticket_id)
    assert [a["id"] for a in agent_copy] == [blob_id]
    assert (await owner.get(f"/attachments/{blob_id}")).content == png()
    for client in (visitor, other):
        await client.aclose()
    await owner.aclose()


async def test_whatsapp_media_is_fetched_through_the_graph_api(app: Starlette) -> None:
    owner, meta, ws = await whatsapp_connected(app)
    image = png(3, 3)
    photo = wa.media("image", media_id="777001", mime_type="image/png", caption="Broken lid")
    huge = wa.media("document", media_id="777002", mime_type="application/pdf")
    posted = await meta.post(wa.webhook(messages=[photo]))
    assert posted.status_code == 200
    await meta.post(wa.webhook(messages=[huge]))
    ticket_id = await ticket_of(owner)
    waiting = await files_of(owner, ticket_id)
    assert [f["pending"] for f in waiting] == [True, True]
    deps = runtime_of(app).deps
    with fake_graph() as graph:
        graph.add_media("777001", image, "image/png")
        graph.add_media("777002", b"%PDF-1.7\n" + b"0" * 5000, "application/pdf")
        async with httpx.AsyncClient() as http:
            for message, media_id in ((photo, "777001"), (huge, "777002")):
                job = MediaJob(ws=ws, provider_id=message["id"], media_id=media_id)
                await fetch_media(deps, http, graph.url, job, limit=4096)
                await fetch_media(deps, http, graph.url, job, limit=4096)  # a retry: no change
    kept, refused = await files_of(owner, ticket_id)
    assert (kept["pending"], kept["inline"], kept["refused"]) == (False, True, None)
    assert (await owner.get(f"/attachments/{kept['id']}")).content == image
    assert refused["refused"].startswith("too large")
    assert next(m["text"] for m in await thread(owner, ticket_id)) == "Broken lid"
    await owner.aclose()


async def test_a_whatsapp_reply_with_files_goes_out_once_part_by_part(app: Starlette) -> None:
    owner, meta, ws = await whatsapp_connected(app)
    assert (await meta.post(wa.webhook(messages=[wa.text("Photo please")]))).status_code == 200
    ticket_id = await ticket_of(owner)
    ids = []
    for name, kind, data in (("lid.png", "image/png", png()), ("notes.txt", "text/plain", b"ok")):
        up = await owner.post(
            "/attachments", params={"filename": name}, content=data,
            headers={"content-type": kind},
        )  # fmt: skip
        ids.append(up.json()["id"])
    reply = await owner.post(
        f"/tickets/{ticket_id}/messages", json={"text": "Here you go", "attachments": ids}
    )
    assert reply.status_code == 201, reply.text
    message_id = reply.json()["message"]["id"]
    deps = runtime_of(app).deps
    with fake_graph() as graph:
        graph.script.append((200, {"messages": [{"id": "wamid.first"}]}))
        graph.script.append((503, wa.graph_error(1, "Service temporarily unavailable")))
        async with httpx.AsyncClient() as http:
            with pytest.raises(TransientDelivery):  # the image went out, the document not
                await deliver_whatsapp(deps, http, graph.url, ws, message_id)
            await deliver_whatsapp(deps, http, graph.url, ws, message_id)
    image, failed, document = graph.sent
    assert image["type"] == "image"
    assert image["image"]["caption"] == "Here you go"
    assert graph.media[image["image"]["id"]].data == png()
    assert (failed["type"], document["type"]) == ("document", "document")
    assert len(graph.uploads) == 3  # the image once; the document again with its retry
    assert document["type"] == "document"
    assert document["document"]["filename"] == "notes.txt"
    assert graph.media[document["document"]["id"]].data == b"ok"
    shown = next(m for m in await thread(owner, ticket_id) if m["id"] == message_id)
    assert shown["delivery_status"] == "sent"
    await owner.aclose()
