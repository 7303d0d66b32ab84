"""Help articles read inside the widget, and how often they answer the question.

`GET /api/v1/widget/kb/articles/{id}` gives the widget one published public article of a
workspace as sanitized HTML, so a customer reads it without leaving the chat. The widget then
reports what followed (`POST /api/v1/widget/kb/deflection`): "read" when an article is
opened, "wrote" when the customer went on to send a message, "left" when they closed the chat
or left the page without writing. Both are called from customers' sites: no visitor token,
but the request's Origin must be one of the workspace's allowed origins.

The outcomes are counted per workspace per UTC day in Redis (in all and per article), kept 90
days, and `GET /api/v1/kb/deflection` shows supervisors the days, the deflection rate (of the
articles read, the share after which the customer left without writing) and the articles read
most, each with its own rate — the dashboard's "Help articles in the widget" card.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Final, Literal

import msgspec
from bson import ObjectId

from app.actions import kb
from app.api.endpoint import Api, Call
from app.api.routes_help import help_path
from app.api.routes_widget import check_origin, load_workspace
from app.auth.throttle import client_address, within_limit
from app.documents import Workspace
from app.documents.kb import Article
from app.domain.errors import NotFound, RateLimited
from app.domain.kb import render_markdown
from app.domain.roles import Action

api = Api()
Outcome = Literal["read", "left", "wrote"]
KEEP_DAYS: Final = 90
REPORTS_PER_MINUTE: Final = 60  # per client address
TOP_ARTICLES: Final = 10


class WidgetArticleQuery(msgspec.Struct, forbid_unknown_fields=True):
    workspace: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class WidgetArticleOut(msgspec.Struct):
    id: str
    title: str
    html: str  # the article's markdown rendered and sanitized
    url: str  # the article in the workspace's help center


class DeflectionIn(msgspec.Struct, forbid_unknown_fields=True):
    workspace: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    article_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    outcome: Outcome


class DeflectionQuery(msgspec.Struct, forbid_unknown_fields=True):
    days: Annotated[int, msgspec.Meta(ge=1, le=KEEP_DAYS)] = 30


class DeflectionDay(msgspec.Struct):
    date: str  # YYYY-MM-DD, UTC
    read: int
    left: int
    wrote: int


class DeflectionTotals(msgspec.Struct):
    read: int
    left: int
    wrote: int
    deflection_rate: float | None  # left / read; null while nothing was read


class ArticleDeflection(msgspec.Struct):
    id: str
    title: str  # "" when the article was deleted since
    read: int
    left: int
    wrote: int
    deflection_rate: float | None


class DeflectionReport(msgspec.Struct):
    days: list[DeflectionDay]  # oldest first, today last, days without reads included
    totals: DeflectionTotals
    articles: list[ArticleDeflection]  # the most read first, at most TOP_ARTICLES


def article_field(article_id: str, outcome: str) -> str:
    """The day hash's field counting `outcome` for one article (beside the day's totals)."""
    return f"a:{article_id}:{outcome}"


def day_key(workspace_id: str, day: date) -> str:
    return f"tandem:kb:{{ws:{workspace_id}}}:deflection:{day.isoformat()}"


def today() -> date:
    return datetime.now(UTC).date()


async def public_article(workspace: Workspace, article_id: str) -> Article:
    """The workspace's published public article with this id; anything else is not found."""
    assert workspace.id is not None
    article = await kb.get_article(workspace.id, article_id)
    if article.status != "published" or article.visibility != "public":
        raise NotFound("no such article")
    return article


@api.op(
    "GET",
    "/widget/kb/articles/{article_id}",
    summary="One published public article as sanitized HTML, for the widget on an allowed origin",
    tag="widget",
    query=WidgetArticleQuery,
    response=WidgetArticleOut,
    auth=False,
    errors=(403, 404, 422),
)
async def widget_article(call: Call) -> WidgetArticleOut:
    q: WidgetArticleQuery = call.query
    workspace = await load_workspace(q.workspace)
    check_origin(call, workspace)
    article = await public_article(workspace, call.path("article_id"))
    base = call.runtime.settings.public_url.rstrip("/")
    return WidgetArticleOut(
        id=str(article.id),
        title=article.title,
        html=render_markdown(article.body),
        url=base + help_path(workspace.slug, article.slug),
    )


