"""Real uvicorn processes running Tandem on the suite's FerretDB and Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.devservices.process import free_port

ROOT = Path(__file__).resolve().parent.parent


def tandem_env(mongodb_url: str, redis_url: str, db_name: str, **extra: str) -> dict[str, str]:
    """What every Tandem process of one test shares: the store, Redis, the secret."""
    return dict(
        os.environ,
        MONGODB_URL=mongodb_url,
        REDIS_URL=redis_url,
        MONGODB_DB=db_name,
        TANDEM_SECRET_KEY="shared-secret-" + db_name,
        # The local model servers tests talk to run here, as an operator's Ollama would.
        TANDEM_AI_PRIVATE_HOSTS="127.0.0.1",
        **extra,
    )


@contextmanager
def tandem_processes(
    count: int,
    *,
    mongodb_url: str,
    redis_url: str,
    db_name: str,
    log_dir: Path,
    extra_env: dict[str, str] | None = None,
) -> Iterator[list[str]]:
    """Start `count` uvicorn processes sharing one store and one Redis; yield their URLs."""
    env = tandem_env(
        mongodb_url, redis_url, db_name, TANDEM_LOG_LEVEL="warning", **(extra_env or {})
    )
    procs: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        for i in range(count):
            port = free_port()
            # Each process knows its own address, as a deployed one does (links it makes,
            # such as invitations and account emails, point back at it).
            own = {"TANDEM_PUBLIC_URL": f"http://127.0.0.1:{port}"}
            with (log_dir / f"server-{i}.log").open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "uvicorn",
                            "app.main:app_from_env",
                            "--factory",
                            "--host",
                            "127.0.0.1",
                            "--port",
                            str(port),
                            "--ws-per-message-deflate",
                            "false",
                            "--log-level",
                            "warning",
                        ],
                        cwd=ROOT,
                        env={**own, **env}
                        if "TANDEM_PUBLIC_URL" in (extra_env or {})
                        else {**env, **own},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        for url, proc in zip(urls, procs, strict=True):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server {url} exited; see {log_dir}")
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server {url} did not start; see {log_dir}")
                time.sleep(0.1)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def start_worker(
    *,
    mongodb_url: str,
    redis_url: str,
    db_name: str,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """A `tandem worker` process on the suite's store and Redis (kill it as the test needs)."""
    env = tandem_env(mongodb_url, redis_url, db_name, **(extra_env or {}))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@contextmanager
def tandem_worker(
    *,
    mongodb_url: str,
    redis_url: str,
    db_name: str,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    worker = start_worker(
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        db_name=db_name,
        log_path=log_path,
        extra_env=extra_env,
    )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
