"""Message bodies as HTML that is safe to show: the text escaped, links and lines kept."""

from __future__ import annotations

import html
import re

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
