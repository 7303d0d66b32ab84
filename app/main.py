"""The Starlette application, built from explicit settings by `create_app`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from app import logredact
from app.ai.client import new_http
from app.api import (
    routes_account,
    routes_admin,
    routes_ai,
    routes_ai_stream,
    routes_ai_translate,
    routes_attachments,
    routes_auth,
    routes_channels,
    routes_contacts,
    routes_dashboard,
    routes_deflection,
    routes_help,
    routes_jobs,
    routes_kb,
    routes_lifecycle,
    routes_mentions,
    routes_presence,
    routes_privacy,
    routes_realtime,
    routes_tickets,
    routes_whatsapp,
    routes_widget,
    routes_widget_settings,
)
from app.api.cors import WidgetCORS
from app.api.endpoint import Api
from app.api.openapi import build_spec
from app.api.responses import error_response, json_response
from app.api.security_headers import SecurityHeaders
from app.auth.sessions import SessionCodec
from app.auth.socket_tokens import SocketTokens
from app.auth.throttle import LoginThrottle
from app.auth.visitor_tokens import VisitorTokens
from app.blobs.mongo import MongoBlobStore
from app.db import connect_store
from app.doclock import DocumentLocks
from app.kb.engine import KnowledgeBase
from app.kb.stored import StoredVectors
from app.live.endpoint import live
from app.live.presence_sink import RedisPresenceSink
from app.redis_client import connect_redis
from app.runtime import Runtime
from app.settings import Settings
from app.worker import make_deps, run_jobs_until
from realtime.broker import Broker
from realtime.hub import Hub
from realtime.presence import CollisionStore, PresenceStore

log = logging.getLogger("tandem")
PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
LIVE_PATH = "/live"


def all_operations() -> Api:
    api = Api()
    modules = (
        routes_auth,
        routes_account,
        routes_ai,
        routes_ai_stream,
        routes_ai_translate,
        routes_attachments,
        routes_channels,
        routes_dashboard,  # before routes_tickets: /tickets/counts is not a ticket id
        routes_tickets,
        routes_contacts,
        routes_privacy,
        routes_admin,
        routes_lifecycle,
        routes_kb,
        routes_help,
        routes_deflection,
        routes_jobs,
        routes_presence,
        routes_mentions,
        routes_realtime,
        routes_widget,
        routes_widget_settings,
        routes_whatsapp,
    )
    for module in modules:
        api.operations += module.api.operations
    return api


def make_broker(settings: Settings) -> Broker:
    if settings.broker == "memory":
        from realtime.memory_broker import MemoryBroker

        return MemoryBroker()
    from realtime.redis_broker import RedisBroker

    assert settings.redis_url
    return RedisBroker(settings.redis_url)


async def build_runtime(settings: Settings) -> Runtime:
    if not settings.mongodb_url or not settings.redis_url:
        raise RuntimeError("MONGODB_URL and REDIS_URL must be set (`tandem serve` sets them)")
    redis = connect_redis(settings.redis_url)
    locks = DocumentLocks(redis)
    store = await connect_store(settings.mongodb_url, settings.mongodb_db, locks)
    broker = make_broker(settings)
    hub = Hub(broker)  # registers its handlers before the broker starts delivering
    await broker.start()
    presence, collision = PresenceStore(redis), CollisionStore(redis)
    database = store[settings.mongodb_db]
    kb = KnowledgeBase(StoredVectors(database, redis))
    deps = make_deps(redis, broker, MongoBlobStore(database), kb)
    return Runtime(
        settings=settings,
        sessions=SessionCodec(settings.keyring, settings.session_max_age),
        socket_tokens=SocketTokens(settings.keyring),
        visitor_tokens=VisitorTokens(settings.keyring),
        store=store,
        redis=redis,
        relay=deps.relay,
        deps=deps,
        login_throttle=LoginThrottle(redis),
        presence=presence,
        collision=collision,
        presence_sink=RedisPresenceSink(presence, collision),
        hub=hub,
    )


async def close_runtime(runtime: Runtime) -> None:
    await runtime.hub.close()
    await runtime.relay.broker.close()
    await runtime.redis.aclose()
    await runtime.store.close()


def tune_gc() -> None:
    """Thousands of long-lived sockets make the default thresholds run full collections every
    few hundred ms under load (measured: 300-500 ms pauses at 2,500 sockets a process, the
    whole p99 tail). Start-up objects are frozen out of collection, and young generations are
    collected less often; reference counting still frees almost everything at once."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


class TandemApp(Starlette):
    """Sockets on /live go straight to the live endpoint, past the router and the middleware
    stack (it is the only WebSocket route). A held socket keeps its whole ASGI call chain
    suspended while it is open — about 5 KiB of frames and closures a socket, measured with
    tracemalloc — and none of those layers acts on it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == LIVE_PATH:
            scope["app"] = self
            await live(WebSocket(scope, receive, send))
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    if not settings.secret_key:
        raise RuntimeError("TANDEM_SECRET_KEY is not set")
    api = all_operations()
    spec = build_spec(api.operations, PREFIX, "Tandem API")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await build_runtime(settings)
        app.state.runtime = runtime
        # Model calls (app/ai): one pool for the process.
        app.state.ai_http = new_http(settings.ai_private_hosts)
        tune_gc()
        # Jobs and timers run in the worker process; a single-process development server
        # (in-memory broker) has no worker to publish for it, so it runs them itself.
        stop = asyncio.Event()
        jobs = None
        if settings.broker == "memory":
            jobs = asyncio.create_task(
                run_jobs_until(runtime.deps, runtime.redis, stop, runtime.settings)
            )
        try:
            yield
        finally:
            stop.set()
            if jobs is not None:
                await jobs
            await app.state.ai_http.aclose()
            await close_runtime(runtime)

    async def openapi(request: Request) -> Response:
        return json_response(spec)

    async def health(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def home(request: Request) -> Response:
        return RedirectResponse("/app/")

    async def signup_page(request: Request) -> Response:
        return RedirectResponse("/app/#/signup")

    async def login_page(request: Request) -> Response:
        return RedirectResponse("/app/#/login")

    routes = [
        Route("/", home),
        Route("/signup", signup_page),
        Route("/login", login_page),
        Route("/healthz", health),
        Route("/openapi.json", openapi),
        *api.routes(PREFIX),
        *routes_help.routes(),  # the public help center: /help/<workspace>[/<article>]
        Mount("/", StaticFiles(directory=STATIC_DIR, html=True, check_dir=False), name="static"),
    ]
    return TandemApp(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders, https=settings.public_url.startswith("https://")),
            Middleware(WidgetCORS, prefix=PREFIX + "/widget/"),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail))


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal", "something went wrong on our side; it was logged")


def app_from_env() -> Starlette:
    """The uvicorn factory (`uvicorn --factory app.main:app_from_env`)."""
    settings = Settings.from_env().with_secret()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # However uvicorn was started (`tandem serve` configures this itself): no query value —
    # socket tokens, emails, search text — reaches a log line.
    for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error"):
        logredact.install(logging.getLogger(name) if name else None)
    return create_app(settings)
