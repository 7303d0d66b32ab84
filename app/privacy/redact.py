"""What identifies one person in text, and taking it out: pure code, no I/O.

`Traces` holds the person's identifiers (email, phone, WhatsApp id, external id, name) and
the texts they wrote. `redact` replaces every occurrence of them in a text the team wrote (a
reply greeting them by name, a note quoting their address) with `ERASED`; `found_in` tells
whether raw bytes kept elsewhere (an event in the replay log, a queued job, a kept API
answer) mention any of them, as written or as JSON writes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

ERASED = "[erased]"
# Shorter texts ("ok", "thanks") are everybody's words: a team reply holding one is not
# quoting the person.
MIN_QUOTED_TEXT = 12
# A part of a name this short ("Li", "Al") matches too many ordinary words to redact alone.
MIN_NAME_PART = 3
MIN_PHONE_DIGITS = 6
NATIONAL_DIGITS = (10, 9)


@dataclass
class Traces:
    identifiers: set[str] = field(default_factory=set)  # email, external id, WhatsApp id
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)  # what they wrote: messages, subjects

    def add_identifier(self, value: str | None) -> None:
        if value and value.strip():
            self.identifiers.add(value.strip())

    def add_phone(self, value: str | None) -> None:
        if value and sum(ch.isdigit() for ch in value) >= MIN_PHONE_DIGITS:
            self.phones.add(value.strip())

    def add_name(self, value: str | None) -> None:
        if value and value.strip():
            self.names.add(" ".join(value.split()))

    def add_text(self, value: str | None) -> None:
        if value and value.strip():
            self.texts.add(value.strip())

    def identifying_only(self) -> Traces:
        """These traces without the names and texts: what names this person wherever it is
        found, even in another person's conversation."""
        return Traces(identifiers=set(self.identifiers), phones=set(self.phones))

    def merge(self, other: Traces) -> None:
        self.identifiers |= other.identifiers
        self.phones |= other.phones
        self.names |= other.names
        self.texts |= other.texts

    def identifying(self) -> set[str]:
        """The identifiers and phone numbers (also as bare digits): what names this person
        and nobody else."""
        digits = {"".join(ch for ch in p if ch.isdigit()) for p in self.phones}
        return self.identifiers | self.phones | digits

    def needles(self) -> list[str]:
        """Every literal string that must not survive, longest first: the identifiers, the
        names, and what they wrote (texts long enough not to be anybody's words)."""
        quoted = {t for t in self.texts if len(t) >= MIN_QUOTED_TEXT}
        found = self.identifying() | self.names | quoted
        return sorted((n for n in found if n), key=len, reverse=True)


def _phone_pattern(phone: str) -> str:
    """The number in any formatting, whole or without its country code (its last 10 or 9
    digits, as contact search matches it): "+1 (555) 010-0200" finds "15550100200" and
    "(555)010-0200"."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    forms = [digits] + [digits[-n:] for n in NATIONAL_DIGITS if len(digits) > n]
    spelled = (r"[\s().\-]*".join(form) for form in forms)
    return r"(?<!\d)[+(]?(?:" + "|".join(spelled) + r")(?!\d)"


def _patterns(traces: Traces) -> list[re.Pattern[str]]:
    literal = [
        *traces.identifiers,
        *traces.names,
        *(t for t in traces.texts if len(t) >= MIN_QUOTED_TEXT),
    ]
    out = [re.compile(re.escape(v), re.IGNORECASE) for v in sorted(literal, key=len, reverse=True)]
    out += [re.compile(_phone_pattern(p)) for p in traces.phones]
    parts = {
        part
        for name in traces.names
        for part in re.split(r"[\s,.]+", name)
        if len(part) >= MIN_NAME_PART
    }
    out += [
        re.compile(rf"(?<!\w){re.escape(p)}(?!\w)", re.IGNORECASE)
        for p in sorted(parts, key=len, reverse=True)
    ]
    return out


def store_pattern(traces: Traces) -> str | None:
    """A regular expression the store can run (no lookarounds: FerretDB's are Go's) that
    finds every text holding one of the identifiers or phone numbers, and some more: what it
    finds is checked again with `Redactor`."""
    parts = [re.escape(v) for v in sorted(traces.identifiers)]
    for phone in sorted(traces.phones):
        digits = "".join(ch for ch in phone if ch.isdigit())
        parts.append(r"[\s().\-]*".join(digits[-min(len(digits), NATIONAL_DIGITS[-1]) :]))
    return "|".join(parts) or None


class Redactor:
    def __init__(self, traces: Traces) -> None:
        self._patterns = _patterns(traces)

    def text(self, value: str) -> str:
        for pattern in self._patterns:
            value = pattern.sub(ERASED, value)
        return value

    def value(self, value: Any) -> Any:
        """Strings anywhere inside dicts and lists, redacted (a template's parameters)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value


_json = msgspec.json.Encoder()


def byte_forms(needles: Iterable[str]) -> list[bytes]:
    """Each needle as UTF-8 and as it appears inside a JSON string (escapes and all)."""
    forms: set[bytes] = set()
    for needle in needles:
        forms.add(needle.encode())
        forms.add(_json.encode(needle)[1:-1])
        forms.add(needle.lower().encode())
    return sorted((f for f in forms if f), key=len, reverse=True)


def found_in(raw: bytes | str, forms: Iterable[bytes]) -> bool:
    data = raw.encode() if isinstance(raw, str) else raw
    lowered = data.lower()
    return any(form in data or form.lower() in lowered for form in forms)
