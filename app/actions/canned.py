"""Canned-response actions: create, change, delete. A shortcut is unique per workspace."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import OperationFailure

from app.db import is_duplicate_key
from app.documents import CannedResponse
from app.documents.common import utcnow
from app.domain.errors import Conflict, NotFound
from app.services.canned import get_canned


def _taken(shortcut: object) -> Conflict:
    return Conflict(f"/{shortcut} exists", code="duplicate", details={"field": "shortcut"})


async def create_canned(
    ws: PydanticObjectId, *, shortcut: str, title: str, body: str
) -> CannedResponse:
    canned = CannedResponse(workspace_id=ws, shortcut=shortcut, title=title, body=body)
    try:
        await canned.insert()
    except OperationFailure as error:
        if not is_duplicate_key(error):
            raise
        raise _taken(shortcut) from None
    return canned


async def change_canned(
    ws: PydanticObjectId, canned_id: str, changes: dict[str, Any]
) -> CannedResponse:
    """Sets only the fields that change, so two supervisors editing different fields of one
    response both keep theirs."""
    canned = await get_canned(ws, canned_id)
    try:
        raw = await CannedResponse.get_pymongo_collection().find_one_and_update(
            {"_id": canned.id, "workspace_id": ws},
            {"$set": {**changes, "updated_at": utcnow()}},
            return_document=ReturnDocument.AFTER,
        )
    except OperationFailure as error:
        if not is_duplicate_key(error):
            raise
        raise _taken(changes.get("shortcut")) from None
    if raw is None:
        raise NotFound("no such canned response")
    changed: CannedResponse = CannedResponse.model_validate(raw)
    return changed


async def delete_canned(ws: PydanticObjectId, canned_id: str) -> None:
    await (await get_canned(ws, canned_id)).delete()
