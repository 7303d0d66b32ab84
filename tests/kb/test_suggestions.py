"""A customer's message brings the agents on the ticket ranked answers — articles and canned
responses of their own workspace — as one live event; none when AI is switched off."""

from __future__ import annotations

import uuid

from starlette.applications import Starlette

from app.jobs import JobQueue
from app.kb.suggestions import CannedVectors, suggest
from app.worker import handlers
from realtime.events import AiSuggestions
from tests.apiclient import runtime_of
from tests.jobs.helpers import consuming, eventually, fast_config
from tests.kb.test_answers_api import answers, written
from tests.widget.test_widget_api import site_client, start, widget_workspace


async def test_a_customer_message_brings_ranked_answers_to_its_agents(app: Starlette) -> None:
    owner, ws, _ = await widget_workspace(app)
    runtime = runtime_of(app)
    canned = {"shortcut": "photo", "title": "Ask for a photo",
              "body": "Could you send us a photo of the damaged item and the box?"}  # fmt: skip
    assert (await owner.post("/canned-responses", json=canned)).status_code == 201
    queue = JobQueue(runtime.redis, fast_config(prefix="tandem"))
    async with consuming(queue, handlers(runtime.deps), consumer=f"suggest-{ws}"):
        await written(app, owner)

        async def embedded() -> bool:
            return (await answers(owner, "parcel crushed"))[:1] == ["Damaged deliveries"]

        await eventually(embedded, 30)
        before = await runtime.relay.broker.last_seq(ws)
        visitor = site_client(app)
        await start(visitor, ws)
        sent = await visitor.post(
            "/messages",
            json={"client_id": uuid.uuid4().hex, "text": "The mug I got is cracked, the box "
                  "was all crushed. What now?"},
        )  # fmt: skip
        assert sent.status_code == 201, sent.text
        message_id = sent.json()["id"]

        async def offered() -> AiSuggestions | None:
            replay = await runtime.relay.broker.replay(ws, before, 200)
            found = [e for e in replay.events if isinstance(e, AiSuggestions)]
            return found[0] if found else None

        async def arrived() -> bool:
            return await offered() is not None

        await eventually(arrived, 20)
        event = await offered()
        assert event is not None
        assert event.ticket == sent.json()["conversation_id"]
        assert event.data.message_id == message_id
        kinds = [(i.kind, i.title) for i in event.data.items]
        assert kinds[0] == ("article", "Damaged deliveries")
        assert ("canned", "Ask for a photo") in kinds
        article = event.data.items[0]
        assert article.url is not None
        assert article.url.endswith("/damaged-deliveries")
        assert all(i.title != "Spring sale" for i in event.data.items)  # drafts never

        # Switched off: the next message brings nothing.
        off = await owner.patch("/ai/settings", json={"enabled": False})
        assert (off.json()["enabled"], off.json()["suggestions"]) == (False, True)
        ticket = sent.json()["conversation_id"]
        text = "Also the lid is broken."
        made = await suggest(runtime.deps, CannedVectors(), ws, ticket, "m2", text, "")
        assert made is None
        await visitor.aclose()
    await owner.aclose()
