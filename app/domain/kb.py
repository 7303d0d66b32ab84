"""Knowledge-base rules: what an article may hold, its slug, its chunks, its safe HTML.

No I/O here. Chunks are what later modules embed and rank: each is one section of the article
(split at `#`, `##` and `###` headings), long sections cut between paragraphs — or, inside a
paragraph too long on its own, between words — into pieces of at most `CHUNK_MAX` characters.
Each chunk's text starts with the article's title and its heading, so it reads on its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final, Literal

import msgspec
import nh3
from markdown_it import MarkdownIt

from app.domain.errors import Invalid

TITLE_MAX: Final = 200
BODY_MAX: Final = 60_000
CATEGORY_MAX: Final = 80
SLUG_MAX: Final = 80
CHUNK_MAX: Final = 900  # characters of a chunk's own text, not counting its title line
SNIPPET_WIDTH: Final = 160
HEADING_SEPARATOR: Final = " \u203a "  # between the headings of a chunk's path

Audience = Literal["all", "agents"]

_LOCALE = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?$")
_WORD = re.compile(r"[^\W_]+")
_HEADING = re.compile(r"^ {0,3}(#{1,3})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# Letters that Unicode does not decompose into a base letter and a mark.
_UNDECOMPOSED = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "ł": "l", "þ": "th", "\u0131": "i"}
)


# ---- validation ------------------------------------------------------------------------------


def check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise Invalid("an article needs a title", field="title")
    if len(title) > TITLE_MAX:
        raise Invalid(f"a title has at most {TITLE_MAX} characters", field="title")
    return title


def check_body(body: str) -> str:
    if not body.strip():
        raise Invalid("an article needs a body", field="body")
    if len(body) > BODY_MAX:
        raise Invalid(f"a body has at most {BODY_MAX:,} characters", field="body")
    return body


def check_category(category: str) -> str:
    category = " ".join(category.split())
    if len(category) > CATEGORY_MAX:
        raise Invalid(f"a category has at most {CATEGORY_MAX} characters", field="category")
    return category


def check_locale(locale: str) -> str:
    """A language tag ("en", "pt-BR", "zh-Hant-TW") in its usual case."""
    match = _LOCALE.match(locale.strip())
    if match is None:
        raise Invalid("a locale is a language tag such as en or pt-BR", field="locale")
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def check_slug(slug: str) -> str:
    if not slug or len(slug) > SLUG_MAX or slugify(slug) != slug:
        raise Invalid(
            f"a slug is 1 to {SLUG_MAX} lowercase letters or digits in words joined by -",
            field="slug",
        )
    return slug


# ---- slugs -----------------------------------------------------------------------------------


def fold(text: str) -> str:
    """`text` without case or accents ("Ação" -> "acao", "Straße" -> "strasse")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def slugify(text: str) -> str:
    """The words of `text`, folded and joined by "-", cut at a word to `SLUG_MAX`; letters of
    scripts without a Latin form are kept. "article" when no word is left."""
    slug = ""
    for word in _WORD.findall(fold(text)):
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > SLUG_MAX:
            if not slug:
                slug = word[:SLUG_MAX]
            break
        slug = candidate
    return slug or "article"


def dedupe_slug(base: str, taken: Iterable[str]) -> str:
    """`base`, or the first of `base-2`, `base-3`… not taken (the base cut to fit)."""
    used = set(taken)
    if base not in used:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
        if candidate not in used:
            return candidate
        n += 1


def audience_of(status: str, visibility: str) -> Audience:
    """Who may find an article: everyone once it is published and public, else agents."""
    return "all" if status == "published" and visibility == "public" else "agents"


# ---- chunks ----------------------------------------------------------------------------------


class Chunk(msgspec.Struct, frozen=True):
    n: int  # its place in the article, from 0
    # The headings above it, outermost first, joined by HEADING_SEPARATOR ("" before any).
    heading: str
    text: str  # "<title> — <heading>" (or the title alone), a blank line, then the piece


