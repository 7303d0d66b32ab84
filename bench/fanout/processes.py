"""The server processes a benchmark run starts: Tandem under uvicorn, and the floor server.

Children inherit the runner's raised RLIMIT_NOFILE (see run.py), which is how uvicorn, whose
command line has no such option, gets room for 10,000 sockets.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.devservices.process import free_port

ROOT = Path(__file__).resolve().parents[2]
GC_WATCH = Path(__file__).resolve().parent / "gcwatch"  # a sitecustomize that logs GC pauses
START_SECONDS = 30.0


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for {self.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def _spawn(name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> Server:
    port = free_port()
    path = [str(GC_WATCH), env.get("PYTHONPATH", "")]
    env = {**env, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*argv, "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return Server(name, port, proc, log)


def start_tandem(name: str, env: dict[str, str], log_dir: Path) -> Server:
    # The command tests/servers.py uses; `tandem serve` passes the same deflate setting.
    argv = [sys.executable, "-m", "uvicorn", "app.main:app_from_env", "--factory"]
    argv += ["--host", "127.0.0.1", "--ws-per-message-deflate", "false", "--log-level", "warning"]
    server = _spawn(name, argv, {**os.environ, **env}, log_dir)
    _wait(server, lambda: httpx.get(server.http_url + "/healthz", timeout=1).status_code == 200)
    return server


def start_floor(name: str, log_dir: Path) -> Server:
    argv = [sys.executable, "-m", "bench.fanout.floor_server"]
    server = _spawn(name, argv, dict(os.environ), log_dir)
    _wait(server, lambda: _accepts(server.port))
    return server


def _accepts(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def _wait(server: Server, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited; see {server.log}")
        try:
            if ready():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{server.name} did not start in {START_SECONDS:g}s; see {server.log}")


def gc_pauses(server: Server, window: tuple[float, float]) -> list[float]:
    """Milliseconds of each collector pause the server logged inside `window` (monotonic)."""
    if not server.log.exists():
        return []
    pauses = []
    for line in server.log.read_text(errors="replace").splitlines():
        if line.startswith("GC-PAUSE "):
            fields = dict(part.split("=", 1) for part in line.split()[1:])
            if window[0] <= float(fields["at"]) <= window[1]:
                pauses.append(float(fields["ms"]))
    return pauses


def log_problems(server: Server, limit: int = 5) -> tuple[int, list[str]]:
    """Warnings, errors and tracebacks in a server's log: how many, and the first few kinds."""
    if not server.log.exists():
        return 0, []
    marks = ("WARNING", "ERROR", "Traceback", "CRITICAL")
    hits = [
        line.strip()
        for line in server.log.read_text(errors="replace").splitlines()
        if any(m in line for m in marks)
    ]
    kinds: list[str] = []
    for line in hits:
        kind = line[:160]
        if kind not in kinds and len(kinds) < limit:
            kinds.append(kind)
    return len(hits), kinds


def log_notes(servers: list[Server], quiet: str) -> list[str]:
    """A report's notes on the servers' logs: each one that logged problems, or `quiet`."""
    notes = []
    for server in servers:
        count, kinds = log_problems(server)
        if count:
            notes.append(
                f"`{server.name}` logged {count} warning/error lines, e.g.: "
                + "; ".join(f"`{k}`" for k in kinds)
            )
    return notes or [quiet]
