"""Knowledge-base article actions: create, change, delete. Each is one write to the article
carrying its `article.created` / `article.updated` / `article.deleted` event in the article's
outbox, published right after (the search index takes it in first, reading the article).

A change names the version it was made on and is written only while the article is still at
that version (one `findOneAndUpdate` with a version predicate); otherwise it is a 409 with the
current article. A deletion leaves a tombstone — `deleted_at` set, the body emptied, the slug
freed for reuse — that carries the event and that every read skips.

The readers the API and the help center share are here too: one article, a page of them, and
the keyword search over them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any, Final

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from app.actions.base import Deps, stamp
from app.db import is_duplicate_key
from app.documents.common import utcnow
from app.documents.kb import Article
from app.domain.errors import Conflict, NotFound
from app.domain.kb import (
    audience_of,
    check_body,
    check_category,
    check_locale,
    check_slug,
    check_title,
    dedupe_slug,
    slugify,
)
from app.kb.engine import Found, KnowledgeBase
from app.kb.vectors import Matrix
from app.outbox import merged
from app.schemas.kb import article_out, article_view
from app.search.index import ARTICLE, SearchIndex
from app.services.ids import require_id
from app.views.rebuild import request_reindex
from realtime.events import (
    Actor,
    ArticleCreated,
    ArticleData,
    ArticleDeleted,
    ArticleStatus,
    ArticleUpdated,
    ArticleVisibility,
    event_to_document,
)

LIVE: Final[dict[str, Any]] = {"deleted_at": {"$exists": False}}
LISTED: Final = {"body": 0, "outbox": 0}  # what a list leaves out of each article
WITH_BODY: Final = {"outbox": 0}
SLUG_ATTEMPTS: Final = 5  # new slugs tried when another article takes one first
SEARCH_ROUNDS: Final = 5  # rounds of hits a filtered page may take before it comes back short
CHECKERS: Final[dict[str, Callable[[str], str]]] = {
    "title": check_title,
    "body": check_body,
    "locale": check_locale,
    "category": check_category,
    "slug": check_slug,
}


def _slug_taken(slug: object) -> Conflict:
    return Conflict(
        f"another article has the slug {slug!r}", code="duplicate", details={"field": "slug"}
    )


def _stale(seen: int, current: Article) -> Conflict:
    return Conflict(
        f"the article changed since version {seen}; it is now at version {current.version}",
        code="stale_version",
        details={"version": current.version, "current": article_out(current)},
    )


# ---- reading -----------------------------------------------------------------------------------


async def get_article(ws: PydanticObjectId, article_id: str) -> Article:
    """The workspace's article with this id (another workspace's is not found)."""
    raw = await Article.get_pymongo_collection().find_one(
        {"_id": require_id(article_id, "article"), "workspace_id": ws, **LIVE}
    )
    if raw is None:
        raise NotFound("no such article")
    article: Article = Article.model_validate(raw)
    return article


def _listed(raw: dict[str, Any]) -> Article:
    article: Article = Article.model_validate({"body": "", **raw})
    return article


async def list_articles(
    ws: PydanticObjectId,
    *,
    statuses: tuple[ArticleStatus, ...],
    visibilities: tuple[ArticleVisibility, ...] = ("public", "internal"),
    locale: str | None = None,
    category: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Article], str | None]:
    """A page of articles (without their bodies), newest first, and the next page's cursor."""
    query: dict[str, Any] = {
        "workspace_id": ws,
        **LIVE,
        "status": {"$in": list(statuses)},
        "visibility": {"$in": list(visibilities)},
    }
    if locale is not None:
        query["locale"] = locale
    if category is not None:
        query["category"] = category
    if cursor:
        query["_id"] = {"$lt": require_id(cursor, "page")}
    raw = (
        await Article.get_pymongo_collection()
        .find(query, LISTED)
        .sort("_id", -1)
        .limit(limit + 1)
        .to_list()
    )
    found = [_listed(r) for r in raw]
    after = str(found[limit - 1].id) if len(found) > limit else None
    return found[:limit], after


