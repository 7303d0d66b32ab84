"""The signing keyring: rotation keeps everyone signed in, retiring a key ends what it
signed, and the key file is never readable by anyone but its owner, not even for a moment."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app import cli
from app.auth import keyring
from app.auth.keyring import Keyring
from app.auth.sessions import SessionCodec
from app.auth.socket_tokens import SocketClaims, SocketTokens
from app.settings import Settings


def test_the_key_file_is_created_private_and_atomically(tmp_path: Path) -> None:
    created: list[int] = []
    real_open = os.open

    def watching_open(path: str | os.PathLike[str], flags: int, mode: int = 0o777) -> int:
        created.append(mode)
        return real_open(path, flags, mode)

    os.open = watching_open  # type: ignore[assignment]
    try:
        old_umask = os.umask(0)  # even a careless umask cannot widen it
        try:
            settings = Settings(var_dir=tmp_path).with_secret()
        finally:
            os.umask(old_umask)
    finally:
        os.open = real_open
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert created == [0o600]
    assert settings.keyring.newest == path.read_text().split()[0]
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no partial file left


def test_a_key_file_left_readable_is_closed_up(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("k" * 64 + "\n")
    path.chmod(0o644)
    Settings(var_dir=tmp_path).with_secret()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_rotation_keeps_sessions_and_retiring_ends_them(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    before = keyring.ensure_ring(path)
    cookie, data = SessionCodec(before, 3600).issue("u1", "w1", 0)
    token = SocketTokens(before).issue(SocketClaims("agent", "w1", "u1"))

    rotated = keyring.rotate(path)
    assert rotated.keys[1:] == before.keys
    assert rotated.newest != before.newest
    codec = SessionCodec(rotated, 3600)
    assert codec.read(cookie) == data
    assert codec.csrf_ok(data, SessionCodec(before, 3600).csrf_token(data))
    assert SocketTokens(rotated).read(token) is not None
    fresh, fresh_data = codec.issue("u2", "w1", 0)  # signed with the new key from now on
    assert SessionCodec(Keyring((rotated.newest,)), 3600).read(fresh) == fresh_data

    retired = keyring.retire(path)
    assert retired.keys == (rotated.newest,)
    assert SessionCodec(retired, 3600).read(cookie) is None
    assert SocketTokens(retired).read(token) is None
    assert SessionCodec(retired, 3600).read(fresh) == fresh_data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_keys_from_the_environment_are_a_ring_newest_first() -> None:
    ring = Settings(secret_key="newer-key, older-key").keyring
    assert ring.keys == ("newer-key", "older-key")
    assert ring.oldest_to_newest == ["older-key", "newer-key"]


def test_the_keys_command_rotates_and_retires(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TANDEM_SECRET_KEY", raising=False)
    monkeypatch.setenv("TANDEM_VAR_DIR", str(tmp_path))
    first = Settings.from_env().with_secret().keyring
    assert cli.main(["keys", "rotate"]) == 0
    rotated = Settings.from_env().with_secret().keyring
    assert rotated.keys[1:] == first.keys
    assert cli.main(["keys", "retire"]) == 0
    assert Settings.from_env().with_secret().keyring.keys == (rotated.newest,)
    monkeypatch.setenv("TANDEM_SECRET_KEY", "from-the-environment")
    assert cli.main(["keys", "rotate"]) == 1  # the operator's keys are the operator's to change
