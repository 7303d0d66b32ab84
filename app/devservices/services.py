"""Start FerretDB and Redis together, and stop them on exit."""

from __future__ import annotations

import atexit
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.devservices.ferretdb import ensure_ferretdb, ferretdb_argv
from app.devservices.process import ServerProcess, free_port
from app.devservices.redis import find_redis_server, redis_answers, redis_argv


@dataclass(frozen=True)
class LocalServices:
    mongodb_url: str | None
    redis_url: str | None


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
) -> Iterator[LocalServices]:
    """Run the services that are needed; `persist=False` keeps Redis in memory (tests)."""
    var_dir = var_dir.resolve()
    data = (data_dir or var_dir / "data").resolve()
    # Find every program before starting any, so a missing one costs no half-started state.
    redis_bin = find_redis_server() if need_redis else None
    ferret_bin = ensure_ferretdb(var_dir) if need_mongodb else None
    started: list[ServerProcess] = []
    atexit.register(_stop_all, started)
    try:
        mongodb_url = redis_url = None
        if ferret_bin is not None:
            port = free_port()
            ferret = ServerProcess(
                "FerretDB",
                ferretdb_argv(ferret_bin, port, data / "ferretdb"),
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
        yield LocalServices(mongodb_url=mongodb_url, redis_url=redis_url)
    finally:
        for proc in reversed(started):
            proc.stop()
        started.clear()
