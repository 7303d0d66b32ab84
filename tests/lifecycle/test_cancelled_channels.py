"""What customers meet when a workspace is cancelled: the widget shows nothing (its API refuses
with the code widget.js leaves the page on), and the email and WhatsApp webhooks answer with
errors that leave each message with its provider, who delivers it again after a restore."""

from __future__ import annotations

import uuid

from starlette.applications import Starlette

from tests.api.test_email_inbound import connected as email_connected
from tests.api.test_whatsapp import connected as whatsapp_connected
from tests.channels import whatsapp_payloads as wa
from tests.channels.postmark_payloads import inbound_email
from tests.lifecycle.helpers import cancel, ok
from tests.widget.test_widget_api import site_client, start, widget_workspace


async def test_the_widget_of_a_cancelled_workspace_shows_nothing_until_restored(
    app: Starlette,
) -> None:
    owner, ws, _ = await widget_workspace(app)
    returning = site_client(app)
    await start(returning, ws)
    await ok(await cancel(owner), 200)

    fresh = site_client(app)
    for refused in (
        await fresh.post("/session", json={"workspace": ws}),
        await returning.post("/messages", json={"text": "Hello?", "client_id": uuid.uuid4().hex}),
        await returning.get("/conversation"),
    ):
        # 403 is what widget.js takes as "this site may not show chat": it leaves the page.
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "workspace_cancelled"
    assert (await owner.get("/tickets")).json()["items"] == []

    await ok(await owner.post("/workspace/restore"), 200)
    await start(fresh, ws)
    sent = await fresh.post("/messages", json={"text": "Hello?", "client_id": uuid.uuid4().hex})
    assert sent.status_code == 201, sent.text
    for client in (fresh, returning):
        await client.aclose()
    await owner.aclose()


async def test_an_email_to_a_cancelled_workspace_stays_with_postmark(app: Starlette) -> None:
    owner, postmark = await email_connected(app)
    await ok(await cancel(owner), 200)
    email = inbound_email(rfc_id=f"{uuid.uuid4().hex}@mail.example.com")

    # 403: Postmark stops retrying and keeps it among its failed inbound messages.
    refused = await postmark.post(email)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "workspace_cancelled"
    # Wrong credentials are still told apart (and learn nothing about the workspace).
    assert (await postmark.post(email, auth="Basic eDp5")).status_code == 401
    assert (await owner.get("/tickets")).json()["items"] == []

    # Retried from Postmark after the restore: stored as any email.
    await ok(await owner.post("/workspace/restore"), 200)
    taken = await postmark.post(email)
    assert taken.status_code == 200, taken.text
    [ticket] = (await owner.get("/tickets")).json()["items"]
    assert ticket["id"] == taken.json()["ticket_id"]
    await postmark.http.aclose()
    await owner.aclose()


async def test_a_whatsapp_message_to_a_cancelled_workspace_is_left_for_meta_to_retry(
    app: Starlette,
) -> None:
    owner, meta, _ = await whatsapp_connected(app)
    await ok(await cancel(owner), 200)
    hook = wa.webhook(messages=[wa.text("Is my order on its way?")])

    # Not 2xx: Meta keeps retrying it (for up to 7 days) instead of counting it delivered.
    refused = await meta.post(hook)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "workspace_cancelled"
    assert (await meta.post(hook, signature="sha256=" + "0" * 64)).status_code == 401
    assert (await owner.get("/tickets")).json()["items"] == []

    await ok(await owner.post("/workspace/restore"), 200)
    retried = await meta.post(hook)
    assert retried.status_code == 200, retried.text
    [ticket] = (await owner.get("/tickets", params={"channel": "whatsapp"})).json()["items"]
    detail = (await owner.get(f"/tickets/{ticket['id']}")).json()
    assert [m["text"] for m in detail["messages"]] == ["Is my order on its way?"]
    await meta.http.aclose()
    await owner.aclose()
