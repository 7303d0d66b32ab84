from __future__ import annotations

from datetime import UTC, datetime

from beanie import PydanticObjectId


def utcnow() -> datetime:
    # Millisecond precision: what BSON dates keep, so a value read back compares equal.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


WorkspaceId = PydanticObjectId
