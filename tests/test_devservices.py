"""The local-services launcher: clear instructions when a program is missing, real servers
otherwise."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pymongo.errors
import pytest
import redis

from app.devservices import LocalServices, MissingTool, local_services
from app.devservices.postgres import client_argv, find_postgres
from app.devservices.process import as_account, free_port, tcp_answers
from app.devservices.redis import find_redis_server
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def dev_services(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`tandem dev-services` run to its end (it fails fast in these tests)."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "dev-services"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


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
    result = dev_services(env)
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


def test_missing_postgresql_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_POSTGRES_BINDIR", "/nonexistent/postgresql/bin")
    with pytest.raises(MissingTool, match="apt-get install -y postgresql"):
        find_postgres()


def test_cli_refuses_an_unknown_store_backend_without_a_traceback(tmp_path: Path) -> None:
    env = dict(os.environ, TANDEM_STORE_BACKEND="oracle", TANDEM_VAR_DIR=str(tmp_path / "var"))
    env.pop("MONGODB_URL", None)
    result = dev_services(env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "TANDEM_STORE_BACKEND='oracle': use one of sqlite, postgresql" in result.stderr


def _answers_mongodb(url: str) -> bool:
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        url, serverSelectionTimeoutMS=1000
    )
    try:
        client.admin.command("ping")
        return True
    except pymongo.errors.PyMongoError:
        return False
    finally:
        client.close()


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temp dir that PostgreSQL's own account can reach when the suite runs as root: pytest's
    sit under a 0700 directory, which it makes private again whenever any session starts."""
    path = Path(tempfile.mkdtemp(prefix="tandem-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_ferretdb_on_postgresql_keeps_its_data_between_starts(shared_tmp: Path) -> None:
    """The first start creates the cluster and FerretDB's database; the next one reuses them,
    documents included; each stop leaves neither server answering."""
    for start in range(2):
        with local_services(
            ROOT / "var",
            need_redis=False,
            data_dir=shared_tmp,
            store_backend="postgresql",
        ) as running:
            assert running.mongodb_url is not None
            client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
                running.mongodb_url
            )
            notes = client["t_pg_restart"]["notes"]
            if start == 0:
                notes.insert_one({"_id": "kept", "text": "written on the first start"})
            assert notes.find_one({"_id": "kept"}) == {
                "_id": "kept",
                "text": "written on the first start",
            }
            client.close()
        assert (shared_tmp / "postgres" / "PG_VERSION").is_file()
        assert not _answers_mongodb(running.mongodb_url)


def _descendants(pid: int) -> dict[int, str]:
    """Every process below `pid`, with its command line."""
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = subprocess.run(
            ["pgrep", "-P", str(parent)], capture_output=True, text=True, check=False
        ).stdout.split()
        for child in map(int, children):
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            found[child] = cmdline.decode(errors="replace")
            frontier.append(child)
    return found


def _running(pid: int, cmdline: str) -> bool:
    path = Path(f"/proc/{pid}/cmdline")
    try:
        return path.read_bytes().replace(b"\0", b" ").decode(errors="replace") == cmdline
    except OSError:
        return False


def test_killed_tandem_takes_its_postgresql_and_ferretdb_with_it(shared_tmp: Path) -> None:
    env = dict(
        os.environ,
        TANDEM_STORE_BACKEND="postgresql",
        TANDEM_VAR_DIR=str(shared_tmp / "var"),
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    env.pop("MONGODB_URL", None)
    tandem = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "dev-services"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert tandem.stdout is not None
        first = tandem.stdout.readline()
        assert first.startswith("MONGODB_URL=mongodb://127.0.0.1:"), first
        assert _answers_mongodb(first.strip().split("=", 1)[1])
        servers = _descendants(tandem.pid)
        assert any("ferretdb" in cmd and "--handler=postgresql" in cmd for cmd in servers.values())
        assert any(cmd.split(" ")[0].endswith("/postgres") for cmd in servers.values())
        tandem.kill()
        tandem.wait(timeout=20)
        deadline = time.monotonic() + 30
        while left := [pid for pid, cmd in servers.items() if _running(pid, cmd)]:
            assert time.monotonic() < deadline, f"outlived tandem: {left}"
            time.sleep(0.1)
    finally:
        if tandem.poll() is None:
            tandem.kill()
            tandem.wait()
        if tandem.stdout is not None:
            tandem.stdout.close()


def test_ferretdb_on_sqlite_stays_selectable(tmp_path: Path) -> None:
    with local_services(
        ROOT / "var", need_redis=False, data_dir=tmp_path, store_backend="sqlite"
    ) as running:
        assert running.mongodb_url is not None
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(running.mongodb_url)
        client["t_sqlite"]["notes"].insert_one({"_id": "one", "text": "kept in SQLite"})
        assert client["t_sqlite"]["notes"].count_documents({}) == 1
        client.close()
    assert list((tmp_path / "ferretdb").glob("t_sqlite.sqlite*"))
    assert not (tmp_path / "postgres").exists()


def test_store_backend_setting_defaults_to_postgresql() -> None:
    assert Settings.from_env({}).store_backend == "postgresql"
    assert Settings.from_env({"TANDEM_STORE_BACKEND": "sqlite"}).store_backend == "sqlite"


def test_the_local_postgresql_looks_documents_up_by_index(
    services: LocalServices, mongodb_url: str, db_name: str
) -> None:
    """FerretDB's equality filters on the fields Tandem looks documents up by are answered
    from an index, not by reading the table."""
    assert services.postgres_url, "the suite's store runs FerretDB on PostgreSQL by default"
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongodb_url)
    try:
        messages = client[db_name]["messages"]
        messages.insert_many([{"ticket_id": f"t{n}", "text": "x"} for n in range(300)])
        assert messages.find_one({"ticket_id": "t7"}) is not None
    finally:
        client.close()
    install = find_postgres()
    port = services.postgres_url.rsplit(":", 1)[1].split("/")[0]

    def psql(sql: str) -> str:
        done = subprocess.run(
            [*client_argv(install, "psql", int(port)), "-d", "ferretdb", "-Atc", sql],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            **as_account(install.run_as),
            cwd="/",
        )
        return done.stdout

    table = psql(
        f"SELECT tablename FROM pg_tables WHERE schemaname = '{db_name}' "
        "AND tablename LIKE 'messages%'"
    ).strip()
    indexes = psql(f"SELECT indexname FROM pg_indexes WHERE tablename = '{table}'")
    assert f"{table}_tdm_id" in indexes
    assert f"{table}_tdm_ticketid" in indexes
    plan = psql(
        "SET enable_seqscan = off; EXPLAIN SELECT _jsonb FROM "
        f'"{db_name}"."{table}" WHERE _jsonb->\'ticket_id\' @> \'"t7"\''
    )
    assert f"{table}_tdm_ticketid" in plan
