from __future__ import annotations

from typing import Annotated

import msgspec

from app.documents.kb import Article
from app.domain.kb import BODY_MAX, CATEGORY_MAX, SLUG_MAX, TITLE_MAX, render_markdown
from app.schemas.common import Page, iso
from realtime.events import ArticleStatus, ArticleView, ArticleVisibility

# The lengths are checked again, with the field named, by app/domain/kb.py; these bound what
# is decoded at all.
Title = Annotated[str, msgspec.Meta(max_length=TITLE_MAX * 2)]
Body = Annotated[str, msgspec.Meta(max_length=BODY_MAX)]
Category = Annotated[str, msgspec.Meta(max_length=CATEGORY_MAX * 2)]
Locale = Annotated[str, msgspec.Meta(min_length=2, max_length=35)]
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=SLUG_MAX)]


def article_view(a: Article) -> ArticleView:
    return ArticleView(
        id=str(a.id),
        title=a.title,
        slug=a.slug,
        locale=a.locale,
        category=a.category,
        status=a.status,
        visibility=a.visibility,
        version=a.version,
        updated_at=iso(a.updated_at),
    )


class ArticleOut(msgspec.Struct, kw_only=True):
    """One article whole: its markdown `body` and the sanitized `html` it renders to."""

    id: str
    title: str
    slug: str
    locale: str
    category: str
    status: ArticleStatus
    visibility: ArticleVisibility
    version: int
    body: str
    html: str
    created_at: str | None
    updated_at: str | None
    created_by: str | None
    updated_by: str | None


def article_out(a: Article) -> ArticleOut:
    return ArticleOut(
        id=str(a.id),
        title=a.title,
        slug=a.slug,
        locale=a.locale,
        category=a.category,
        status=a.status,
        visibility=a.visibility,
        version=a.version,
        body=a.body,
        html=render_markdown(a.body),
        created_at=iso(a.created_at),
        updated_at=iso(a.updated_at),
        created_by=a.created_by,
        updated_by=a.updated_by,
    )


class ArticleIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    body: Body
    locale: Locale = "en"
    category: Category = ""
    status: ArticleStatus = "draft"
    visibility: ArticleVisibility = "public"
    slug: Slug | None = None  # made from the title when left out


class ArticlePatch(msgspec.Struct, forbid_unknown_fields=True):
    version: int  # the version the change was made on; another one is a 409
    title: Title | msgspec.UnsetType = msgspec.UNSET
    body: Body | msgspec.UnsetType = msgspec.UNSET
    locale: Locale | msgspec.UnsetType = msgspec.UNSET
    category: Category | msgspec.UnsetType = msgspec.UNSET
    status: ArticleStatus | msgspec.UnsetType = msgspec.UNSET
    visibility: ArticleVisibility | msgspec.UnsetType = msgspec.UNSET
    slug: Slug | msgspec.UnsetType = msgspec.UNSET


class ArticleQuery(msgspec.Struct, forbid_unknown_fields=True):
    status: ArticleStatus | None = None
    locale: Locale | None = None
    category: Category | None = None
    q: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    cursor: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 50


class ArticlePage(Page, kw_only=True):
    items: list[ArticleView]


class WidgetSearchQuery(msgspec.Struct, forbid_unknown_fields=True):
    workspace: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    q: Annotated[str, msgspec.Meta(max_length=200)] = ""
    limit: Annotated[int, msgspec.Meta(ge=1, le=20)] = 5


class WidgetArticleHit(msgspec.Struct):
    id: str
    title: str
    slug: str
    url: str  # the article in the workspace's help center
    snippet: str


class WidgetSearchOut(msgspec.Struct):
    items: list[WidgetArticleHit]


class AnswersQuery(msgspec.Struct, forbid_unknown_fields=True):
    q: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    limit: Annotated[int, msgspec.Meta(ge=1, le=20)] = 5


class Answer(msgspec.Struct):
    id: str
    title: str
    slug: str
    visibility: str
    score: float
    passage: str  # the part of the article that answers best
    heading: str  # where it is in the article ("" before the first heading)


class AnswersOut(msgspec.Struct):
    items: list[Answer]
    # Set when the embedding model is not available here: answers come from words alone.
    keywords_only: str | None = None
