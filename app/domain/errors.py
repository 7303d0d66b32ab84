"""Errors a rule can raise; the HTTP layer maps each to a status and a JSON body."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """A stale version or a duplicate; `details` carries the current state when there is one."""

    status = 409
    code = "conflict"


class Invalid(DomainError):
    status = 422
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code, details={"field": field} if field else None)


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class Unavailable(DomainError):
    """A backend (the store, Redis) cannot be reached and nothing was written: retry later."""

    status = 503
    code = "unavailable"
    retry_after = 2


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.retry_after = retry_after  # seconds, sent as `Retry-After` when known


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"
