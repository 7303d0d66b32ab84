"""A child server process on a loopback port: start, wait until it answers, stop."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tcp_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """In the child, before exec: on Linux, have the kernel send `signum` when the process that
    started it dies, even by SIGKILL, so a killed Tandem leaves no FerretDB or Redis behind.

    Popen runs this after switching to `user=`: the kernel clears the setting whenever a
    process's credentials change, so setting it before the switch would be lost."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signum)


class AccountArgs(TypedDict, total=False):
    user: str
    group: int
    extra_groups: list[int]


def as_account(user: str | None) -> AccountArgs:
    """Popen arguments that run a child as `user` with that account's group and no other:
    keeping root's groups would have the child judged as group root on root's directories."""
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


class ServerProcess:
    def __init__(
        self,
        name: str,
        argv: list[str],
        port: int,
        log_path: Path,
        *,
        stop_signal: int = signal.SIGTERM,
        user: str | None = None,
    ) -> None:
        """`stop_signal` is what asks this server to end promptly (sent by `stop()` and by the
        kernel when Tandem dies); `user` runs it as another account (PostgreSQL refuses root)."""
        self.name = name
        self.argv = argv
        self.port = port
        self.log_path = log_path
        self.stop_signal = stop_signal
        self.user = user
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, ready: Callable[[int], bool] = tcp_answers, timeout: float = 30.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            # A session of its own: Ctrl-C in the terminal reaches us, and we stop the child
            # in order rather than having it die mid-write.
            self._proc = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=functools.partial(die_with_parent, self.stop_signal),
                **as_account(self.user),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with code {self._proc.returncode} while starting; "
                    f"see {self.log_path}:\n{self._tail()}"
                )
            if ready(self.port):
                log.info("%s listening on 127.0.0.1:%d", self.name, self.port)
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer on port {self.port} within {timeout:.0f}s")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(self.stop_signal)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def _tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""
