"""Reading stream entries whatever the client's `decode_responses` setting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def entry_body(fields: Mapping[Any, Any] | None) -> bytes | str | None:
    """The encoded job of an entry (field "j"); None for an entry deleted while pending."""
    if not fields:
        return None
    body = fields.get(b"j", fields.get("j"))
    return body if isinstance(body, bytes | str) else None


def entry_ms(entry_id: str) -> int:
    """When Redis appended the entry, in ms since the epoch (the first part of its id)."""
    return int(entry_id.split("-", 1)[0])


def stream_entries(answer: Any) -> list[tuple[str, bytes | str | None]]:
    """The (id, body) pairs of an XREADGROUP answer, in RESP2 (list) or RESP3 (map) form."""
    streams = answer.items() if isinstance(answer, Mapping) else (answer or [])
    found: list[tuple[str, bytes | str | None]] = []
    for _name, entries in streams:
        # RESP3 nests the entries of each stream in one more list.
        if (
            entries
            and isinstance(entries[0], list)
            and entries[0]
            and isinstance(entries[0][0], tuple | list)
        ):
            entries = entries[0]
        for entry_id, fields in entries:
            found.append((text(entry_id), entry_body(fields)))
    return found
