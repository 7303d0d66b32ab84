from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from app.documents import AuditEvent


async def record(
    workspace_id: PydanticObjectId,
    actor_id: str | None,
    action: str,
    target_type: str,
    target_id: str | None = None,
    **data: Any,
) -> None:
    await AuditEvent(
        workspace_id=workspace_id,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        data=data,
    ).insert()
