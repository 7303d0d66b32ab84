"""Background jobs that kept failing: admins see their workspace's and send them back."""

from __future__ import annotations

import msgspec

from app.api.endpoint import Api, Call
from app.domain.errors import NotFound
from app.domain.roles import Action
from app.jobs.model import DeadJob
from app.jobs.queue import JobQueue

api = Api()
J = "jobs"
SCAN = 1_000  # dead jobs of every workspace looked through for the caller's


class DeadJobsOut(msgspec.Struct):
    items: list[DeadJob]


def queue_of(call: Call) -> JobQueue:
    timers = call.runtime.deps.timers
    assert timers is not None
    return timers.queue


async def dead_of(call: Call) -> list[DeadJob]:
    """The dead-letter stream is shared by every workspace: only the jobs about the caller's
    own workspace are theirs to see (jobs about none, like the sweep, are the operator's)."""
    ws = call.agent.workspace_id
    return [j for j in await queue_of(call).dead_letters(SCAN) if j.payload.get("ws") == ws]


@api.op(
    "GET",
    "/jobs/dead",
    summary="Jobs of this workspace that failed every attempt, newest first, with their error",
    tag=J,
    response=DeadJobsOut,
    errors=(403,),
)
async def dead_jobs(call: Call) -> DeadJobsOut:
    call.agent.require(Action.VIEW_AUDIT)
    return DeadJobsOut(items=(await dead_of(call))[:100])


@api.op(
    "POST",
    "/jobs/dead/{job_id}/retry",
    summary="Run a dead job again, as a first attempt",
    tag=J,
    status=204,
    errors=(403, 404),
)
async def retry_dead_job(call: Call) -> None:
    call.agent.require(Action.VIEW_AUDIT)
    job_id = call.path("job_id")
    if not any(j.id == job_id for j in await dead_of(call)):
        raise NotFound("no such dead job in this workspace")
    if not await queue_of(call).requeue_dead(job_id):
        raise NotFound("no such dead job in this workspace")
