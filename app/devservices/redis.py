"""Debian's redis-server on a loopback port."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from app.devservices.errors import MissingTool

REDIS_HINT = (
    "redis-server is needed for the local broker. Install it with "
    "`sudo apt-get install -y redis-server`, or set REDIS_URL to an existing Redis."
)


def find_redis_server() -> str:
    configured = os.environ.get("TANDEM_REDIS_SERVER")
    if configured:
        candidates = [configured]
    else:
        candidates = [shutil.which("redis-server") or "", "/usr/bin/redis-server"]
    path = next((c for c in candidates if c and Path(c).is_file()), None)
    if path is None:
        raise MissingTool(REDIS_HINT)
    return path


def redis_argv(binary: str, port: int, data_dir: Path, *, persist: bool) -> list[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
        "--loglevel",
        "warning",
    ]
    if persist:
        argv += ["--appendonly", "yes"]
    else:
        argv += ["--save", "", "--appendonly", "no"]
    return argv


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
