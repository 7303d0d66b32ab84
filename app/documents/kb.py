from __future__ import annotations

from datetime import datetime
from typing import Any

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field

from app.documents.common import utcnow
from realtime.events import ArticleStatus, ArticleVisibility


class Article(Document):
    """A knowledge-base article: markdown, in one locale, a draft or published, for everyone
    (the help center, the widget) or for agents only. `version` grows with every write; a
    change names the version it saw. A deleted article stays as a tombstone (`deleted_at`
    set, body emptied, slug freed) until its event is published, since the event rides in it."""

    workspace_id: PydanticObjectId
    title: str
    body: str
    locale: str = "en"
    category: str = ""
    status: ArticleStatus = "draft"
    visibility: ArticleVisibility = "public"
    slug: str
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    created_by: str | None = None
    updated_by: str | None = None
    deleted_at: datetime | None = None
    outbox: list[dict[str, Any]] = Field(default_factory=list)  # see app/outbox.py

    class Settings:
        name = "articles"
        keep_nulls = False
        indexes = [
            pymongo.IndexModel([("workspace_id", 1), ("_id", -1)]),
            pymongo.IndexModel([("workspace_id", 1), ("slug", 1)], unique=True),
        ]
