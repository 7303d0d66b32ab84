"""Drafts and summaries over the API: streamed to the agent who asked as server-sent events,
grounded in the workspace's articles, metered in a ledger that holds no content, refused
before anything is sent when AI is off, unconfigured or over budget, and cancelled upstream
when the agent aborts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
import uvicorn
from beanie import PydanticObjectId
from starlette.applications import Starlette

from app.ai.ledger import month_spent, month_start
from app.devservices.process import free_port
from app.documents import AiUsage
from app.documents.common import utcnow
from app.jobs import JobQueue
from app.worker import handlers
from tests.ai.fake_openai import FakeOpenAI, Reply, fake_openai
from tests.apiclient import AgentClient, invite_and_join, runtime_of, sign_up
from tests.jobs.helpers import consuming, eventually, fast_config

KEY = "sk-or-v1-very-secret-key-0123456789"
QUESTION = "Hi, my parcel for order ZX-991 never arrived. Where is it? — Quentin"
ARTICLE = {
    "title": "Lost parcels",
    "body": "## Claims\n\nA parcel marked delivered that never came: we open a claim with the "
    "courier and ship a replacement within 5 days.",
    "status": "published",
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai() as running:
        yield running


def events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """The server-sent events of an answer, as (event, data) pairs."""
    out = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((fields["event"], json.loads(fields["data"])))
    return out


async def configured(app: Starlette | str, fake: FakeOpenAI, **ai: Any) -> AgentClient:
    owner = await sign_up(app)
    settings = {"base_url": fake.url, "api_key": KEY, "model": "acme/small", **ai}
    changed = await owner.patch("/ai/settings", json=settings)
    assert changed.status_code == 200, changed.text
    return owner


async def ticket_with_question(client: AgentClient, text: str = QUESTION) -> str:
    made = await client.post(
        "/tickets",
        json={"subject": "Where is my order?", "message": {"text": text, "direction": "in"}},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def ledger(owner: AgentClient) -> list[dict[str, Any]]:
    me = await owner.get("/me")
    ws = me.json()["workspace"]["id"]
    query = {"workspace_id": PydanticObjectId(ws)}
    return list(await AiUsage.get_pymongo_collection().find(query).to_list())


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


async def test_a_draft_streams_grounded_in_articles_and_is_metered(
    app: Starlette, fake: FakeOpenAI
) -> None:
    owner = await configured(app, fake)
    agent = await invite_and_join(owner, app, "Ana Agent")
    runtime = runtime_of(app)
    queue = JobQueue(runtime.redis, fast_config(prefix="tandem"))
    async with consuming(queue, handlers(runtime.deps), consumer=f"ai-{owner.workspace_slug}"):
        assert (await owner.post("/kb/articles", json=ARTICLE)).status_code == 201

        async def embedded() -> bool:
            found = await agent.get("/kb/answers", params={"q": "parcel never arrived"})
            return [i["title"] for i in found.json()["items"]][:1] == ["Lost parcels"]

        await eventually(embedded, 30)
    ticket = await ticket_with_question(agent)
    before = len(fake.requests)

    answer = await agent.post(f"/tickets/{ticket}/ai/draft")

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/event-stream")
    got = events(answer.text)
    assert got[:3] == [
        ("delta", {"text": "Hello"}),
        ("delta", {"text": " there"}),
        ("delta", {"text": ", friend."}),
    ]
    kind, done = got[3]
    assert kind == "done"
    assert len(got) == 4
    url = f"{runtime.settings.public_url}/help/{owner.workspace_slug}/lost-parcels"
    assert done["sources"] == [{"title": "Lost parcels", "url": url}]
    assert done["usage"] == {
        "input_tokens": 120,
        "output_tokens": 7,
        "cost": 0.0012,
        "estimated": False,
    }

    # What the model was sent: the question, the passage with its link, the key and model.
    assert len(fake.requests) == before + 1
    sent = fake.requests[-1]
    assert sent["model"] == "acme/small"
    assert fake.keys[-1] == f"Bearer {KEY}"
    prompt = "\n".join(m["content"] for m in sent["messages"])
    assert "ZX-991" in prompt
    assert url in prompt
    assert "ship a replacement within 5 days" in prompt
    assert "language" in sent["messages"][0]["content"]

    # The ledger: one row with the counts, and nothing of what was said.
    rows = await ledger(owner)
    assert len(rows) == 1
    row = rows[0]
    assert set(row) == {
        "_id", "workspace_id", "user_id", "action", "at", "model", "input_tokens",
        "output_tokens", "cost", "estimated", "outcome",
    }  # fmt: skip
    assert (row["action"], row["outcome"], row["model"]) == ("draft", "ok", "acme/small")
    assert (row["input_tokens"], row["output_tokens"], row["cost"]) == (120, 7, 0.0012)
    assert row["user_id"] == agent.user_id
    reply = "Hello there, friend."
    for value in strings(row):
        if len(value) >= 4 and value not in ("draft", "acme/small"):
            assert value not in prompt, value
            assert value not in reply, value
    assert KEY not in repr(row)
    assert not any(word in repr(row) for word in ("ZX-991", "Quentin", "parcel", "Hello"))

    settings = await owner.get("/ai/settings")
    assert settings.json()["spent_this_month"] == 0.0012
    for client in (owner, agent):
        await client.aclose()


async def test_a_summary_streams_and_is_metered(app: Starlette, fake: FakeOpenAI) -> None:
    owner = await configured(app, fake)
    ticket = await ticket_with_question(owner)
    replied = await owner.post(
        f"/tickets/{ticket}/messages", json={"text": "We are looking into it.", "kind": "note"}
    )
    assert replied.status_code == 201, replied.text
    fake.script.append(Reply(pieces=["- Parcel lost", "\n- Claim open"], usage=None))

    answer = await owner.post(f"/tickets/{ticket}/ai/summary")

    assert answer.status_code == 200, answer.text
    got = events(answer.text)
    assert [e for e, _ in got] == ["delta", "delta", "done"]
    assert got[2][1]["sources"] == []
    assert got[2][1]["usage"]["estimated"] is True  # no usage reported: counted from lengths
    prompt = "\n".join(m["content"] for m in fake.requests[-1]["messages"])
    assert "ZX-991" in prompt
    assert "We are looking into it." in prompt
    [row] = await ledger(owner)
    assert (row["action"], row["outcome"], row["estimated"]) == ("summary", "ok", True)
    assert row["input_tokens"] > 0
    assert row["output_tokens"] == 7  # 26 characters, about four a token
    assert row["cost"] > 0
    await owner.aclose()


async def test_provider_failures_become_error_events(app: Starlette, fake: FakeOpenAI) -> None:
    owner = await configured(app, fake)
    ticket = await ticket_with_question(owner)

    fake.script.append(Reply(status=401, error={"error": {"message": "No auth credentials"}}))
    refused = await owner.post(f"/tickets/{ticket}/ai/draft")
    assert refused.status_code == 200
    [(kind, data)] = events(refused.text)
    assert kind == "error"
    assert data["code"] == "provider_auth"
    assert "API key" in data["message"]

    fake.script.append(Reply(die_after=1))
    broken = await owner.post(f"/tickets/{ticket}/ai/draft")
    got = events(broken.text)
    assert got[0] == ("delta", {"text": "Hello"})
    assert got[1][0] == "error"
    assert got[1][1]["code"] == "provider_stream_broken"

    rows = sorted(await ledger(owner), key=lambda r: r["at"])
    assert [(r["outcome"], r["error_code"]) for r in rows] == [
        ("error", "provider_auth"),
        ("error", "provider_stream_broken"),
    ]
    assert (rows[0]["cost"], rows[0]["input_tokens"]) == (0, 0)  # refused: not charged
    assert rows[1]["estimated"] is True
    assert rows[1]["output_tokens"] > 0  # what was generated before the break is counted
    await owner.aclose()


async def test_refusals_send_nothing(app: Starlette, fake: FakeOpenAI) -> None:
    owner = await configured(app, fake)
    ticket = await ticket_with_question(owner)
    before = len(fake.requests)

    off = await owner.patch("/ai/settings", json={"enabled": False})
    assert off.json()["enabled"] is False
    for action in ("draft", "summary"):
        answer = await owner.post(f"/tickets/{ticket}/ai/{action}")
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == "ai_disabled"

    await owner.patch("/ai/settings", json={"enabled": True, "api_key": None})
    unset = await owner.post(f"/tickets/{ticket}/ai/draft")
    assert unset.status_code == 409, unset.text
    assert unset.json()["error"]["code"] == "ai_not_configured"

    await owner.patch("/ai/settings", json={"api_key": KEY, "monthly_credit_cap": 1.0})
    ws = PydanticObjectId((await owner.get("/me")).json()["workspace"]["id"])
    last_month = month_start(utcnow()) - timedelta(days=3)
    for at, cost in ((last_month, 5.0), (utcnow(), 0.6), (utcnow(), 0.4)):
        await AiUsage(
            workspace_id=ws, user_id="u", action="draft", at=at, model="m", cost=cost, outcome="ok"
        ).insert()
    assert await month_spent(ws) == pytest.approx(1.0)
    over = await owner.post(f"/tickets/{ticket}/ai/draft")
    assert over.status_code == 402, over.text
    assert over.json()["error"]["code"] == "credits_exhausted"
    assert over.json()["error"]["details"] == {"spent": 1.0, "cap": 1.0}

    raised = await owner.patch("/ai/settings", json={"monthly_credit_cap": 2.0})
    assert raised.json()["spent_this_month"] == pytest.approx(1.0)
    assert len(fake.requests) == before  # nothing reached the provider
    assert (await owner.post(f"/tickets/{ticket}/ai/draft")).status_code == 200
    assert len(fake.requests) == before + 1
    await owner.aclose()


async def test_another_workspaces_ticket_is_not_found(app: Starlette, fake: FakeOpenAI) -> None:
    owner = await configured(app, fake)
    stranger = await configured(app, fake)
    ticket = await ticket_with_question(owner)
    before = len(fake.requests)
    for action in ("draft", "summary"):
        answer = await stranger.post(f"/tickets/{ticket}/ai/{action}")
        assert answer.status_code == 404, answer.text
    assert (await stranger.post("/tickets/not-an-id/ai/draft")).status_code == 404
    assert len(fake.requests) == before
    for client in (owner, stranger):
        await client.aclose()


async def test_the_key_is_write_only(app: Starlette, fake: FakeOpenAI) -> None:
    owner = await configured(app, fake)
    agent = await invite_and_join(owner, app, "Ben Agent")
    answers = [
        await owner.get("/ai/settings"),
        await owner.patch("/ai/settings", json={"model": "acme/large"}),
        await agent.get("/ai/settings"),
        await owner.http.get("/openapi.json"),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert KEY not in answer.text
    settings = answers[0].json()
    assert settings["api_key_set"] is True
    assert "api_key" not in settings
    assert settings["base_url"] == fake.url
    assert answers[1].json()["model"] == "acme/large"
    # Agents read the settings but may not change them.
    refused = await agent.patch("/ai/settings", json={"api_key": "sk-mine"})
    assert refused.status_code == 403
    bad = await owner.patch("/ai/settings", json={"base_url": "file:///etc/passwd"})
    assert bad.status_code == 422
    for client in (owner, agent):
        await client.aclose()


@asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[str]:
    """The running app behind a real HTTP server, so a client can abort a response."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  # uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_aborting_a_draft_cancels_the_upstream_request(
    app: Starlette, fake: FakeOpenAI
) -> None:
    async with served(app) as url:
        owner = await configured(url, fake)
        ticket = await ticket_with_question(owner)
        fake.client_gone.clear()
        completed = fake.completed
        fake.script.append(Reply(pieces=["word "] * 100, delay=0.1))

        async with owner.http.stream("POST", f"/api/v1/tickets/{ticket}/ai/draft") as answer:
            assert answer.status_code == 200
            async for line in answer.aiter_lines():
                if line.startswith("event: delta"):
                    break  # the agent stops the draft: the request is aborted

        async def upstream_ended() -> bool:
            return fake.client_gone.is_set()

        await eventually(upstream_ended, 10)
        assert fake.completed == completed

        async def recorded() -> bool:
            return len(await ledger(owner)) == 1

        await eventually(recorded, 10)
        [row] = await ledger(owner)
        assert row["outcome"] == "cancelled"
        assert row["estimated"] is True
        assert row["output_tokens"] >= 1
        await owner.aclose()


