"""Debian's PostgreSQL as FerretDB's backend: a cluster of Tandem's own under the data dir,
on a loopback port, created with `initdb` the first time.

PostgreSQL will not run as root. When Tandem runs as root, the cluster is created and run as
the `postgres` account that Debian's package makes, which therefore owns the cluster's
directory and needs to be able to reach it.
"""

from __future__ import annotations

import logging
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.devservices.errors import MissingTool
from app.devservices.pg_lookups import setup_sql
from app.devservices.process import as_account

POSTGRES_HINT = (
    "PostgreSQL is needed for TANDEM_STORE_BACKEND=postgresql. Install it with "
    "`sudo apt-get install -y postgresql`, set TANDEM_POSTGRES_BINDIR to the directory holding "
    "its `postgres` and `initdb`, or set TANDEM_STORE_BACKEND=sqlite."
)
ROOT_HINT = (
    "PostgreSQL refuses to run as root, and there is no `postgres` account to run it as. "
    "Run Tandem as another user, create the account, or set TANDEM_STORE_BACKEND=sqlite."
)
log = logging.getLogger(__name__)
DATABASE = "ferretdb"
SUPERUSER = "postgres"
PROGRAMS = ("postgres", "initdb", "pg_isready", "createdb", "psql")


@dataclass(frozen=True)
class PostgresInstall:
    bindir: Path
    # The account the server runs as, when it cannot run as this process's (root).
    run_as: str | None

    def program(self, name: str) -> str:
        return str(self.bindir / name)


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name)) or (0,)


def find_postgres() -> PostgresInstall:
    """The newest PostgreSQL whose server programs are all present, and whom to run it as."""
    configured = os.environ.get("TANDEM_POSTGRES_BINDIR")
    if configured:
        candidates = [Path(configured)]
    else:
        # Debian keeps the server programs off PATH, one directory per major version.
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=_version_key)
        candidates = [p.parent for p in reversed(found)]
        on_path = shutil.which("postgres")
        if on_path:
            candidates.append(Path(on_path).parent)
    bindir = next((d for d in candidates if all((d / name).is_file() for name in PROGRAMS)), None)
    if bindir is None:
        raise MissingTool(POSTGRES_HINT)
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            raise MissingTool(ROOT_HINT) from None
        run_as = SUPERUSER
    return PostgresInstall(bindir=bindir, run_as=run_as)


def cluster_location(install: PostgresInstall, requested: Path, *, durable: bool) -> Path | None:
    """A fresh directory in the system temp dir for a throwaway cluster (tests) run as another
    account, or None to use `requested`. That account must reach the cluster by path, and a
    pytest temp dir sits under a 0700 directory that pytest makes private again whenever any
    session starts, so another session starting mid-run would lock the server out of it."""
    if install.run_as is None or durable:
        return None
    return Path(tempfile.mkdtemp(prefix="tandem-postgres-"))


def _make_reachable(directory: Path, user: str) -> None:
    """Give `user` the cluster's directory, and search (not list) permission on the
    directories above it that lack it — a pytest temp dir is 0700 — so the server can reach
    its files by path."""
    account = pwd.getpwnam(user)
    directory.mkdir(parents=True, exist_ok=True)
    os.chown(directory, account.pw_uid, account.pw_gid)
    directory.chmod(0o700)
    for parent in directory.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            log.info("letting %s search %s (chmod o+x) to reach PostgreSQL's data", user, parent)
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _run(install: PostgresInstall, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **as_account(install.run_as),
        # Run from a directory the server's account can read: initdb and createdb look
        # at their working directory.
        cwd="/",
    )


def ensure_cluster(install: PostgresInstall, cluster_dir: Path, *, durable: bool) -> None:
    """`initdb` the cluster the first time; later starts find its PG_VERSION and reuse it."""
    if install.run_as is not None:
        _make_reachable(cluster_dir, install.run_as)
    else:
        cluster_dir.mkdir(parents=True, exist_ok=True)
        cluster_dir.chmod(0o700)
    if (cluster_dir / "PG_VERSION").is_file():
        return
    argv = [
        install.program("initdb"),
        f"--pgdata={cluster_dir}",
        f"--username={SUPERUSER}",
        # Only loopback TCP is enabled (see postgres_argv), and the data dir is private to its
        # owner: the same trust a local Redis without a password gets.
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
    ]
    if not durable:
        argv.append("--no-sync")
    done = _run(install, argv)
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed for {cluster_dir}:\n{done.stderr.strip()[-2000:]}")


def postgres_argv(
    install: PostgresInstall, cluster_dir: Path, port: int, *, durable: bool
) -> list[str]:
    argv = [
        install.program("postgres"),
        "-D",
        str(cluster_dir),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        f"port={port}",
        # No Unix socket: the default directory (/var/run/postgresql) may not exist or be
        # writable, and nothing here connects through one.
        "-c",
        "unix_socket_directories=",
        "-c",
        "max_connections=200",
        "-c",
        "logging_collector=off",
        "-c",
        "log_min_messages=warning",
        "-c",
        "log_checkpoints=off",
        # Plan each execution of FerretDB's cached statements with its values: its filters
        # name the field as a parameter, and only a plan that knows it can use an index
        # (app/devservices/pg_lookups.py).
        "-c",
        "plan_cache_mode=force_custom_plan",
    ]
    if not durable:
        # Throwaway data (tests): skip the flushes that only protect against a power cut.
        argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    return argv


@dataclass(frozen=True)
class PostgresReady:
    """Whether the server takes queries: it accepts TCP connections while still starting up
    or recovering, and answers those with an error."""

    install: PostgresInstall

    def __call__(self, port: int) -> bool:
        try:
            done = subprocess.run(
                [self.install.program("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0


def client_argv(install: PostgresInstall, program: str, port: int) -> list[str]:
    """A client program of the install, to the local server as its superuser."""
    return [install.program(program), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER]


def ensure_database(install: PostgresInstall, port: int) -> None:
    """FerretDB keeps everything in one database; create it unless an earlier start did."""
    done = _run(install, [*client_argv(install, "createdb", port), DATABASE])
    if done.returncode != 0 and "already exists" not in done.stderr:
        raise RuntimeError(f"could not create the {DATABASE} database:\n{done.stderr.strip()}")


def ensure_lookup_indexes(install: PostgresInstall, port: int) -> None:
    """Index the fields Tandem looks documents up by, in every FerretDB table now and to
    come (app/devservices/pg_lookups.py)."""
    psql = client_argv(install, "psql", port)
    done = _run(install, [*psql, "-d", DATABASE, "-v", "ON_ERROR_STOP=1", "-q", "-c", setup_sql()])
    if done.returncode != 0:
        raise RuntimeError(f"could not set up the lookup indexes:\n{done.stderr.strip()}")


def postgres_url(port: int) -> str:
    return f"postgres://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"
