"""The server's signing keys: the newest signs, every listed key still verifies.

Session cookies, socket tokens and widget visitor tokens are signed with the newest key and
accepted under any key on the ring, so a new key can be put in front (`tandem keys rotate`)
without logging anyone out; once the old key has outlived what it signed (sessions last 14
days, visitor tokens 180), `tandem keys retire` drops it and what it signed stops working.

`TANDEM_SECRET_KEY` holds one key, or several separated by commas or spaces, newest first;
without it a local run keeps its ring in `var/secret_key`, one key per line, newest first,
created readable by its owner only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

MIN_KEY_LENGTH = 32


@dataclass(frozen=True)
class Keyring:
    keys: tuple[str, ...]  # newest first

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a keyring needs at least one key")

    @classmethod
    def parse(cls, text: str) -> Keyring:
        return cls(tuple(key for key in re.split(r"[\s,]+", text) if key))

    @property
    def newest(self) -> str:
        return self.keys[0]

    @property
    def oldest_to_newest(self) -> list[str]:
        """The order itsdangerous takes: it signs with the last and verifies with each."""
        return list(reversed(self.keys))

    def mac(self, purpose: str, message: str, key: str | None = None) -> str:
        derived = hashlib.sha256(f"{purpose}:{key or self.newest}".encode()).digest()
        return hmac.new(derived, message.encode(), "sha256").hexdigest()

    def mac_ok(self, purpose: str, message: str, given: str) -> bool:
        return any(hmac.compare_digest(self.mac(purpose, message, key), given) for key in self.keys)


def new_key() -> str:
    return secrets.token_urlsafe(48)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` so that no one but its owner can ever read it: the file is
    created 0600 (never world-readable for a moment) and replaced atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def read_ring(path: Path) -> Keyring | None:
    if not path.exists():
        return None
    return Keyring.parse(path.read_text())


def ensure_ring(path: Path) -> Keyring:
    ring = read_ring(path)
    if ring is None:
        write_private(path, new_key() + "\n")
        ring = read_ring(path)
    assert ring is not None
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # a ring written by an older version, or copied in by hand
    return ring


def rotate(path: Path) -> Keyring:
    """Put a new key in front; the others keep verifying."""
    ring = ensure_ring(path)
    rotated = Keyring((new_key(), *ring.keys))
    write_private(path, "\n".join(rotated.keys) + "\n")
    return rotated


def retire(path: Path, keep: int = 1) -> Keyring:
    """Keep only the newest `keep` keys: what the others signed stops working."""
    ring = ensure_ring(path)
    kept = Keyring(ring.keys[: max(1, keep)])
    write_private(path, "\n".join(kept.keys) + "\n")
    return kept
