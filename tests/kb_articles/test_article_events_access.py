"""Article events on agents' sockets: drafts reach only those who write articles."""

from __future__ import annotations

from datetime import UTC, datetime

from app.auth.principal import Principal
from app.domain.roles import Role
from app.live.agent_access import AgentAccess
from realtime.events import Actor, ArticleData, ArticleUpdated, ArticleView


def event(status: str, ws: str = "w1") -> ArticleUpdated:
    article = ArticleView(
        id="a1", title="Spring sale", slug="spring-sale", locale="en", category="",
        status=status, visibility="public", version=2, updated_at=None,  # type: ignore[arg-type]
    )  # fmt: skip
    return ArticleUpdated(
        ws=ws, actor=Actor(kind="agent"), at=datetime.now(UTC), ticket=None, id="e1",
        seq=1, data=ArticleData(article),
    )  # fmt: skip


def access(role: Role) -> AgentAccess:
    return AgentAccess(Principal("w1", "u1", "Ana", "ana@x.example", role))


def test_a_draft_reaches_writers_only_and_a_published_article_everyone() -> None:
    assert access(Role.AGENT).view(event("draft")) is None
    assert access(Role.SUPERVISOR).view(event("draft")) is not None
    assert access(Role.AGENT).view(event("published")) is not None
    assert access(Role.OWNER).view(event("published", ws="w2")) is None
