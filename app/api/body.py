"""Reading a request body: size-limited while it streams, decoded and validated by msgspec."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

from app.domain.errors import Invalid, TooLarge

T = TypeVar("T")
# msgspec names where a value failed: "at `$.a.b`", or "at `key` in `$.a`" for a map's key.
_FIELD_PATH = re.compile(r"(?:at|in) `\$\.?(.*?)`")
_NOT_AN_OBJECT = re.compile(r"^Expected `object`, got `(\w+)`$")
# U+0000 in a JSON string, as the escape JSON writes it (after an even run of backslashes:
# an odd one makes the backslash itself the text). The store cannot keep the character.
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
NUL_MESSAGE = "text may not contain the NUL character (U+0000)"


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
        raw = b"{}"  # no body sends no fields; a body that is there must be an object
    try:
        decoded = msgspec.json.decode(raw, type=model)
    except msgspec.ValidationError as exc:
        whole = _NOT_AN_OBJECT.match(str(exc))
        if whole:
            raise Invalid(
                f"the body must be a JSON object, not {whole.group(1)}", code="not_an_object"
            ) from None
        raise Invalid(str(exc), field=field_of(exc), code="invalid_field") from None
    except msgspec.DecodeError as exc:
        raise Invalid(f"the body is not valid JSON: {exc}", code="malformed_json") from None
    except RecursionError:
        # msgspec descends one level of the interpreter's stack per level of nesting.
        raise Invalid(
            "the body is nested too deeply to read; no request needs that many levels",
            code="too_deep",
        ) from None
    if _NUL_ESCAPE.search(raw):
        raise Invalid(NUL_MESSAGE, code="nul_character")
    return decoded


def decode_query(params: dict[str, Any], model: type[T]) -> T:
    try:
        return msgspec.convert(params, type=model, strict=False)
    except msgspec.ValidationError as exc:
        raise Invalid(str(exc), field=field_of(exc), code="invalid_query") from None
