"""Declared API operations: each knows its body, query and answer types, its auth, and
feeds both the router and `/openapi.json` from that one declaration."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import ConnectionFailure as PyMongoConnectionFailure
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from app.api.body import decode_body, decode_query, read_body
from app.api.idempotency import once
from app.api.responses import domain_error_response, json_response
from app.auth.authenticate import authenticate
from app.auth.principal import Principal
from app.auth.sessions import CSRF_HEADER, SessionData
from app.domain.errors import DomainError, Forbidden, NotAuthenticated, Unavailable
from app.domain.scopes import method_scope
from app.runtime import Runtime
from app.services.lifecycle import require_writable

log = logging.getLogger("tandem.api")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BACKEND_DOWN = (RedisConnectionError, RedisTimeoutError, PyMongoConnectionFailure)
# What a member still changes in a cancelled, read-only workspace (app/services/lifecycle.py):
# their own sign-in and account (logging out, ending sessions, their password and profile)
# and the live socket's token; every other write is refused `409 workspace_cancelled`.
OWN_ACCESS_TAGS = frozenset({"auth", "realtime"})


def may_write(tag: str, while_cancelled: bool) -> bool:
    """Whether an operation runs in a cancelled workspace (it declares so, like restoring)."""
    return while_cancelled or tag in OWN_ACCESS_TAGS


@dataclass
class Call:
    """Everything a handler gets: the request, who is calling, the decoded inputs."""

    request: Request
    runtime: Runtime
    principal: Principal | None
    session: SessionData | None
    body: Any = None
    query: Any = None

    @property
    def agent(self) -> Principal:
        assert self.principal is not None  # guaranteed for operations with auth=True
        return self.principal

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])


Handler = Callable[[Call], Awaitable[Any]]


@dataclass
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type | None = None
    query: type | None = None
    response: Any = None
    status: int = 200
    auth: bool = True
    errors: tuple[int, ...] = ()
    # The answer shows a secret once (a new API token, an invitation link): it is never kept
    # for a replay, so such an operation ignores `Idempotency-Key` and a retry mints anew.
    secret: bool = False
    # The answer is a stream of server-sent events, not JSON: what its events are.
    stream: str | None = None
    # Runs in a cancelled (read-only) workspace although it is a write; see `may_write`.
    while_cancelled: bool = False

    @property
    def idempotent(self) -> bool:
        """Honours `Idempotency-Key` (app/api/idempotency.py): writes by a known caller.
        Unauthenticated writes (signup, login, invitation acceptance, the widget's) ignore it:
        there is no caller to scope a key to (a client address is shared behind NAT), and
        their answers set cookies or mint credentials that a kept JSON body cannot give back.
        The widget's messages carry their own `client_id` for the same purpose."""
        return self.auth and self.method in UNSAFE and not self.secret


@dataclass
class Api:
    operations: list[Operation] = field(default_factory=list)

    def op(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        body: type | None = None,
        query: type | None = None,
        response: Any = None,
        status: int = 200,
        auth: bool = True,
        errors: tuple[int, ...] = (),
        secret: bool = False,
        stream: str | None = None,
        while_cancelled: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            writes = may_write(tag, while_cancelled)
            refusable = auth and method in UNSAFE and not writes
            declared = (*errors, 409) if refusable and 409 not in errors else errors
            self.operations.append(
                Operation(
                    method,
                    path,
                    handler,
                    summary,
                    tag,
                    body,
                    query,
                    response,
                    status,
                    auth,
                    declared,
                    secret,
                    stream,
                    writes,
                )
            )
            return handler

        return register

    def routes(self, prefix: str) -> list[Route]:
        by_path: dict[str, dict[str, Operation]] = {}
        for operation in self.operations:
            by_path.setdefault(operation.path, {})[operation.method] = operation
        return [
            Route(prefix + path, _dispatch(ops), methods=list(ops)) for path, ops in by_path.items()
        ]


def _dispatch(ops: dict[str, Operation]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        # Starlette routes HEAD wherever there is a GET. A HEAD is answered as that GET
        # would be — its auth, status and headers, Content-Length included — without the
        # body, so link checkers and monitors see what a browser would.
        if request.method == "HEAD":
            return await _headers_only(await _respond(ops["GET"], request))
        return await _respond(ops[request.method], request)

    return endpoint


async def _headers_only(response: Response) -> Response:
    if isinstance(response, StreamingResponse):
        close = getattr(response.body_iterator, "aclose", None)
        if close is not None:
            await close()  # a download that is not read: its source closes now
    bare = Response(status_code=response.status_code)
    bare.raw_headers = list(response.raw_headers)
    return bare


async def _respond(operation: Operation, request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        return await _run(operation, request, runtime)
    except DomainError as exc:
        return domain_error_response(request, exc)
    except BACKEND_DOWN as exc:
        # Once an action's write is committed nothing after it raises (a failed publish
        # or lock release is left to the outbox sweep and the lock's expiry), so this
        # answer is truthful: nothing was written, or what was is found again by the
        # retry's idempotency key. Either way the client retries.
        path = request.url.path
        log.warning("%s %s: a backend is unreachable (%s)", request.method, path, exc)
        return domain_error_response(request, Unavailable("a backend is unreachable; retry"))


async def _run(operation: Operation, request: Request, runtime: Runtime) -> Response:
    principal, session = (
        await authenticate(request, runtime.sessions) if operation.auth else (None, None)
    )
    request.state.principal = principal
    if operation.auth and principal is None:
        raise NotAuthenticated("log in, or send an API token as `Authorization: Bearer …`")
    if principal is not None and principal.via == "token":
        principal.require_scope(method_scope(request.method))
    if (
        session is not None
        and request.method in UNSAFE
        and not runtime.sessions.csrf_ok(session, request.headers.get(CSRF_HEADER))
    ):
        raise Forbidden(
            "this request needs the X-CSRF-Token header from the login answer", code="csrf_failed"
        )
    if principal is not None and request.method in UNSAFE and not operation.while_cancelled:
        # Before the idempotency record: a refusal here is not kept, so the same key works
        # once the owner restores the workspace.
        await require_writable(principal.workspace_id)
    call = Call(request, runtime, principal, session)
    raw = b""
    if operation.body is not None:
        raw = await read_body(request, runtime.settings.max_body_bytes)
        # Decoded before the idempotency record is looked at: a body that cannot be read is
        # refused the same way with or without a key, and nothing is kept for it.
        call.body = decode_body(raw, operation.body)
    if operation.idempotent:
        return await once(request, runtime.redis, call.agent, raw, lambda: _answer(operation, call))
    return await _answer(operation, call)


async def _answer(operation: Operation, call: Call) -> Response:
    if operation.query is not None:
        call.query = decode_query(dict(call.request.query_params), operation.query)
    result = await operation.handler(call)
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204)
    return json_response(result, status=operation.status)
