"""Workspace settings actions (owners): name, widget settings, time zone, widget secret. Each
sets only its own fields, so two owners changing different settings both keep theirs; each
is audited."""

from __future__ import annotations

import secrets
from typing import Any

from pymongo import ReturnDocument

from app.documents import Workspace
from app.domain.errors import NotFound
from app.services.audit import record
from app.services.ids import require_id


async def _set(workspace_id: str, fields: dict[str, Any]) -> Workspace:
    raw = await Workspace.get_pymongo_collection().find_one_and_update(
        {"_id": require_id(workspace_id, "workspace")},
        {"$set": fields},
        return_document=ReturnDocument.AFTER,
    )
    if raw is None:
        raise NotFound("no such workspace")
    workspace: Workspace = Workspace.model_validate(raw)
    return workspace


async def change_settings(
    workspace_id: str, user_id: str, changes: dict[str, Any], asked: dict[str, Any]
) -> Workspace:
    """`changes`: the fields to store (already cleaned); `asked`: the request, for the audit."""
    workspace = await _set(workspace_id, changes) if changes else None
    workspace = workspace or await Workspace.get(require_id(workspace_id, "workspace"))
    if workspace is None:
        raise NotFound("no such workspace")
    assert workspace.id is not None
    await record(workspace.id, user_id, "workspace.updated", "workspace", workspace_id, **asked)
    return workspace


async def rotate_widget_secret(workspace_id: str, user_id: str) -> Workspace:
    """Hashes made with the old secret stop working at once."""
    workspace = await _set(workspace_id, {"widget_secret": secrets.token_urlsafe(32)})
    assert workspace.id is not None
    await record(
        workspace.id, user_id, "workspace.widget_secret_rotated", "workspace", workspace_id
    )
    return workspace
