"""Erasing a person leaves no trace of them anywhere Tandem keeps data — every collection,
every Redis key, every blob, the worker's log — while the team's replies and the
conversations themselves stay, anonymized and countable."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette

from app.auth.visitor_tokens import identity_hash
from app.jobs.queue import JobQueue
from app.privacy import erasure
from realtime.events import Signal
from tests.api.test_email_inbound import Postmark, connected
from tests.apiclient import AgentClient, invite_and_join, runtime_of
from tests.channels.postmark_payloads import attachment, inbound_email
from tests.jobs.helpers import eventually
from tests.privacy.scan import file_hits, redis_hits, store_hits
from tests.servers import tandem_worker
from tests.widget.test_widget_api import SITE, site_client, start


async def _true(value: bool) -> bool:
    return value


async def jobs_settled(redis: aioredis.Redis) -> None:
    queue = JobQueue(redis)

    async def idle() -> bool:
        stats = await queue.stats()
        return stats.stream_length == 0 and stats.pending == 0

    await eventually(idle, seconds=60)


class Person:
    def __init__(self) -> None:
        u = self.token = uuid.uuid4().hex[:12]
        self.name = f"Zelda Quux{u}"
        self.email = f"zelda.{u}@example.org"
        n = int(u, 16) % 10**7
        self.phone = f"+1 (555) {n // 10**4:03d}-{n % 10**4:04d}"
        self.phone_digits = "".join(ch for ch in self.phone if ch.isdigit())
        self.external_id = f"cust-{u}"
        self.subject = f"Parcel {u} lost in transit"
        self.email_text = f"My parcel {u} never came; I live at 12 Elm Street"
        self.widget_text = f"Widget question {u}: where is my refund?"
        self.file_name = f"receipt-{u}.txt"
        self.file_body = f"receipt for order {u}".encode()
        self.upload_body = f"photo of parcel {u}".encode()

    def needles(self) -> list[str]:
        return [
            self.token,
            self.name,
            self.email,
            self.phone,
            self.phone_digits,
            self.external_id,
            self.subject,
            self.email_text,
            self.widget_text,
            self.file_name,
        ]


async def conversations(
    app: Starlette,
    postmark: Postmark,
    owner: AgentClient,
    ana: AgentClient,
    person: Person,
    ws: str,
    secret: str,
) -> tuple[str, str, str, str]:
    """The person's contact, an email conversation (with a file and a note naming them) and a
    widget one (with an uploaded file and two team replies); answers (contact, email ticket,
    widget ticket, visitor token)."""
    made = await owner.post(
        "/contacts",
        json={
            "name": person.name,
            "email": person.email,
            "phone": person.phone,
            "external_id": person.external_id,
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},  # its answer is kept a day
    )
    assert made.status_code == 201, made.text
    contact_id = made.json()["id"]

    email = await postmark.post(
        inbound_email(
            sender=person.email,
            name=person.name,
            subject=person.subject,
            text=person.email_text,
            attachments=[attachment(person.file_name, person.file_body)],
        )
    )
    assert email.status_code == 200, email.text
    email_ticket = email.json()["ticket_id"]
    note = await owner.post(
        f"/tickets/{email_ticket}/messages",
        json={"kind": "note", "text": f"@ana {person.name} phoned, call back on {person.phone}"},
    )
    assert note.status_code == 201, note.text

    visitor = site_client(app)
    user = {
        "id": person.external_id,
        "hash": identity_hash(secret, person.external_id),
        "name": person.name,
    }
    session = await start(visitor, ws, user=user)
    assert session["visitor"]["contact_id"] == contact_id
    uploaded = await visitor.post(
        "/attachments",
        params={"filename": "photo.txt"},
        content=person.upload_body,
        headers={"content-type": "text/plain"},
    )
    assert uploaded.status_code == 201, uploaded.text
    sent = await visitor.post(
        "/messages",
        json={
            "text": person.widget_text,
            "client_id": uuid.uuid4().hex,
            "attachments": [uploaded.json()["id"]],
        },
    )
    assert sent.status_code == 201, sent.text
    widget_ticket = sent.json()["conversation_id"]
    await visitor.aclose()
    for text in ("We are looking into it right now", f"Thanks Quux{person.token}, all sorted"):
        reply = await ana.post(f"/tickets/{widget_ticket}/messages", json={"text": text})
        assert reply.status_code == 201, reply.text
    return contact_id, email_ticket, widget_ticket, session["visitor_token"]


async def test_erasure_leaves_no_trace_anywhere_and_keeps_the_team_replies(
    app: Starlette,
    mongodb_url: str,
    redis_url: str,
    db_name: str,
    redis_client: aioredis.Redis,
    tmp_path: Path,
) -> None:
    person = Person()
    owner, postmark = await connected(app)
    me = (await owner.patch("/workspace", json={"allowed_origins": [SITE + "/"]})).json()
    secret = (await owner.get("/workspace/widget")).json()["secret"]
    ana = await invite_and_join(owner, app, "Ana Agent")
    log = tmp_path / "worker.log"
    with tandem_worker(mongodb_url=mongodb_url, redis_url=redis_url, db_name=db_name, log_path=log):
        contact_id, email_ticket, widget_ticket, visitor_token = await conversations(
            app, postmark, owner, ana, person, me["id"], secret
        )
        # Someone else's conversation, where a note names the person by address.
        other = await owner.post(
            "/tickets",
            json={
                "subject": "Someone else entirely",
                "contact": {"email": f"other.{person.token[::-1]}@example.net"},
                "message": {"text": "A different person writes"},
            },
        )
        other_ticket = other.json()["id"]
        await owner.post(
            f"/tickets/{other_ticket}/messages",
            json={"kind": "note", "text": f"@ana same customer as {person.email.upper()}?"},
        )
        await jobs_settled(redis_client)
        # The scan finds the person before: it would find what an erasure left.
        before_store = await store_hits(mongodb_url, db_name, person.needles())
        assert {"contacts", "messages", "tickets", "blob_chunks"} <= set(before_store)
        before_redis = await redis_hits(redis_client, person.needles())
        assert any(":log" in key for key in before_redis), before_redis
        assert any(":search:" in key for key in before_redis), before_redis
        assert any(":mentions:" in key for key in before_redis), before_redis
        assert any(key.startswith("tandem:idem:") for key in before_redis), before_redis
        mentions = (await ana.get("/mentions")).json()
        assert person.name in json.dumps(mentions)

        refused = await ana.post(f"/contacts/{contact_id}/erase", json={"confirm": "erase"})
        assert refused.status_code == 403
        unconfirmed = await owner.post(f"/contacts/{contact_id}/erase", json={"confirm": "yes"})
        assert unconfirmed.status_code == 422
        assert unconfirmed.json()["error"]["details"]["field"] == "confirm"

        erased = await owner.post(f"/contacts/{contact_id}/erase", json={"confirm": "erase"})
        assert erased.status_code == 200, erased.text
        done = erased.json()
        assert done["tickets"] == 2
        assert done["messages_deleted"] == 2
        assert done["files_deleted"] == 2
        await asyncio.sleep(6)  # a sweep of the outbox runs every 5 s: let one pass
        await jobs_settled(redis_client)

    assert await store_hits(mongodb_url, db_name, person.needles()) == {}
    assert await redis_hits(redis_client, person.needles()) == {}
    assert file_hits(log, person.needles()) == set()

    # The conversations stay, anonymized, with the team's replies.
    thread = (await owner.get(f"/tickets/{widget_ticket}")).json()
    assert thread["ticket"]["subject"] == "Erased conversation"
    assert thread["ticket"]["contact_id"] == done["contact_id"]
    texts = [m["text"] for m in thread["messages"] if m["kind"] == "message"]
    assert texts == ["We are looking into it right now", "Thanks [erased], all sorted"]
    note = (await owner.get(f"/tickets/{email_ticket}")).json()["messages"]
    assert [m["text"] for m in note if m["kind"] == "note"] == [
        "@ana [erased] phoned, call back on [erased]"
    ]
    elsewhere = (await owner.get(f"/tickets/{other_ticket}")).json()
    assert elsewhere["ticket"]["subject"] == "Someone else entirely"
    assert [m["text"] for m in elsewhere["messages"] if m["kind"] in ("message", "note")] == [
        "A different person writes",
        "@ana same customer as [erased]?",
    ]
    rows = (await owner.get("/tickets", params={"limit": 50})).json()["items"]
    theirs = [r for r in rows if r["id"] != other_ticket]
    assert sorted(r["id"] for r in theirs) == sorted([email_ticket, widget_ticket])
    assert {r["contact_name"] for r in theirs} == {"Erased contact"}
    widget_row = next(r for r in rows if r["id"] == widget_ticket)
    assert widget_row["preview"] == "Thanks [erased], all sorted"
    anonymous = (await owner.get(f"/contacts/{done['contact_id']}")).json()
    assert anonymous["name"] == "Erased contact"
    assert anonymous["email"] is None
    assert anonymous["external_id"] is None
    assert person.name not in json.dumps((await ana.get("/mentions")).json())

    # Nothing finds them; their contact and their widget's token are gone.
    assert (await owner.get("/tickets", params={"text": person.token})).json()["items"] == []
    assert (await owner.get("/contacts", params={"q": person.email})).json()["items"] == []
    assert (await owner.get(f"/contacts/{contact_id}")).status_code == 404
    widget = site_client(app)
    stale = await widget.get("/conversation", headers={"Authorization": "Bearer " + visitor_token})
    assert stale.status_code == 401
    await widget.aclose()

    # Recorded with ids only; a second erasure finds nobody.
    audit = (await owner.get("/audit-events", params={"action": "contact.erased"})).json()
    assert [(e["target_id"], e["data"]["into"]) for e in audit] == [
        (contact_id, done["contact_id"])
    ]
    again = await owner.post(f"/contacts/{contact_id}/erase", json={"confirm": "erase"})
    assert again.status_code == 404
    for client in (owner, ana):
        await client.aclose()


async def test_jobs_waiting_about_the_person_go_and_the_teams_deliveries_stay(
    app: Starlette, redis_client: aioredis.Redis
) -> None:
    """With no worker running, what the person wrote waits in the job queue (an AI
    suggestion to make): erasure drops it; the delivery of the team's email reply stays."""
    person = Person()
    owner, postmark = await connected(app)
    email = await postmark.post(
        inbound_email(sender=person.email, name=person.name, text=person.email_text)
    )
    ticket_id = email.json()["ticket_id"]
    reply = await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "On its way"})
    assert reply.status_code == 201, reply.text
    queue = JobQueue(redis_client)

    async def waiting() -> list[bytes]:
        entries = await redis_client.xrange(queue.keys.stream)
        return [fields[b"j"] for _, fields in entries]

    assert any(person.email_text.encode() in body for body in await waiting())
    contact_id = (await owner.get(f"/tickets/{ticket_id}")).json()["ticket"]["contact_id"]
    heard: list[Signal] = []

    async def hear(signal: Signal) -> None:
        heard.append(signal)

    runtime_of(app).relay.broker.on_signal(hear)
    erased = await owner.post(f"/contacts/{contact_id}/erase", json={"confirm": "erase"})
    assert erased.status_code == 200, erased.text
    # Every process is told to close the sockets of that visitor (their widget, if open).
    await eventually(lambda: _true(any(s.type == "ended" for s in heard)))
    assert [(s.type, s.data.user) for s in heard if s.type == "ended"] == [("ended", contact_id)]
    left = await waiting()
    assert not any(person.token.encode() in body for body in left)
    reply_id = reply.json()["message"]["id"]
    assert any(reply_id.encode() in body and b"message.deliver" in body for body in left)
    await owner.aclose()


