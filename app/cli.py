"""`tandem` — run the server, the worker, local services, and admin tasks."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from app import logredact
from app.auth import keyring
from app.devservices import MissingTool, local_services
from app.devservices.errors import BuildFailed, UnknownBackend
from app.devservices.ferretdb import ensure_ferretdb
from app.devservices.process import die_with_parent
from app.settings import Settings


def _fail(message: str) -> int:
    print(f"tandem: {message}", file=sys.stderr)
    return 1


def _with_local_services(stack: ExitStack, settings: Settings) -> Settings:
    """Start FerretDB/Redis for whichever of MONGODB_URL/REDIS_URL is unset, export the URLs
    (so uvicorn workers inherit them) and return settings that point at them."""
    need_mongo, need_redis = not settings.mongodb_url, not settings.redis_url
    if need_mongo or need_redis:
        running = stack.enter_context(
            local_services(
                settings.var_dir,
                need_mongodb=need_mongo,
                need_redis=need_redis,
                store_backend=settings.store_backend,
            )
        )
        if running.mongodb_url:
            os.environ["MONGODB_URL"] = running.mongodb_url
            print(
                f"tandem: local FerretDB ({settings.store_backend}) at {running.mongodb_url}",
                file=sys.stderr,
            )
        if running.redis_url:
            os.environ["REDIS_URL"] = running.redis_url
            print(f"tandem: local Redis at {running.redis_url}", file=sys.stderr)
    return Settings.from_env().with_secret()


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    with ExitStack() as stack:
        settings = _with_local_services(stack, Settings.from_env())
        os.environ["TANDEM_SECRET_KEY"] = settings.secret_key
        print(f"tandem: serving on http://{args.host}:{args.port}", file=sys.stderr)
        # uvicorn shuts down gracefully on SIGTERM, then raises the signal again with the
        # handler that was there before it: make that an exit, so the local FerretDB and
        # Redis are stopped by the stack instead of outliving us.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        if args.with_worker and settings.broker != "memory":
            stack.enter_context(_worker_process())
        proxy_headers, forwarded = proxy_settings(settings)
        uvicorn.run(
            "app.main:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=settings.log_level,
            log_config=logredact.server_log_config(settings.log_level),
            # Per-socket compression costs hundreds of KB of zlib state per idle socket.
            ws_per_message_deflate=False,
            proxy_headers=proxy_headers,
            forwarded_allow_ips=forwarded,
        )
    return 0


def proxy_settings(settings: Settings) -> tuple[bool, str]:
    """uvicorn's `proxy_headers` and `forwarded_allow_ips`: forwarded headers are believed
    only from the proxies the operator named (`TANDEM_TRUSTED_PROXIES`); with none (the
    default), never — whoever connects is the client, so nobody chooses the address their
    limits are counted under."""
    return bool(settings.trusted_proxies), ",".join(settings.trusted_proxies)


@contextmanager
def _worker_process() -> Iterator[None]:
    """`tandem worker` beside the server, on the same store and Redis (their URLs are in the
    environment by now), ending with it — even if the server is killed (PR_SET_PDEATHSIG)."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"], preexec_fn=die_with_parent
    )
    print(f"tandem: worker running (pid {worker.pid})", file=sys.stderr)
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()


