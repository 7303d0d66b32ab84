"""Message bodies as HTML that is safe to show: the text escaped, links and lines kept; an
email's own HTML sanitized."""

from __future__ import annotations

import html
import re

import nh3

_URL = re.compile(r"https?://[^\s<>\"']+")
_MENTION = re.compile(r"(?<![\w@])@([a-z0-9._-]{2,40})", re.IGNORECASE)


def text_to_html(text: str) -> str:
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        parts.append(html.escape(text[last : match.start()]))
        url = html.escape(match.group(0))
        parts.append(
            f'<a href="{url}" rel="noopener noreferrer nofollow" target="_blank">{url}</a>'
        )
        last = match.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts).replace("\r\n", "\n").replace("\n", "<br>")


def mention_handles(text: str) -> list[str]:
    """`@ana` or `@ana.silva` handles in a note, lower-case, first occurrence order."""
    return list(dict.fromkeys(m.group(1).lower() for m in _MENTION.finditer(text)))


# What an email's HTML may keep: structure and emphasis, lists, quotes, tables and links.
# No scripts, styles, forms, frames or event handlers, and no images: a remote image is how
# a sender learns the email was opened (and an inline one is an attachment already).
EMAIL_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
EMAIL_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"},
                    "th": {"colspan", "rowspan"}}  # fmt: skip
MAX_EMAIL_HTML = 512 * 1024  # characters kept of an email's HTML


def clean_email_html(raw: str) -> str | None:
    """An email's HTML, sanitized to what is safe to show in the agent app (nh3, the Rust
    `ammonia` sanitizer): None when nothing is left or it is too large to keep."""
    if not raw.strip() or len(raw) > 4 * MAX_EMAIL_HTML:
        return None
    cleaned = nh3.clean(
        raw,
        tags=EMAIL_TAGS,
        attributes=EMAIL_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()
    return cleaned if cleaned and len(cleaned) <= MAX_EMAIL_HTML else None
