from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec

Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]


class Page(msgspec.Struct, kw_only=True):
    next_cursor: str | None = None


class ErrorDetail(msgspec.Struct):
    code: str
    message: str
    details: Any = None


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


def iso(value: datetime | None) -> str | None:
    """A moment as the API writes it: UTC, always to the millisecond (the store's precision),
    so that the strings sort as the moments do ("…:01Z" would sort after "…:01.001Z")."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