def cmd_dev_services(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        _with_local_services(stack, Settings.from_env())
        print(f"MONGODB_URL={os.environ['MONGODB_URL']}")
        print(f"REDIS_URL={os.environ['REDIS_URL']}", flush=True)
        stop = asyncio.Event()

        async def wait() -> None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()

        asyncio.run(wait())
    return 0


def cmd_create_workspace(args: argparse.Namespace) -> int:
    from app.domain.errors import DomainError
    from app.main import build_runtime, close_runtime
    from app.services.workspaces import create_workspace

    async def run(settings: Settings) -> None:
        runtime = await build_runtime(settings)
        try:
            workspace, user = await create_workspace(
                name=args.name,
                slug=args.slug,
                owner_name=args.owner_name,
                owner_email=args.owner_email,
                password=args.password,
                deps=runtime.deps,
            )
            print(f"workspace {workspace.slug} ({workspace.id}); owner {user.email}")
        finally:
            await close_runtime(runtime)

    with ExitStack() as stack:
        settings = _with_local_services(stack, Settings.from_env())
        try:
            asyncio.run(run(settings))
        except DomainError as exc:
            return _fail(exc.message)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from app.worker import run_worker

    with ExitStack() as stack:
        settings = _with_local_services(stack, Settings.from_env())
        asyncio.run(run_worker(settings))
    return 0


def cmd_rebuild_views(args: argparse.Namespace) -> int:
    from app.documents import Workspace
    from app.main import build_runtime, close_runtime
    from app.views.rebuild import rebuild_views

    async def run(settings: Settings) -> int:
        runtime = await build_runtime(settings)
        try:
            if args.workspace:
                one = await Workspace.find_one(Workspace.slug == args.workspace.lower())
                if one is None:
                    return _fail(f"no workspace {args.workspace!r}")
                workspaces = [one]
            else:
                workspaces = await Workspace.find_all().to_list()
            for workspace in workspaces:
                assert workspace.id is not None
                applied = await rebuild_views(runtime.views, workspace.id)
                indexed = await runtime.search.rebuild(str(workspace.id))
                shown = "skipped: another rebuild is running" if applied is None else applied
                print(f"{workspace.slug}: views {shown} tickets; search {indexed} documents")
        finally:
            await close_runtime(runtime)
        return 0

    with ExitStack() as stack:
        settings = _with_local_services(stack, Settings.from_env())
        return asyncio.run(run(settings))


def cmd_build_store(args: argparse.Namespace) -> int:
    if os.environ.get("MONGODB_URL"):
        return 0
    path = ensure_ferretdb(Settings.from_env().var_dir)
    print(f"tandem: FerretDB ready at {path}", file=sys.stderr)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """Rotate or retire the signing keys kept in var/secret_key (app/auth/keyring.py)."""
    settings = Settings.from_env()
    if settings.secret_key:
        return _fail(
            "TANDEM_SECRET_KEY is set: put a new key first in it (comma-separated, newest "
            "first), and drop the old one once what it signed has expired"
        )
    path = settings.var_dir / "secret_key"
    ring = keyring.rotate(path) if args.action == "rotate" else keyring.retire(path)
    print(f"tandem: {len(ring.keys)} key(s) in {path}; restart the servers", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tandem", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web server (starts local services if needed)")
    serve.add_argument("--host", default=os.environ.get("TANDEM_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("TANDEM_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("TANDEM_WORKERS", "1")))
    serve.add_argument(
        "--no-worker",
        dest="with_worker",
        action="store_false",
        help="do not start `tandem worker` beside the server (run it as its own process)",
    )
    serve.set_defaults(run=cmd_serve)
    sub.add_parser("worker", help="run the background worker").set_defaults(run=cmd_worker)
    sub.add_parser(
        "dev-services", help="run local FerretDB (and its PostgreSQL) and Redis until Ctrl-C"
    ).set_defaults(run=cmd_dev_services)
    sub.add_parser("build-store", help="build FerretDB into var/bin if missing").set_defaults(
        run=cmd_build_store
    )
    rv = sub.add_parser(
        "rebuild-views",
        help="rebuild the inbox views, counts and search index in Redis from the store",
    )
    rv.add_argument("--workspace", help="one workspace's slug (default: every workspace)")
    rv.set_defaults(run=cmd_rebuild_views)
    keys = sub.add_parser(
        "keys",
        help="rotate: sign with a new key, still accept the old; retire: keep only the newest",
    )
    keys.add_argument("action", choices=["rotate", "retire"])
    keys.set_defaults(run=cmd_keys)
    cw = sub.add_parser("create-workspace", help="create a workspace and its owner")
    cw.add_argument("--name", required=True)
    cw.add_argument("--slug", required=True)
    cw.add_argument("--owner-name", required=True)
    cw.add_argument("--owner-email", required=True)
    cw.add_argument("--password", default=os.environ.get("TANDEM_OWNER_PASSWORD"), required=False)
    cw.set_defaults(run=cmd_create_workspace)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "password", "x") is None:
        return _fail("give --password or set TANDEM_OWNER_PASSWORD")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    logredact.install()
    try:
        return int(args.run(args))
    except (MissingTool, BuildFailed, UnknownBackend) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
