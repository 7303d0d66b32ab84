"""Reading canned responses."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.documents import CannedResponse
from app.domain.errors import NotFound
from app.services.ids import require_id


async def list_canned(ws: PydanticObjectId) -> list[CannedResponse]:
    return await CannedResponse.find(CannedResponse.workspace_id == ws).sort("shortcut").to_list()


async def get_canned(ws: PydanticObjectId, canned_id: str) -> CannedResponse:
    found = await CannedResponse.find_one(
        CannedResponse.id == require_id(canned_id, "canned response"),
        CannedResponse.workspace_id == ws,
    )
    if found is None:
        raise NotFound("no such canned response")
    return found
