"""Reading a request body: size-limited while it streams, decoded and validated by msgspec."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

from app.domain.errors import Invalid, TooLarge

T = TypeVar("T")
_FIELD_PATH = re.compile(r"at `\$\.?(.*?)`")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the request body is over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the request body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def field_of(error: msgspec.ValidationError | msgspec.DecodeError) -> str | None:
    match = _FIELD_PATH.search(str(error))
    return match.group(1) if match else None


def decode_body(raw: bytes, model: type[T]) -> T:
    if not raw.strip():
        raw = b"{}"
    try:
        return msgspec.json.decode(raw, type=model)
    except msgspec.ValidationError as exc:
        raise Invalid(str(exc), field=field_of(exc), code="invalid_field") from None
    except msgspec.DecodeError as exc:
        raise Invalid(f"the body is not valid JSON: {exc}", code="malformed_json") from None


def decode_query(params: dict[str, Any], model: type[T]) -> T:
    try:
        return msgspec.convert(params, type=model, strict=False)
    except msgspec.ValidationError as exc:
        raise Invalid(str(exc), field=field_of(exc), code="invalid_query") from None