def sections(title: str, body: str) -> list[tuple[str, str]]:
    """(heading path, content) for the text before the first heading and under each `#`,
    `##` or `###` heading; fenced code is never read as headings. A first-level heading that
    repeats the title is not repeated in the path."""
    found: list[tuple[str, str]] = []
    path: list[str] = []
    lines: list[str] = []
    fence: str | None = None

    def close() -> None:
        found.append((HEADING_SEPARATOR.join(p for p in path if p), "\n".join(lines).strip()))
        lines.clear()

    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        opener = _FENCE.match(line)
        if fence is not None:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = None
            lines.append(line)
            continue
        if opener:
            fence = opener.group(1)
            lines.append(line)
            continue
        heading = _HEADING.match(line)
        if heading is None:
            lines.append(line)
            continue
        close()
        level, text = len(heading.group(1)), (heading.group(2) or "").strip()
        if level == 1 and fold(text) == fold(title):
            text = ""
        path = [*path[: level - 1], *[""] * max(0, level - 1 - len(path)), text]
    close()
    return found


def _words_into(text: str, limit: int) -> list[str]:
    """`text` cut between words into pieces of at most `limit` characters; a single word
    longer than that (a long URL) is cut where the limit falls."""
    pieces: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:limit])
            word = word[limit:]
        if not word:
            continue
        candidate = f"{current} {word}" if current else word
        if len(candidate) > limit:
            pieces.append(current)
            current = word
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def pieces(content: str, limit: int = CHUNK_MAX) -> list[str]:
    """Whole paragraphs packed into pieces of at most `limit` characters, in order; a
    paragraph longer than the limit is cut between its words."""
    out: list[str] = []
    current = ""
    for raw in _PARAGRAPH_BREAK.split(content):
        paragraph = raw.strip()
        if not paragraph:
            continue
        if len(paragraph) > limit:
            if current:
                out.append(current)
                current = ""
            out.extend(_words_into(paragraph, limit))
            continue
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) > limit:
            out.append(current)
            current = paragraph
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def chunks(title: str, body: str) -> list[Chunk]:
    """The article as standalone passages, in order; the same input always gives the same
    chunks. Sections with no text of their own (a heading followed by a subheading) give
    none."""
    title = " ".join(title.split())
    found: list[Chunk] = []
    for heading, content in sections(title, body):
        lead = f"{title} — {heading}" if heading else title
        for piece in pieces(content):
            found.append(Chunk(n=len(found), heading=heading, text=f"{lead}\n\n{piece}"))
    return found


# ---- HTML and plain text -----------------------------------------------------------------------

# Raw HTML in the markdown is not passed through (it comes out as escaped text), and what the
# renderer makes is sanitized again against an allowlist.
_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

ARTICLE_TAGS: Final = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "ul",
}  # fmt: skip
ARTICLE_ATTRIBUTES: Final = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}


def render_markdown(body: str) -> str:
    """The article's markdown as HTML that is safe to put in a page."""
    rendered = _markdown.render(body)
    return nh3.clean(
        rendered,
        tags=set(ARTICLE_TAGS),
        attributes={tag: set(names) for tag, names in ARTICLE_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def plain_text(body: str) -> str:
    """The article's words without markdown syntax: one line per block, for search and
    snippets."""
    blocks: list[str] = []
    for token in _markdown.parse(body):
        if token.type == "inline":
            words = [
                child.content
                for child in token.children or []
                if child.type in ("text", "code_inline")
            ]
            blocks.append("".join(words))
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.strip())
    return "\n".join(block for block in blocks if block.strip())


def snippet(text: str, q: str, width: int = SNIPPET_WIDTH) -> str:
    """About `width` characters of `text` around the first word that a word of `q` begins
    (the start of `text` when none does), cut at words, with "…" where it was cut."""
    wanted = [fold(word) for word in _WORD.findall(q)]
    start = 0
    for match in _WORD.finditer(text):
        if any(fold(match.group(0)).startswith(word) for word in wanted):
            start = max(0, match.start() - width // 4)
            break
    if start > 0:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 else start
    flat = " ".join(text[start:].split())
    if len(flat) > width:
        cut = flat.rfind(" ", 0, width)
        flat = flat[: cut if cut > 0 else width].rstrip() + "…"
    return ("…" if start > 0 else "") + flat