async def test_the_stream_reaches_only_the_agent_who_asked(
    app: Starlette, fake: FakeOpenAI
) -> None:
    """The answer is the requester's own HTTP response: nothing of it is published as an
    event on the ticket for others."""
    owner = await configured(app, fake)
    ticket = await ticket_with_question(owner)
    runtime = runtime_of(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    seq = await runtime.relay.broker.last_seq(ws)
    answer = await owner.post(f"/tickets/{ticket}/ai/draft")
    assert answer.status_code == 200
    assert await runtime.relay.broker.last_seq(ws) == seq
    await owner.aclose()


async def test_an_idempotency_key_never_replays_a_stream(app: Starlette, fake: FakeOpenAI) -> None:
    """A stream cannot be kept for a replay: a retry with the same key asks the model again."""
    owner = await configured(app, fake)
    ticket = await ticket_with_question(owner)
    before = len(fake.requests)
    headers = {"Idempotency-Key": "draft-once"}
    for _ in range(2):
        answer = await owner.post(f"/tickets/{ticket}/ai/draft", headers=headers)
        assert answer.status_code == 200
        assert "idempotent-replayed" not in answer.headers
        assert [e for e, _ in events(answer.text)][-1] == "done"
    assert len(fake.requests) == before + 2
    await owner.aclose()
