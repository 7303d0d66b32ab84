"""Start FerretDB (on SQLite, or on a PostgreSQL of its own) and Redis together, and stop them
on exit."""

from __future__ import annotations

import atexit
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.devservices.errors import UnknownBackend
from app.devservices.ferretdb import ensure_ferretdb, ferretdb_argv
from app.devservices.postgres import (
    PostgresInstall,
    PostgresReady,
    cluster_location,
    ensure_cluster,
    ensure_database,
    ensure_lookup_indexes,
    find_postgres,
    postgres_argv,
    postgres_url,
)
from app.devservices.process import ServerProcess, free_port
from app.devservices.redis import find_redis_server, redis_answers, redis_argv
from app.settings import STORE_BACKENDS, Settings


@dataclass(frozen=True)
class LocalServices:
    mongodb_url: str | None
    redis_url: str | None
    postgres_url: str | None = None  # FerretDB's backend, when it is PostgreSQL


def _stop_all(processes: list[ServerProcess]) -> None:
    for proc in reversed(processes):
        proc.stop()


@contextmanager
def local_services(
    var_dir: Path,
    *,
    need_mongodb: bool = True,
    need_redis: bool = True,
    persist: bool = True,
    data_dir: Path | None = None,
    store_backend: str | None = None,
) -> Iterator[LocalServices]:
    """Run the services that are needed; `persist=False` keeps Redis in memory and lets
    PostgreSQL skip its flushes (tests). `store_backend` defaults to TANDEM_STORE_BACKEND's."""
    var_dir = var_dir.resolve()
    data = (data_dir or var_dir / "data").resolve()
    backend = store_backend or Settings.from_env().store_backend
    if need_mongodb and backend not in STORE_BACKENDS:
        raise UnknownBackend(
            f"TANDEM_STORE_BACKEND={backend!r}: use one of {', '.join(STORE_BACKENDS)}"
        )
    # Find every program before starting any, so a missing one costs no half-started state.
    redis_bin = find_redis_server() if need_redis else None
    postgres = find_postgres() if need_mongodb and backend == "postgresql" else None
    ferret_bin = ensure_ferretdb(var_dir) if need_mongodb else None
    started: list[ServerProcess] = []
    atexit.register(_stop_all, started)
    throwaway = None
    try:
        mongodb_url = redis_url = None
        backend_url = None
        if postgres is not None:
            throwaway = cluster_location(postgres, data / "postgres", durable=persist)
            cluster = throwaway or data / "postgres"
            backend_url = _start_postgres(postgres, cluster, var_dir, persist, started)
        if ferret_bin is not None:
            port = free_port()
            ferret = ServerProcess(
                "FerretDB",
                ferretdb_argv(ferret_bin, port, data / "ferretdb", postgresql_url=backend_url),
                port,
                var_dir / "log" / "ferretdb.log",
            )
            ferret.start()
            started.append(ferret)
            mongodb_url = f"mongodb://127.0.0.1:{port}/"
        if redis_bin is not None:
            port = free_port()
            redis = ServerProcess(
                "Redis",
                redis_argv(redis_bin, port, data / "redis", persist=persist),
                port,
                var_dir / "log" / "redis.log",
            )
            redis.start(ready=redis_answers)
            started.append(redis)
            redis_url = f"redis://127.0.0.1:{port}/0"
        yield LocalServices(mongodb_url=mongodb_url, redis_url=redis_url, postgres_url=backend_url)
    finally:
        for proc in reversed(started):
            proc.stop()
        started.clear()
        if throwaway is not None:
            shutil.rmtree(throwaway, ignore_errors=True)


def _start_postgres(
    install: PostgresInstall,
    cluster_dir: Path,
    var_dir: Path,
    durable: bool,
    started: list[ServerProcess],
) -> str:
    """PostgreSQL for FerretDB; returns the URL FerretDB connects to."""
    ensure_cluster(install, cluster_dir, durable=durable)
    port = free_port()
    server = ServerProcess(
        "PostgreSQL",
        postgres_argv(install, cluster_dir, port, durable=durable),
        port,
        var_dir / "log" / "postgres.log",
        # SIGTERM would be a "smart" shutdown, waiting for FerretDB's connections to end;
        # SIGINT is the fast one: it ends them, and still writes a clean checkpoint.
        stop_signal=signal.SIGINT,
        user=install.run_as,
    )
    server.start(ready=PostgresReady(install), timeout=60.0)
    started.append(server)
    ensure_database(install, port)
    ensure_lookup_indexes(install, port)
    return postgres_url(port)
