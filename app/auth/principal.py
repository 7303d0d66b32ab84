from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.roles import Action, Role, require


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

    def require(self, action: Action) -> None:
        require(self.role, action)
