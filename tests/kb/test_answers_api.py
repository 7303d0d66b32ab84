"""Articles written through the API are embedded by the worker's job and answer questions by
meaning — in other languages too — and by exact words; each audience sees only its own."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from app.jobs import JobQueue
from app.worker import handlers
from tests.apiclient import AgentClient, invite_and_join, runtime_of
from tests.jobs.helpers import consuming, eventually, fast_config
from tests.widget.test_widget_api import site_client, widget_workspace

ARTICLES = [
    {
        "title": "Damaged deliveries",
        "body": "## What to do\n\nIf your parcel arrived broken or crushed, take a photo of "
        "the box and the item and send it to us within 14 days. We ship a replacement.",
    },
    {
        "title": "Card payments",
        "body": "## Declined cards\n\nError PAY-402 means your bank declined the card. Try "
        "another card or call your bank.",
    },
    {
        "title": "Chargeback handling",
        "body": "## For the team\n\nEscalate every chargeback to the finance team in #finance.",
        "visibility": "internal",
    },
    {
        "title": "Spring sale",
        "body": "## Coming soon\n\nThe spring sale gives 20% off garden tools.",
        "status": "draft",
    },
]


async def answers(client: AgentClient, q: str) -> list[str]:
    response = await client.get("/kb/answers", params={"q": q})
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def written(app: Starlette, owner: AgentClient) -> list[dict[str, Any]]:
    made = []
    for article in ARTICLES:
        body = {"status": "published", **article}
        response = await owner.post("/kb/articles", json=body)
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made


async def test_written_articles_answer_by_meaning_words_and_audience(app: Starlette) -> None:
    owner, ws, _ = await widget_workspace(app)
    agent = await invite_and_join(owner, app, "Ana Agent")
    runtime = runtime_of(app)
    queue = JobQueue(runtime.redis, fast_config(prefix="tandem"))
    async with consuming(queue, handlers(runtime.deps), consumer=f"kb-{ws}"):
        made = await written(app, owner)

        async def embedded() -> bool:
            return (await answers(agent, "my package came smashed"))[:1] == ["Damaged deliveries"]

        await eventually(embedded, 30)
        assert (await answers(agent, "¿qué significa que rechazaron mi tarjeta?"))[0] == (
            "Card payments"
        )
        assert (await answers(agent, "PAY-402"))[0] == "Card payments"
        assert (await answers(agent, "escalate a chargeback"))[0] == "Chargeback handling"
        assert "Spring sale" not in await answers(agent, "spring sale garden tools")

        # The widget's visitors: public, published articles only.
        site = site_client(app)
        public = await site.get("/kb/search", params={"workspace": ws, "q": "chargeback finance"})
        assert public.status_code == 200, public.text
        assert "Chargeback handling" not in [i["title"] for i in public.json()["items"]]
        broken = await site.get("/kb/search", params={"workspace": ws, "q": "parcel crushed"})
        assert broken.json()["items"][0]["title"] == "Damaged deliveries"
        await site.aclose()

        # An edit is found once embedded again; a deletion is gone.
        damaged = made[0]
        edited = await owner.patch(
            f"/kb/articles/{damaged['id']}",
            json={"version": damaged["version"], "body": "## Lost parcels\n\nA parcel marked "
                  "delivered that never came: we open a claim with the courier."},
        )  # fmt: skip
        assert edited.status_code == 200, edited.text

        async def moved() -> bool:
            return (await answers(agent, "tracking says delivered but nothing came"))[:1] == [
                "Damaged deliveries"
            ]

        await eventually(moved, 30)
        assert (await owner.delete(f"/kb/articles/{made[1]['id']}")).status_code == 204

        async def gone() -> bool:
            return "Card payments" not in await answers(agent, "PAY-402 declined card")

        await eventually(gone, 30)
    await agent.aclose()
    await owner.aclose()
