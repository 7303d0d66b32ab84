from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.errors import Forbidden
from app.domain.roles import Action, Role, require, scope_for
from app.domain.scopes import ALL_SCOPES, Scope


@dataclass(frozen=True)
class Principal:
    """An authenticated agent, acting in exactly one workspace."""

    workspace_id: str
    user_id: str
    name: str
    email: str
    role: Role
    team_ids: frozenset[str] = field(default_factory=frozenset)
    via: str = "session"  # "session" (cookie, CSRF-checked) or "token" (Authorization header)
    language: str = "en"  # the app's language for this person (their profile's)
    avatar_blob_id: str | None = None  # their picture, if they set one
    # What the caller signed in with: a session record's id, or "token:<id>" for an API
    # token. Ending it closes the live sockets it opened (app/live/endings.py).
    credential: str | None = None
    scopes: frozenset[Scope] = ALL_SCOPES  # an API token's; a session has them all

    def require(self, action: Action) -> None:
        require(self.role, action)
        self.require_scope(scope_for(action))

    def require_scope(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this API token lacks the {scope!r} scope", code="insufficient_scope")
