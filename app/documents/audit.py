from __future__ import annotations

from datetime import datetime
from typing import Any

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field

from app.documents.common import utcnow


class AuditEvent(Document):
    """Security-relevant actions: sign-ups, invitations, role changes, tokens, deletions."""

    workspace_id: PydanticObjectId
    actor_id: str | None
    action: str
    target_type: str
    target_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "audit_events"
        indexes = [pymongo.IndexModel([("workspace_id", 1), ("at", -1)])]
