"""Knowledge-base articles for the agent app: agents read the published ones (public and
internal), supervisors and up also the drafts, and write them."""

from __future__ import annotations

from typing import Any

import msgspec

from app.actions import kb
from app.actions.base import agent_actor
from app.api.endpoint import Api, Call
from app.documents.kb import Article
from app.domain.errors import Forbidden, NotFound
from app.domain.kb import check_locale
from app.domain.roles import Action, can
from app.schemas.kb import (
    Answer,
    AnswersOut,
    AnswersQuery,
    ArticleIn,
    ArticleOut,
    ArticlePage,
    ArticlePatch,
    ArticleQuery,
    article_out,
    article_view,
)
from app.services.ids import require_id
from realtime.events import ArticleStatus

api = Api()
KB = "knowledge base"
PUBLISHED: tuple[ArticleStatus, ...] = ("published",)
EVERY_STATUS: tuple[ArticleStatus, ...] = ("draft", "published")


def _statuses(call: Call, wanted: ArticleStatus | None) -> tuple[ArticleStatus, ...]:
    """The statuses the caller may list: drafts are for those who manage the knowledge base."""
    allowed = EVERY_STATUS if can(call.agent.role, Action.MANAGE_KB) else PUBLISHED
    if wanted is None:
        return allowed
    if wanted not in allowed:
        raise Forbidden("drafts are shown to supervisors and admins only")
    return (wanted,)


def _readable(call: Call, article: Article) -> Article:
    """Agents are not shown drafts, nor told that one exists."""
    if article.status == "draft" and not can(call.agent.role, Action.MANAGE_KB):
        raise NotFound("no such article")
    return article


@api.op(
    "GET",
    "/kb/articles",
    summary="Knowledge-base articles, newest first, or best match first with `q`",
    tag=KB,
    query=ArticleQuery,
    response=ArticlePage,
    errors=(403, 404, 422),
)
async def list_articles(call: Call) -> ArticlePage:
    q: ArticleQuery = call.query
    ws = require_id(call.agent.workspace_id, "workspace")
    statuses = _statuses(call, q.status)
    locale = check_locale(q.locale) if q.locale is not None else None
    if q.q and q.q.strip():

        def accept(a: Article) -> bool:
            return (
                a.status in statuses
                and (locale is None or a.locale == locale)
                and (q.category is None or a.category == q.category)
            )

        index = call.runtime.deps.search
        assert index is not None  # the runtime's deps always keep the index
        matched = await kb.search_articles(
            index,
            ws,
            q.q,
            audience="agents",
            accept=accept,
            cursor=q.cursor,
            limit=q.limit,
        )
        if matched is None:  # the index is being rebuilt: titles from the store
            filters: dict[str, Any] = {"status": {"$in": list(statuses)}}
            if locale is not None:
                filters["locale"] = locale
            if q.category is not None:
                filters["category"] = q.category
            found = await kb.match_in_store(ws, q.q, filters, q.limit)
            return ArticlePage(items=[article_view(a) for a in found])
        items, after = matched
        return ArticlePage(items=[article_view(a) for a in items], next_cursor=after)
    items, after = await kb.list_articles(
        ws,
        statuses=statuses,
        locale=locale,
        category=q.category,
        cursor=q.cursor,
        limit=q.limit,
    )
    return ArticlePage(items=[article_view(a) for a in items], next_cursor=after)


@api.op(
    "POST",
    "/kb/articles",
    summary="Write an article (supervisor)",
    tag=KB,
    body=ArticleIn,
    response=ArticleOut,
    status=201,
    errors=(403, 409, 422),
)
async def create_article(call: Call) -> ArticleOut:
    call.agent.require(Action.MANAGE_KB)
    body: ArticleIn = call.body
    article = await kb.create_article(
        call.runtime.deps,
        require_id(call.agent.workspace_id, "workspace"),
        actor=agent_actor(call.agent),
        title=body.title,
        body=body.body,
        locale=body.locale,
        category=body.category,
        status=body.status,
        visibility=body.visibility,
        slug=body.slug,
    )
    return article_out(article)


@api.op(
    "GET",
    "/kb/articles/{article_id}",
    summary="An article with its markdown and the HTML it renders to",
    tag=KB,
    response=ArticleOut,
    errors=(403, 404),
)
async def get_article(call: Call) -> ArticleOut:
    ws = require_id(call.agent.workspace_id, "workspace")
    return article_out(_readable(call, await kb.get_article(ws, call.path("article_id"))))


@api.op(
    "PATCH",
    "/kb/articles/{article_id}",
    summary="Change an article; names the version it saw (another one is a 409)",
    tag=KB,
    body=ArticlePatch,
    response=ArticleOut,
    errors=(403, 404, 409, 422),
)
async def patch_article(call: Call) -> ArticleOut:
    call.agent.require(Action.MANAGE_KB)
    body: ArticlePatch = call.body
    changes = {
        k: v
        for k, v in msgspec.structs.asdict(body).items()
        if v is not msgspec.UNSET and k != "version"
    }
    article = await kb.update_article(
        call.runtime.deps,
        require_id(call.agent.workspace_id, "workspace"),
        call.path("article_id"),
        version=body.version,
        changes=changes,
        actor=agent_actor(call.agent),
    )
    return article_out(article)


@api.op(
    "DELETE",
    "/kb/articles/{article_id}",
    summary="Delete an article (supervisor)",
    tag=KB,
    status=204,
    errors=(403, 404, 409),
)
async def delete_article(call: Call) -> None:
    call.agent.require(Action.MANAGE_KB)
    await kb.delete_article(
        call.runtime.deps,
        require_id(call.agent.workspace_id, "workspace"),
        call.path("article_id"),
        actor=agent_actor(call.agent),
    )


@api.op(
    "GET",
    "/kb/answers",
    summary="The articles (public and internal) that best answer a question, by meaning and "
    "words, each with the passage that answers",
    tag=KB,
    query=AnswersQuery,
    response=AnswersOut,
    errors=(422,),
)
async def answers(call: Call) -> AnswersOut:
    call.agent.require(Action.WORK_TICKETS)
    q: AnswersQuery = call.query
    engine = call.runtime.deps.kb
    if engine is None:
        return AnswersOut(items=[], keywords_only="the knowledge base is not loaded here")
    ws = require_id(call.agent.workspace_id, "workspace")
    ranked = await kb.answers(engine, ws, q.q, audience="agents", limit=q.limit)
    items = [
        Answer(
            id=str(a.id),
            title=a.title,
            slug=a.slug,
            visibility=a.visibility,
            score=round(f.score, 4),
            passage=f.passage.text,
            heading=f.passage.heading,
        )
        for a, f in ranked
        if a.status == "published"
    ]
    return AnswersOut(items=items, keywords_only=engine.unavailable)
