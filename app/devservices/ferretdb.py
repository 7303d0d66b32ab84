"""Build FerretDB into a project-local bin directory, and its command line.

`go install …/cmd/ferretdb@vX` is tried first. The proxy sometimes refuses the module's
version list (which `go install` reads for deprecation notices) while still serving the
module itself; then the source is fetched with `go mod download` and built in a writable
copy, with `build/version/version.txt` filled in as FerretDB's own build does.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

from app.devservices.errors import BuildFailed, MissingTool

log = logging.getLogger(__name__)

MODULE = "github.com/FerretDB/FerretDB"
VERSIONS = ("v1.24.1", "v1.24.2", "v1.23.1")
GO_HINT = (
    "Go 1.22 or newer is needed to build FerretDB, the local MongoDB-compatible store. "
    "Install Go (for example from your distribution or the official tarball) so that `go` is "
    "on PATH, or set MONGODB_URL to an existing MongoDB."
)


def binary_works(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, timeout=20, check=False)
    except OSError:
        return False
    return out.returncode == 0 and b"version: v1." in out.stdout


def ensure_ferretdb(var_dir: Path) -> Path:
    """Return a working FerretDB binary under `var_dir/bin`, building it if needed."""
    var_dir = var_dir.resolve()
    target = (var_dir / "bin" / "ferretdb").resolve()
    if binary_works(target):
        return target
    go = shutil.which("go") or next(
        (p for p in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go") if Path(p).is_file()), None
    )
    if go is None:
        raise MissingTool(GO_HINT)
    target.parent.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for version in VERSIONS:
        for gosumdb in ("", "off"):
            env = dict(os.environ, GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
            if gosumdb:
                env["GOSUMDB"] = gosumdb
            error = _build(go, version, target, var_dir, env)
            if error is None and binary_works(target):
                log.info("built FerretDB %s at %s", version, target)
                return target
            errors.append(f"{version} (GOSUMDB={gosumdb or 'default'}): {error or 'no binary'}")
    raise BuildFailed("FerretDB could not be built:\n" + "\n".join(errors))


def _build(go: str, version: str, target: Path, var_dir: Path, env: dict[str, str]) -> str | None:
    download = subprocess.run(
        [go, "mod", "download", "-json", f"{MODULE}@{version}"],
        capture_output=True,
        env=env,
        timeout=600,
        check=False,
        text=True,
    )
    try:
        info = json.loads(download.stdout)
    except json.JSONDecodeError:
        return (download.stderr or download.stdout).strip()[-2000:]
    if info.get("Error") or not info.get("Dir"):
        return str(info.get("Error") or "no source directory")[-2000:]
    src = var_dir / "build" / f"ferretdb-{version}"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(info["Dir"], src)
    for path in src.rglob("*"):
        path.chmod(path.stat().st_mode | 0o200)
    (src / "build" / "version" / "version.txt").write_text(version + "\n")
    build = subprocess.run(
        [go, "build", "-trimpath", "-o", str(target), "./cmd/ferretdb"],
        cwd=src,
        capture_output=True,
        env=env,
        timeout=1200,
        check=False,
        text=True,
    )
    if build.returncode != 0:
        return build.stderr.strip()[-2000:]
    shutil.rmtree(src, ignore_errors=True)
    return None


def ferretdb_argv(
    binary: Path, port: int, data_dir: Path, *, postgresql_url: str | None = None
) -> list[str]:
    """FerretDB on SQLite files in `data_dir`, or on PostgreSQL at `postgresql_url`; its own
    small state file is in `data_dir` either way."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if postgresql_url is None:
        backend = ["--handler=sqlite", f"--sqlite-url=file:{data_dir}/"]
    else:
        backend = ["--handler=postgresql", f"--postgresql-url={postgresql_url}"]
    return [
        str(binary),
        *backend,
        f"--state-dir={data_dir}",
        f"--listen-addr=127.0.0.1:{port}",
        "--debug-addr=-",
        "--telemetry=disable",
        "--log-level=warn",
    ]
