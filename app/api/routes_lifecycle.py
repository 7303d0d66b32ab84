"""Cancelling a workspace, restoring it within its window, and exporting all of it (owner).

GET  /workspace/lifecycle   whether the workspace is cancelled and when it will be purged
POST /workspace/cancel      {"password"}: read-only from now, purged after the window
POST /workspace/restore     undo the cancel while the window lasts
GET  /workspace/export      a zip of everything (works before and after cancelling)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import msgspec
from starlette.responses import StreamingResponse

from app.api.endpoint import Api, Call
from app.blobs.mongo import MongoBlobStore
from app.documents import Workspace
from app.domain.errors import NotFound
from app.domain.roles import Action
from app.services import lifecycle
from app.services.audit import record
from app.services.ids import require_id
from app.services.workspace_export import WorkspaceExport, export_filename

api = Api()
T = "workspace"


class LifecycleOut(msgspec.Struct):
    status: str  # "active" or "cancelled"
    cancelled_at: str | None
    purge_after: str | None  # from then on its data is deleted; restoring is possible before
    window_days: int  # how long a cancelled workspace is kept


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    # The owner's own password: cancelling is theirs alone, not a borrowed session's.
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


def _out(call: Call, state: lifecycle.Lifecycle) -> LifecycleOut:
    details = state.details()
    return LifecycleOut(
        status="cancelled" if state.cancelled else "active",
        cancelled_at=details["cancelled_at"],
        purge_after=details["purge_after"],
        window_days=max(0, call.runtime.settings.purge_after_days),
    )


@api.op(
    "GET",
    "/workspace/lifecycle",
    summary="Whether the workspace is cancelled (read-only) and when its data will be deleted",
    tag=T,
    response=LifecycleOut,
)
async def get_lifecycle(call: Call) -> LifecycleOut:
    return _out(call, await lifecycle.read_lifecycle(call.agent.workspace_id))


@api.op(
    "POST",
    "/workspace/cancel",
    summary="Cancel the workspace: read-only at once, deleted after the window (owner, with "
    "their password)",
    tag=T,
    body=CancelIn,
    response=LifecycleOut,
    errors=(403, 409, 422, 429),
)
async def cancel_workspace(call: Call) -> LifecycleOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    runtime = call.runtime
    state = await lifecycle.cancel(
        principal=call.agent,
        password=call.body.password,
        request=call.request,
        throttle=runtime.login_throttle,
        locks=runtime.relay.locks,
        timers=runtime.deps.timers,
        days=runtime.settings.purge_after_days,
    )
    return _out(call, state)


@api.op(
    "POST",
    "/workspace/restore",
    summary="Restore a cancelled workspace before its data is deleted (owner)",
    tag=T,
    response=LifecycleOut,
    errors=(403, 409),
    while_cancelled=True,
)
async def restore_workspace(call: Call) -> LifecycleOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    return _out(call, await lifecycle.restore(principal=call.agent, locks=call.runtime.relay.locks))


@api.op(
    "GET",
    "/workspace/export",
    summary="Download the whole workspace as a zip: JSON per kind of record, and its files (owner)",
    tag=T,
    errors=(403,),
)
async def export_workspace(call: Call) -> StreamingResponse:
    call.agent.require(Action.MANAGE_WORKSPACE)
    ws = require_id(call.agent.workspace_id, "workspace")
    workspace = await Workspace.get(ws)
    if workspace is None:
        raise NotFound("no such workspace")
    database = Workspace.get_pymongo_collection().database
    blobs = call.runtime.deps.blobs or MongoBlobStore(database)
    export = WorkspaceExport(workspace, database, blobs, exported_by=call.agent.user_id)
    user_id = call.agent.user_id

    async def body() -> AsyncIterator[bytes]:
        # Recorded when the download starts, not for a HEAD that only asks about it.
        await record(ws, user_id, "workspace.exported", "workspace", str(ws))
        async for chunk in export.stream():
            if chunk:
                yield chunk

    filename = export_filename(workspace)
    return StreamingResponse(
        body(),
        media_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
        },
    )