async def test_an_erasure_that_stopped_half_way_is_finished_by_a_retry(
    app: Starlette, mongodb_url: str, db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process dying after the conversations moved, before the contact went: the retry
    moves nothing twice, makes no second anonymous contact, and leaves no trace."""
    person = Person()
    owner, postmark = await connected(app)
    email = await postmark.post(
        inbound_email(sender=person.email, name=person.name, text=person.email_text)
    )
    ticket_id = email.json()["ticket_id"]
    contact_id = (await owner.get(f"/tickets/{ticket_id}")).json()["ticket"]["contact_id"]

    async def dies(run: object) -> None:
        raise ConnectionResetError("the process died")

    with monkeypatch.context() as patched:
        patched.setattr(erasure, "_drop_contact", dies)
        with pytest.raises(ConnectionResetError):
            await owner.post(f"/contacts/{contact_id}/erase", json={"confirm": "erase"})
    assert (await owner.get(f"/contacts/{contact_id}")).status_code == 200  # not done yet

    retried = await owner.post(f"/contacts/{contact_id}/erase", json={"confirm": "erase"})
    assert retried.status_code == 200, retried.text
    anonymous = retried.json()["contact_id"]
    ticket = (await owner.get(f"/tickets/{ticket_id}")).json()["ticket"]
    assert ticket["contact_id"] == anonymous
    assert ticket["subject"] == "Erased conversation"
    erased = (await owner.get("/contacts", params={"q": "Erased contact"})).json()["items"]
    assert [c["id"] for c in erased] == [anonymous]
    assert await store_hits(mongodb_url, db_name, person.needles()) == {}
    await owner.aclose()
