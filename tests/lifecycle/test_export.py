"""The owner downloads the whole workspace: a zip with a JSON file per kind of record and every
stored file, with no password hash and no secret in it."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette

from tests.lifecycle.helpers import PNG, cancel, ok, seeded


def records(archive: zipfile.ZipFile, name: str) -> Any:
    return json.loads(archive.read(name))


async def test_the_export_holds_every_record_and_file_and_no_secret(app: Starlette) -> None:
    team = await seeded(app)
    owner = team.owner
    widget_secret = (await ok(await owner.get("/workspace/widget"), 200))["secret"]
    email = await ok(await owner.put("/channels/email"), 200)
    webhook_password = urlsplit(email["inbound_webhook_url"]).password
    assert webhook_password
    server_token = "pm-server-token-0123456789"
    await ok(
        await owner.patch(
            "/channels/email",
            json={"server_token": server_token, "from_address": "help@acme.example"},
        ),
        200,
    )

    answer = await owner.get("/workspace/export")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert "attachment;" in answer.headers["content-disposition"]
    raw = answer.content
    archive = zipfile.ZipFile(io.BytesIO(raw))
    assert archive.testzip() is None

    [ticket] = records(archive, "tickets.json")
    assert ticket["id"] == team.ticket_id
    assert ticket["subject"] == "Refund"
    messages = records(archive, "messages.json")
    assert [(m["kind"], m["text"]) for m in messages] == [
        ("message", "Charged twice"),
        ("message", "Refunded."),
        ("note", "VIP customer"),
    ]
    assert [c["email"] for c in records(archive, "contacts.json")] == ["carla@example.com"]
    assert [t["name"] for t in records(archive, "teams.json")] == ["Support"]
    assert [c["shortcut"] for c in records(archive, "canned_responses.json")] == ["thanks"]
    assert [a["title"] for a in records(archive, "articles.json")] == ["Refunds"]
    users = records(archive, "users.json")
    assert sorted((u["name"], u["role"]) for u in users) == [
        ("Adam Admin", "admin"),
        ("Alex Agent", "agent"),
        ("Olivia Owner", "owner"),
    ]
    assert all("password_hash" not in u for u in users)
    settings = records(archive, "workspace.json")
    assert settings["id"] == team.ws
    assert settings["email"]["from_address"] == "help@acme.example"
    assert archive.read(f"files/{team.blob_id}/receipt.png") == PNG
    manifest = records(archive, "manifest.json")
    assert manifest["workspace_id"] == team.ws
    assert manifest["counts"]["messages"] == 3
    assert manifest["counts"]["files"] == 1

    # No secret anywhere in it, compressed or not.
    everything = b"".join(archive.read(name) for name in archive.namelist())
    secrets = [
        widget_secret,
        webhook_password,
        hashlib.sha256(webhook_password.encode()).hexdigest(),
        server_token,
        "$argon2",
    ]
    for secret in secrets:
        assert secret.encode() not in everything, secret
    await team.aclose()


async def test_the_export_still_works_once_cancelled(app: Starlette) -> None:
    team = await seeded(app)
    await ok(await cancel(team.owner), 200)
    answer = await team.owner.get("/workspace/export")
    assert answer.status_code == 200, answer.text
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    settings = records(archive, "workspace.json")
    assert settings["cancelled_at"] is not None
    assert [t["id"] for t in records(archive, "tickets.json")] == [team.ticket_id]
    await team.aclose()