async def search_articles(
    index: SearchIndex,
    ws: PydanticObjectId,
    q: str,
    *,
    audience: str,
    accept: Callable[[Article], bool],
    cursor: str | None = None,
    limit: int = 20,
    bodies: bool = False,
) -> tuple[list[Article], str | None] | None:
    """A page of the articles matching `q` for `audience` that `accept` keeps (with their
    bodies only when asked), best first; None while the workspace's index is being rebuilt."""
    if not await index.is_built(str(ws)):
        await request_reindex(index.redis, str(ws))
        return None
    found: list[Article] = []
    collection = Article.get_pymongo_collection()
    for _ in range(SEARCH_ROUNDS):
        hits, cursor = await index.search(
            str(ws), q, kind=ARTICLE, audience=audience, cursor=cursor, limit=limit - len(found)
        )
        raws = await asyncio.gather(
            *(
                collection.find_one(
                    {"_id": PydanticObjectId(hit.id), "workspace_id": ws, **LIVE},
                    WITH_BODY if bodies else LISTED,
                )
                for hit in hits
            )
        )
        found += [a for a in (_listed(r) for r in raws if r is not None) if accept(a)]
        if len(found) >= limit or cursor is None:
            break
    return found, cursor


async def match_in_store(
    ws: PydanticObjectId, q: str, query: dict[str, Any], limit: int, *, bodies: bool = False
) -> list[Article]:
    """Articles whose title holds `q` (any case), newest first: what a search answers while
    the index is being rebuilt."""
    pattern = {"$regex": re.escape(q.strip()), "$options": "i"}
    raw = (
        await Article.get_pymongo_collection()
        .find(
            {"workspace_id": ws, **LIVE, **query, "title": pattern},
            WITH_BODY if bodies else LISTED,
        )
        .sort("_id", -1)
        .limit(limit)
        .to_list()
    )
    return [_listed(r) for r in raw]


async def _taken_slugs(ws: PydanticObjectId, base: str) -> list[str]:
    pattern = f"^{re.escape(base[:60])}"  # every slug `dedupe_slug` could make of `base`
    raw = (
        await Article.get_pymongo_collection()
        .find({"workspace_id": ws, "slug": {"$regex": pattern}}, {"slug": 1})
        .to_list()
    )
    return [str(r["slug"]) for r in raw]


# ---- writing -----------------------------------------------------------------------------------


async def create_article(
    deps: Deps,
    ws: PydanticObjectId,
    *,
    actor: Actor,
    title: str,
    body: str,
    locale: str = "en",
    category: str = "",
    status: ArticleStatus = "draft",
    visibility: ArticleVisibility = "public",
    slug: str | None = None,
) -> Article:
    """A new article at version 1. Without a `slug` one is made from the title (`-2`, `-3`…
    when taken); a given slug that is taken is a 409."""
    title, body = check_title(title), check_body(body)
    locale, category = check_locale(locale), check_category(category)
    given = check_slug(slug) if slug is not None else None
    base = slugify(title)
    for _ in range(SLUG_ATTEMPTS):
        chosen = given or dedupe_slug(base, await _taken_slugs(ws, base))
        article = Article(
            id=PydanticObjectId(),
            workspace_id=ws,
            title=title,
            body=body,
            locale=locale,
            category=category,
            status=status,
            visibility=visibility,
            slug=chosen,
            created_by=actor.id,
            updated_by=actor.id,
        )
        event = stamp(ArticleCreated, ws=ws, actor=actor, data=ArticleData(article_view(article)))
        article.outbox = [event_to_document(event)]
        await deps.relay.mark(Article, article.id, event)
        try:
            await article.insert()
        except DuplicateKeyError:
            if given is not None:
                raise _slug_taken(given) from None
            continue  # another article took this slug just now: pick again
        await deps.relay.publish([event])
        return article
    raise Conflict(
        "could not find a free slug; give one", code="duplicate", details={"field": "slug"}
    )


