"""What an API token may do, on top of its creator's role.

`read` answers GET requests; `write` also changes conversations, contacts and the rest of the
day's work; `admin` also reaches what only admins and owners do (members, teams, tokens,
workspace and widget settings, the audit log, exports and erasure). Each includes the ones
before it: a token made with `["write"]` can read. A browser session has every scope; what it
may do is its role's alone.
"""

from __future__ import annotations

from typing import Literal

Scope = Literal["read", "write", "admin"]
LEVELS: tuple[Scope, ...] = ("read", "write", "admin")
ALL_SCOPES: frozenset[Scope] = frozenset(LEVELS)


def granted(asked: list[Scope] | tuple[Scope, ...]) -> frozenset[Scope]:
    """The scopes a token holds: what it was made with and every lower one."""
    top = max((LEVELS.index(s) for s in asked), default=-1)
    return frozenset(LEVELS[: top + 1])


def method_scope(method: str) -> Scope:
    return "read" if method in ("GET", "HEAD") else "write"