@api.op(
    "POST",
    "/widget/kb/deflection",
    summary="Count what followed a help article read in the widget: read, wrote or left",
    tag="widget",
    body=DeflectionIn,
    status=204,
    auth=False,
    errors=(403, 404, 422, 429),
)
async def report_deflection(call: Call) -> None:
    body: DeflectionIn = call.body
    workspace = await load_workspace(body.workspace)
    check_origin(call, workspace)
    address = client_address(call.request)
    if not await within_limit(
        call.runtime.redis, f"tandem:kb:deflection:addr:{address}", REPORTS_PER_MINUTE, 60
    ):
        raise RateLimited(
            f"at most {REPORTS_PER_MINUTE} article reports a minute; please wait a moment"
        )
    article = await public_article(workspace, body.article_id)
    key = day_key(str(workspace.id), today())
    async with call.runtime.redis.pipeline(transaction=True) as pipe:
        pipe.hincrby(key, body.outcome, 1)
        pipe.hincrby(key, article_field(str(article.id), body.outcome), 1)
        pipe.expire(key, KEEP_DAYS * 86_400)
        await pipe.execute()


@api.op(
    "GET",
    "/kb/deflection",
    summary="Help articles read in the widget per day, and how often customers then left "
    "without writing (supervisors and up)",
    tag="kb",
    query=DeflectionQuery,
    response=DeflectionReport,
    errors=(403, 422),
)
async def deflection_report(call: Call) -> DeflectionReport:
    call.agent.require(Action.VIEW_DASHBOARD)
    q: DeflectionQuery = call.query
    last = today()
    days = [last - timedelta(days=n) for n in range(q.days - 1, -1, -1)]
    async with call.runtime.redis.pipeline(transaction=False) as pipe:
        for day in days:
            pipe.hgetall(day_key(call.agent.workspace_id, day))
        counts: list[dict[bytes, bytes]] = await pipe.execute()
    rows = []
    per_article: dict[str, dict[str, int]] = {}
    for day, raw in zip(days, counts, strict=True):
        got: dict[str, int] = {}
        for k, v in raw.items():
            name = k.decode()
            if name.startswith("a:"):
                _, article_id, outcome = name.split(":", 2)
                tally = per_article.setdefault(article_id, {})
                tally[outcome] = tally.get(outcome, 0) + int(v)
            else:
                got[name] = int(v)
        rows.append(
            DeflectionDay(
                date=day.isoformat(),
                read=got.get("read", 0),
                left=got.get("left", 0),
                wrote=got.get("wrote", 0),
            )
        )
    read = sum(r.read for r in rows)
    left = sum(r.left for r in rows)
    wrote = sum(r.wrote for r in rows)
    return DeflectionReport(
        days=rows,
        totals=DeflectionTotals(
            read=read, left=left, wrote=wrote, deflection_rate=rate(left, read)
        ),
        articles=await _most_read(call.agent.workspace_id, per_article),
    )


def rate(left: int, read: int) -> float | None:
    return left / read if read else None


async def _most_read(ws: str, tallies: dict[str, dict[str, int]]) -> list[ArticleDeflection]:
    top = sorted(tallies.items(), key=lambda item: (-item[1].get("read", 0), item[0]))
    top = top[:TOP_ARTICLES]
    titles = await asyncio.gather(*(_title(ws, article_id) for article_id, _ in top))
    return [
        ArticleDeflection(
            id=article_id,
            title=title,
            read=t.get("read", 0),
            left=t.get("left", 0),
            wrote=t.get("wrote", 0),
            deflection_rate=rate(t.get("left", 0), t.get("read", 0)),
        )
        for (article_id, t), title in zip(top, titles, strict=True)
    ]


async def _title(ws: str, article_id: str) -> str:
    # By `_id` (the lookup FerretDB indexes), in this workspace only.
    if not ObjectId.is_valid(article_id):
        return ""
    found = await Article.get_pymongo_collection().find_one(
        {"_id": ObjectId(article_id), "workspace_id": ObjectId(ws), **kb.LIVE}, {"title": 1}
    )
    return str(found["title"]) if found else ""
