from __future__ import annotations

from beanie import PydanticObjectId

from app.auth.authenticate import object_id
from app.domain.errors import NotFound


def require_id(value: str | None, what: str) -> PydanticObjectId:
    """A path or body id; anything that is not one is simply not found (never a 500)."""
    oid = object_id(value) if value else None
    if oid is None:
        raise NotFound(f"no such {what}")
    return oid
