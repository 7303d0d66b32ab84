"""The public help center and the widget's article search.

`/help/<workspace>` lists a workspace's published public articles by category, with a search
box; `/help/<workspace>/<article>` shows one. They are plain HTML pages for anyone, built from
escaped text and the sanitized HTML of each article's markdown, served with a strict Content
Security Policy (no scripts at all; the one stylesheet allowed by its hash). Drafts and
internal articles never appear, nor does a deleted one.

`GET /api/v1/widget/kb/search` is the same search for the webchat widget on a customer's site:
no visitor token, but the request's Origin must be one of the workspace's allowed origins.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections import Counter
from html import escape
from typing import Final
from urllib.parse import quote

from beanie import PydanticObjectId
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from app.actions import kb
from app.api.endpoint import Api, Call
from app.api.routes_widget import check_origin, load_workspace
from app.auth.throttle import client_address
from app.documents import Workspace
from app.documents.kb import Article
from app.domain.errors import RateLimited
from app.domain.kb import plain_text, render_markdown, snippet
from app.kb import public_limits
from app.runtime import Runtime
from app.schemas.common import iso
from app.schemas.kb import WidgetArticleHit, WidgetSearchOut, WidgetSearchQuery

api = Api()
log = logging.getLogger("tandem.kb")
MIN_QUERY: Final = 2  # a shorter query matches too much to be worth answering
SEARCH_LIMIT: Final = 20
LISTED_MAX: Final = 1_000  # articles a help center's front page lists
GENERAL: Final = "General"  # the heading of articles without a category

STYLE: Final = """
body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2430;
background:#f7f8fa}
main{max-width:46rem;margin:0 auto;padding:1.5rem 1.25rem 4rem}
header{border-bottom:1px solid #dde1e7;background:#fff}
header p{max-width:46rem;margin:0 auto;padding:.9rem 1.25rem;font-weight:600}
a{color:#1f5fbf}
h1{font-size:1.7rem;line-height:1.25;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:2rem 0 .5rem}
form{display:flex;gap:.5rem;margin:1rem 0 1.5rem}
input[type=search]{flex:1;font:inherit;padding:.5rem .7rem;border:1px solid #b9c0cb;
border-radius:6px}
button{font:inherit;padding:.5rem 1rem;border:0;border-radius:6px;background:#1f5fbf;
color:#fff}
ul.articles{list-style:none;padding:0;margin:0}
ul.articles li{padding:.45rem 0;border-bottom:1px solid #e7eaef}
.snippet{margin:.2rem 0 0;color:#505a69;font-size:.92rem}
.meta{color:#616b7a;font-size:.9rem}
article img{max-width:100%;height:auto}
article pre{overflow:auto;background:#eef1f5;padding:.75rem;border-radius:6px}
article code{font-size:.92em}
article table{border-collapse:collapse}
article td,article th{border:1px solid #d4d9e0;padding:.3rem .6rem}
article blockquote{margin:0;padding-left:1rem;border-left:3px solid #c9d0da;color:#4b5563}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP: Final = (
    "default-src 'none'; "
    f"style-src 'sha256-{_STYLE_HASH}'; "
    "img-src https: data:; "
    "form-action 'self'; "
    "base-uri 'none'; "
    "frame-ancestors 'none'"
)
HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cache-Control": "no-cache",
}


def _public(article: Article) -> bool:
    return article.status == "published" and article.visibility == "public"


def help_path(workspace_slug: str, article_slug: str | None = None) -> str:
    path = f"/help/{quote(workspace_slug, safe='')}"
    return f"{path}/{quote(article_slug, safe='')}" if article_slug is not None else path


def page(*, title: str, lang: str, body: str, status: int = 200) -> HTMLResponse:
    """A whole page around `body` (HTML already escaped or sanitized)."""
    document = (
        "<!doctype html>\n"
        f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="strict-origin-when-cross-origin">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
    return HTMLResponse(document, status_code=status, headers=HEADERS)


def not_found(what: str) -> HTMLResponse:
    body = f"<main><h1>Not found</h1><p>{escape(what)}</p></main>"
    return page(title="Not found", lang="en", body=body, status=404)


def too_many() -> HTMLResponse:
    body = (
        "<main><h1>Too many requests</h1>"
        "<p>This address asked the help center too often. Try again in a minute.</p></main>"
    )
    response = page(title="Too many requests", lang="en", body=body, status=429)
    response.headers["Retry-After"] = str(public_limits.WINDOW)
    return response


async def _over_limit(request: Request, workspace: Workspace, kind: public_limits.Kind) -> bool:
    runtime: Runtime = request.app.state.runtime
    address = client_address(request)
    if await public_limits.allowed(runtime.redis, kind=kind, address=address, ws=str(workspace.id)):
        return False
    log.info("help center %s from %s over its limit (workspace %s)", kind, address, workspace.id)
    return True


def _masthead(workspace: Workspace) -> str:
    home = escape(help_path(workspace.slug))
    return f'<header><p><a href="{home}">{escape(workspace.name)} help center</a></p></header>'


def _search_form(workspace: Workspace, q: str) -> str:
    return (
        f'<form method="get" action="{escape(help_path(workspace.slug))}" role="search">'
        f'<input type="search" id="q" name="q" value="{escape(q)}" maxlength="200" '
        'placeholder="Search articles" aria-label="Search articles">'
        '<button type="submit">Search</button></form>'
    )


def _item(workspace: Workspace, article: Article, q: str | None = None) -> str:
    href = escape(help_path(workspace.slug, article.slug))
    line = f'<li><a href="{href}">{escape(article.title)}</a>'
    if q is not None:
        line += f'<p class="snippet">{escape(snippet(plain_text(article.body), q))}</p>'
    return line + "</li>"


def _lang(articles: list[Article]) -> str:
    counts = Counter(a.locale for a in articles)
    return counts.most_common(1)[0][0] if counts else "en"


async def _workspace(slug: str) -> Workspace | None:
    found: Workspace | None = await Workspace.find_one(Workspace.slug == slug)
    return found


async def _listing(ws: PydanticObjectId) -> list[Article]:
    found: list[Article] = []
    cursor: str | None = None
    while len(found) < LISTED_MAX:
        batch, cursor = await kb.list_articles(
            ws, statuses=("published",), visibilities=("public",), cursor=cursor, limit=200
        )
        found += batch
        if cursor is None:
            break
    return found


async def search_public(
    runtime: Runtime, ws: PydanticObjectId, q: str, limit: int
) -> list[Article]:
    """The published public articles that best answer `q`, best first, with their bodies: by
    meaning and words where the knowledge base is held, else by the keyword index."""
    if runtime.deps.kb is not None:
        ranked = await kb.answers(runtime.deps.kb, ws, q, audience="all", limit=limit)
        if ranked:
            return [article for article, _ in ranked]
    index = runtime.deps.search
    matched = None
    if index is not None:
        matched = await kb.search_articles(
            index, ws, q, audience="all", accept=_public, limit=limit, bodies=True
        )
    if matched is None:  # the index is being rebuilt: titles from the store
        filters = {"status": "published", "visibility": "public"}
        return await kb.match_in_store(ws, q, filters, limit, bodies=True)
    return matched[0]


async def help_index(request: Request) -> Response:
    workspace = await _workspace(request.path_params["workspace_slug"])
    if workspace is None or workspace.id is None:
        return not_found("There is no help center at this address.")
    runtime: Runtime = request.app.state.runtime
    q = request.query_params.get("q", "")[:200].strip()
    if await _over_limit(request, workspace, "search" if q else "page"):
        return too_many()
    parts = [_masthead(workspace), "<main>"]
    if q:
        found = await search_public(runtime, workspace.id, q, SEARCH_LIMIT) if len(q) >= 2 else []
        parts.append(f"<h1>Search results for “{escape(q)}”</h1>")
        parts.append(_search_form(workspace, q))
        if found:
            items = "".join(_item(workspace, a, q) for a in found)
            parts.append(f'<ul class="articles" id="results">{items}</ul>')
        else:
            parts.append('<p id="no-results">No articles match. Try other words.</p>')
        lang = _lang(found)
    else:
        articles = await _listing(workspace.id)
        parts.append(f"<h1>How can we help?</h1>{_search_form(workspace, '')}")
        by_category: dict[str, list[Article]] = {}
        for article in articles:
            by_category.setdefault(article.category or GENERAL, []).append(article)
        for category in sorted(by_category, key=lambda c: (c == GENERAL, c.casefold())):
            listed = sorted(by_category[category], key=lambda a: a.title.casefold())
            items = "".join(_item(workspace, a) for a in listed)
            parts.append(f'<section><h2>{escape(category)}</h2><ul class="articles">{items}</ul>')
            parts.append("</section>")
        if not articles:
            parts.append("<p>No articles yet.</p>")
        lang = _lang(articles)
    parts.append("</main>")
    title = f"Search: {q} · {workspace.name} help" if q else f"{workspace.name} help center"
    return page(title=title, lang=lang, body="".join(parts))


async def help_article(request: Request) -> Response:
    workspace = await _workspace(request.path_params["workspace_slug"])
    if workspace is None or workspace.id is None:
        return not_found("There is no help center at this address.")
    if await _over_limit(request, workspace, "page"):
        return too_many()
    slug = request.path_params["article_slug"]
    raw = await Article.get_pymongo_collection().find_one(
        {"workspace_id": workspace.id, "slug": slug, **kb.LIVE, "status": "published"},
        kb.WITH_BODY,
    )
    article = Article.model_validate(raw) if raw is not None else None
    if article is None or not _public(article):
        return not_found("There is no such article in this help center.")
    updated = iso(article.updated_at) or ""
    meta = escape(article.category or GENERAL)
    body = (
        f"{_masthead(workspace)}<main><article>"
        f'<p class="meta">{meta}</p><h1>{escape(article.title)}</h1>'
        f"{render_markdown(article.body)}"
        f'<p class="meta">Updated <time datetime="{escape(updated)}">{escape(updated[:10])}'
        "</time></p></article></main>"
    )
    return page(title=f"{article.title} · {workspace.name} help", lang=article.locale, body=body)


def routes() -> list[Route]:
    return [
        Route("/help/{workspace_slug}", help_index, methods=["GET"]),
        Route("/help/{workspace_slug}/{article_slug}", help_article, methods=["GET"]),
    ]


@api.op(
    "GET",
    "/widget/kb/search",
    summary="Published public articles matching `q`, for the widget on an allowed origin",
    tag="widget",
    query=WidgetSearchQuery,
    response=WidgetSearchOut,
    auth=False,
    errors=(403, 404, 422, 429),
)
async def widget_search(call: Call) -> WidgetSearchOut:
    q: WidgetSearchQuery = call.query
    workspace = await load_workspace(q.workspace)
    check_origin(call, workspace)
    text = q.q.strip()
    if len(text) < MIN_QUERY or workspace.id is None:
        return WidgetSearchOut(items=[])
    address = client_address(call.request)
    if not await public_limits.allowed(
        call.runtime.redis, kind="search", address=address, ws=str(workspace.id)
    ):
        raise RateLimited(
            "too many article searches from here; try again in a minute",
            retry_after=public_limits.WINDOW,
        )
    found = await search_public(call.runtime, workspace.id, text, q.limit)
    base = call.runtime.settings.public_url.rstrip("/")
    return WidgetSearchOut(
        items=[
            WidgetArticleHit(
                id=str(a.id),
                title=a.title,
                slug=a.slug,
                url=base + help_path(workspace.slug, a.slug),
                snippet=snippet(plain_text(a.body), text),
            )
            for a in found
        ]
    )
