"""Switching AI on or off for a workspace (owner): suggestions now; model calls as they come.
Off means no suggestions are made and no request leaves Tandem for any model."""

from __future__ import annotations

import msgspec

from app.api.endpoint import Api, Call
from app.documents import Workspace
from app.domain.roles import Action
from app.services.ids import require_id
from app.services.workspaces import get_workspace

api = Api()


class AiSettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool | None = None
    suggestions: bool | None = None


class AiSettingsOut(msgspec.Struct):
    enabled: bool
    suggestions: bool


async def _out(call: Call) -> AiSettingsOut:
    ai = (await get_workspace(call.agent.workspace_id)).ai
    return AiSettingsOut(enabled=ai.enabled, suggestions=ai.suggestions)


@api.op("GET", "/ai/settings", summary="Whether AI is on here", tag="ai", response=AiSettingsOut)
async def ai_settings(call: Call) -> AiSettingsOut:
    call.agent.require(Action.WORK_TICKETS)
    return await _out(call)


@api.op(
    "PATCH",
    "/ai/settings",
    summary="Switch AI, or its live suggestions, on or off (owner)",
    tag="ai",
    body=AiSettingsIn,
    response=AiSettingsOut,
    errors=(403, 422),
)
async def change_ai_settings(call: Call) -> AiSettingsOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    body: AiSettingsIn = call.body
    changes = {
        f"ai.{name}": value
        for name, value in (("enabled", body.enabled), ("suggestions", body.suggestions))
        if value is not None
    }
    if changes:
        ws = require_id(call.agent.workspace_id, "workspace")
        await Workspace.get_pymongo_collection().update_one({"_id": ws}, {"$set": changes})
    return await _out(call)
