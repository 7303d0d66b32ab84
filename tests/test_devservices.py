"""The local-services launcher: clear instructions when a program is missing, real servers
otherwise."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from app.devservices import MissingTool, local_services
from app.devservices.process import free_port, tcp_answers
from app.devservices.redis import find_redis_server

ROOT = Path(__file__).resolve().parent.parent


def test_missing_redis_server_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_REDIS_SERVER", "/nonexistent/redis-server")
    with pytest.raises(MissingTool, match="apt-get install -y redis-server"):
        find_redis_server()


def test_cli_reports_a_missing_program_without_a_traceback(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        TANDEM_REDIS_SERVER=str(tmp_path / "redis-server"),
        MONGODB_URL="mongodb://127.0.0.1:1/",
        TANDEM_VAR_DIR=str(tmp_path / "var"),
    )
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "dev-services"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "tandem: redis-server is needed" in result.stderr


def test_local_redis_only_starts_answers_and_stops(tmp_path: Path) -> None:
    with local_services(
        ROOT / "var", need_mongodb=False, persist=False, data_dir=tmp_path
    ) as running:
        assert running.mongodb_url is None
        assert running.redis_url is not None
        client = redis.Redis.from_url(running.redis_url)
        assert client.ping()
        client.close()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(running.redis_url, socket_connect_timeout=1).ping()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_serve_stops_its_local_redis_when_ended(
    tmp_path: Path, mongodb_url: str, how: signal.Signals
) -> None:
    """A process manager stops Tandem with SIGTERM, or kills it: either way the services it
    started go with it."""
    port = free_port()
    env = dict(
        os.environ,
        MONGODB_URL=mongodb_url,
        MONGODB_DB="t_serve_stop",
        TANDEM_VAR_DIR=str(tmp_path / "var"),
        TANDEM_LOG_LEVEL="warning",
    )
    env.pop("REDIS_URL", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not tcp_answers(port):
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "tandem serve did not start"
            time.sleep(0.1)
        children = subprocess.run(
            ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=True
        ).stdout.split()
        redis_pids = [p for p in children if "redis" in Path(f"/proc/{p}/cmdline").read_text()]
        assert len(redis_pids) == 1
        server.send_signal(how)
        server.wait(timeout=20)
        gone = Path(f"/proc/{redis_pids[0]}")
        deadline = time.monotonic() + 10
        while gone.exists() and "redis" in (gone / "cmdline").read_text(errors="replace"):
            assert time.monotonic() < deadline, "the local Redis outlived tandem serve"
            time.sleep(0.05)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
