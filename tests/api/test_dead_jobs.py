"""A job that keeps failing ends in the dead letters with its error, where an admin of its
workspace (and no one else) sees it and can run it again."""

import asyncio

from bson import ObjectId
from starlette.applications import Starlette

from app.jobs import JobQueue
from app.worker import handlers
from tests.apiclient import invite_and_join, runtime_of, sign_up
from tests.jobs.helpers import consuming, eventually, fast_config


async def test_a_failing_job_is_shown_to_its_workspace_admins_and_can_be_retried(
    app: Starlette,
) -> None:
    owner = await sign_up(app)
    agent = await invite_and_join(owner, app, "Ana Agent")
    stranger = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    runtime = runtime_of(app)
    # The app's own keys, with one attempt per job so it fails fast.
    queue = JobQueue(runtime.redis, fast_config(prefix="tandem", max_attempts=1))
    missing = str(ObjectId())
    payload = {"ws": ws, "ticket": missing, "due": "2026-01-01T00:00:00Z"}
    assert await queue.enqueue("ticket.wake", payload, key=f"test-wake:{missing}")

    async def buried() -> bool:
        items = (await owner.get("/jobs/dead")).json()["items"]
        return any(job["payload"]["ticket"] == missing for job in items)

    async with consuming(queue, handlers(runtime.deps), consumer=f"test-{missing}"):
        await eventually(buried)
    (dead,) = [
        j for j in (await owner.get("/jobs/dead")).json()["items"] if j["payload"] == payload
    ]
    assert dead["kind"] == "ticket.wake"
    assert dead["last_error"]["message"] == "no such ticket"
    assert dead["attempts"] == 1

    assert (await agent.get("/jobs/dead")).status_code == 403
    theirs = (await stranger.get("/jobs/dead")).json()["items"]
    assert all(job["payload"].get("ws") != ws for job in theirs)
    assert (await stranger.post(f"/jobs/dead/{dead['id']}/retry")).status_code == 404

    retried = await owner.post(f"/jobs/dead/{dead['id']}/retry")
    assert retried.status_code == 204
    assert not await buried()  # back in the queue as a first attempt
    assert (await owner.post(f"/jobs/dead/{dead['id']}/retry")).status_code == 404
    async with consuming(queue, handlers(runtime.deps), consumer=f"test2-{missing}"):
        await eventually(buried)  # and, still failing, buried again
    await asyncio.gather(owner.aclose(), agent.aclose(), stranger.aclose())
