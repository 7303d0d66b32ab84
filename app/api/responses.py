"""JSON in and out with msgspec, and the one error body: `{error: {code, message, details}}`."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from app.domain.errors import DomainError

log = logging.getLogger("tandem.api")
_encoder = msgspec.json.Encoder()


def json_response(
    content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        _encoder.encode(content),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    return json_response(
        {"error": {"code": code, "message": message, "details": details}}, status=status
    )


def domain_error_response(request: Request, exc: DomainError) -> Response:
    principal = getattr(request.state, "principal", None)
    log.info(
        "%s %s -> %d %s: %s (workspace=%s user=%s)",
        request.method,
        request.url.path,
        exc.status,
        exc.code,
        exc.message,
        getattr(principal, "workspace_id", "-"),
        getattr(principal, "user_id", "-"),
    )
    response = error_response(exc.status, exc.code, exc.message, exc.details)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response
