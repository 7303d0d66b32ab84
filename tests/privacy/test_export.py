"""A person's export: a zip with export.json (their contact and every message exchanged with
them) and their files; the team's notes only when asked for; admins only; audited by id."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

from starlette.applications import Starlette

from tests.api.test_email_inbound import connected
from tests.apiclient import invite_and_join
from tests.channels.postmark_payloads import attachment, inbound_email


async def test_the_export_holds_the_person_their_messages_and_files(app: Starlette) -> None:
    u = uuid.uuid4().hex[:10]
    owner, postmark = await connected(app)
    email = f"ines.{u}@example.org"
    sent = await postmark.post(
        inbound_email(
            sender=email,
            name="Inês Exporta",
            subject=f"Invoice {u}",
            text=f"Please send invoice {u} again",
            attachments=[attachment("scan.txt", f"scan {u}".encode())],
        )
    )
    ticket_id = sent.json()["ticket_id"]
    contact_id = (await owner.get(f"/tickets/{ticket_id}")).json()["ticket"]["contact_id"]
    await owner.patch(f"/contacts/{contact_id}", json={"phone": "+351 912 345 678"})
    await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "Here it is again"})
    await owner.post(
        f"/tickets/{ticket_id}/messages", json={"kind": "note", "text": "Third time she asks"}
    )

    answer = await owner.get(f"/contacts/{contact_id}/export")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert f"contact-{contact_id}.zip" in answer.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    document = json.loads(archive.read("export.json"))
    assert document["contact"]["email"] == email
    assert document["contact"]["phone"] == "+351912345678"
    assert document["notes_included"] is False
    (conversation,) = document["conversations"]
    assert conversation["subject"] == f"Invoice {u}"
    messages = conversation["messages"]
    assert [(m["direction"], m["text"]) for m in messages] == [
        ("in", f"Please send invoice {u} again"),
        ("out", "Here it is again"),
    ]  # the note is the company's: left out unless asked for
    (file,) = messages[0]["files"]
    assert file["filename"] == "scan.txt"
    assert archive.read(file["path"]) == f"scan {u}".encode()

    with_notes = await owner.get(f"/contacts/{contact_id}/export", params={"include_notes": "true"})
    document = json.loads(zipfile.ZipFile(io.BytesIO(with_notes.content)).read("export.json"))
    texts = [m["text"] for m in document["conversations"][0]["messages"]]
    assert texts[-1] == "Third time she asks"
    assert document["notes_included"] is True

    # Admins only; every export is in the audit log, by id, never with the data.
    agent = await invite_and_join(owner, app, "Abel Agent")
    assert (await agent.get(f"/contacts/{contact_id}/export")).status_code == 403
    assert (await owner.get(f"/contacts/{uuid.uuid4().hex[:24]}/export")).status_code == 404
    audit = (await owner.get("/audit-events", params={"action": "contact.exported"})).json()
    assert [e["target_id"] for e in audit] == [contact_id, contact_id]
    assert email not in json.dumps(audit)
    assert u not in json.dumps(audit)
    for client in (owner, agent):
        await client.aclose()


async def test_the_openapi_describes_export_and_erasure(app: Starlette) -> None:
    owner, _ = await connected(app)
    spec = (await owner.http.get("/openapi.json")).json()
    erase = spec["paths"]["/api/v1/contacts/{contact_id}/erase"]["post"]
    assert set(erase["responses"]) >= {"200", "401", "403", "404", "422"}
    body = erase["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert spec["components"]["schemas"][body.rsplit("/", 1)[1]]["required"] == ["confirm"]
    export = spec["paths"]["/api/v1/contacts/{contact_id}/export"]["get"]
    assert "include_notes" in [p["name"] for p in export["parameters"]]
    assert set(export["responses"]) >= {"200", "403", "404"}
    await owner.aclose()
