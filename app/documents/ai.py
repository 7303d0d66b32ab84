from __future__ import annotations

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field

from app.documents.common import utcnow

AiAction = Literal["draft", "summary", "translate"]
AiOutcome = Literal["ok", "error", "cancelled"]


class AiUsage(Document):
    """One model call, for metering: who asked, for what, what it cost. It never holds what
    was sent or answered: no prompt, no reply, no ticket text."""

    workspace_id: PydanticObjectId
    user_id: str
    action: AiAction
    at: datetime = Field(default_factory=utcnow)
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    # The provider reported neither tokens nor cost (a call cut short, a provider that does
    # not count): the figures are estimated from the lengths of the text sent and received.
    estimated: bool = False
    outcome: AiOutcome
    error_code: str | None = None  # Tandem's code for a failure, never the provider's text

    class Settings:
        name = "ai_usage"
        keep_nulls = False
        indexes = [pymongo.IndexModel([("workspace_id", 1), ("at", -1)])]
