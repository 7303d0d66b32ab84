from __future__ import annotations

from datetime import datetime

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field

from app.documents.common import utcnow


class CannedResponse(Document):
    workspace_id: PydanticObjectId
    shortcut: str
    title: str = ""
    body: str
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "canned_responses"
        indexes = [pymongo.IndexModel([("workspace_id", 1), ("shortcut", 1)], unique=True)]
