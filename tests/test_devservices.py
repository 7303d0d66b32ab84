"""The local-services launcher: clear instructions when a program is missing, real servers
otherwise."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from app.devservices import MissingTool, local_services
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