async def update_article(
    deps: Deps,
    ws: PydanticObjectId,
    article_id: str,
    *,
    version: int,
    changes: dict[str, Any],
    actor: Actor,
) -> Article:
    """Change the given fields of the article at `version`; a change that changes nothing
    writes nothing."""
    to_set = {
        name: CHECKERS[name](value) if name in CHECKERS else value
        for name, value in changes.items()
    }
    before = await get_article(ws, article_id)
    if before.version != version:
        raise _stale(version, before)
    to_set = {name: value for name, value in to_set.items() if getattr(before, name) != value}
    if not to_set:
        return before
    to_set.update(updated_at=utcnow(), updated_by=actor.id, version=version + 1)
    after = before.model_copy(update=to_set)
    event = stamp(ArticleUpdated, ws=ws, actor=actor, data=ArticleData(article_view(after)))
    return await _write(deps, ws, before, {"$set": to_set}, event, version)


async def delete_article(
    deps: Deps, ws: PydanticObjectId, article_id: str, *, actor: Actor, version: int | None = None
) -> None:
    """Delete the article (at `version`, when given): it leaves every list, search and the
    help center at once, and its slug is free again."""
    before = await get_article(ws, article_id)
    seen = before.version if version is None else version
    if before.version != seen:
        raise _stale(seen, before)
    now = utcnow()
    gone = before.model_copy(
        update={"version": seen + 1, "updated_at": now, "updated_by": actor.id}
    )
    event = stamp(ArticleDeleted, ws=ws, actor=actor, data=ArticleData(article_view(gone)))
    tombstone = {
        "deleted_at": now,
        "slug": f"~{before.id}",  # never a slug an article can have
        "body": "",
        "version": seen + 1,
        "updated_at": now,
        "updated_by": actor.id,
    }
    await _write(deps, ws, before, {"$set": tombstone}, event, seen)


async def _write(
    deps: Deps,
    ws: PydanticObjectId,
    before: Article,
    update: dict[str, Any],
    event: ArticleUpdated | ArticleDeleted,
    version: int,
) -> Article:
    """The one write of a change: `update` plus the event into the outbox, only while the
    article is at `version` (so the outbox read with it is still what it holds)."""
    update = merged(
        update, await deps.relay.outbox_update(Article, before.id, before.outbox, event)
    )
    try:
        raw = await Article.get_pymongo_collection().find_one_and_update(
            {"_id": before.id, "workspace_id": ws, "version": version, **LIVE},
            update,
            return_document=ReturnDocument.AFTER,
        )
    except OperationFailure as error:
        if not is_duplicate_key(error):
            raise
        raise _slug_taken(update["$set"].get("slug")) from None
    if raw is None:
        # Changed (or deleted) since it was read: the caller sees the article as it is now.
        raise _stale(version, await get_article(ws, str(before.id)))
    await deps.relay.publish([event])
    article: Article = Article.model_validate(raw)
    return article


async def answers(
    engine: KnowledgeBase,
    ws: PydanticObjectId,
    q: str,
    *,
    audience: str,
    limit: int,
    published: bool = False,
    vector: Matrix | None = None,
) -> list[tuple[Article, Found]]:
    """The articles that best answer `q` by meaning and words (app/kb/engine.py), best first,
    as they are in the store now (an article deleted or unpublished since it was embedded is
    left out; with `published`, drafts too), each with the passage that matched. `vector`:
    the question's embedding, when the caller has it already."""
    found = await engine.search(str(ws), q, audience=audience, k=limit * 2, vector=vector)
    # One lookup by `_id` each (FerretDB indexes those; an `$in` reads the whole collection),
    # only as many as are still wanted: the runners-up are read when one of those drops out.
    collection = Article.get_pymongo_collection()
    found = [f for f in found if ObjectId.is_valid(f.article_id)]
    out: list[tuple[Article, Found]] = []
    while found and len(out) < limit:
        batch, found = found[: limit - len(out)], found[limit - len(out) :]
        raw = await asyncio.gather(
            *(
                collection.find_one({"_id": ObjectId(f.article_id), "workspace_id": ws, **LIVE})
                for f in batch
            )
        )
        for f, doc in zip(batch, raw, strict=True):
            if doc is None:
                continue
            article = Article.model_validate(doc)
            if audience == "all" and audience_of(article.status, article.visibility) != "all":
                continue
            if published and article.status != "published":
                continue
            out.append((article, f))
    return out
