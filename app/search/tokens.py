"""Text to search terms: pure, deterministic functions shared by indexing and querying.

Both sides go through the same `fold` and the same splitting, so whatever a document was indexed
under is what a query asks for: "Ação" and "acao" fold to the same term, "Straße" to "strasse".

Beyond plain words, two special forms make identifiers findable the way people type them:

- an email address yields itself, its local part and its domain (besides its words), so
  "ana.silva@example.com" is found by the whole address, by "ana.silva" or by "example.com";
- a phone number yields its digits alone ("+351 912 345 678" -> "351912345678") and, when
  longer, its last 9 digits ("912345678"), so a number typed without the country code finds it.

Terms keep their repetitions (indexing counts them); `query_terms` removes them.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TERM = 40  # a longer word is cut: nobody types more of it, and it bounds the index
MAX_SPECIAL = 120  # emails and phone digits are kept whole up to this length
LOCAL_DIGITS = 9  # a phone number is also indexed by this many trailing digits
MIN_PHONE_DIGITS = 7
MAX_PHONE_DIGITS = 15  # E.164's longest number

_WORD = re.compile(r"[^\W_]+")
_EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s().\-]{5,}\d")


def fold(text: str) -> str:
    """`text` without case or accents: casefolded first (which may itself produce combining
    marks, as "İ" does), then decomposed (NFKD) with the combining marks dropped."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _keep(token: str) -> bool:
    """One-letter words match too much to be worth indexing; a lone digit is kept ("room 5")."""
    return len(token) > 1 or token.isdigit()


def words(folded: str) -> list[str]:
    """The alphanumeric runs of already folded text, short ones dropped, long ones cut."""
    return [token[:MAX_TERM] for token in _WORD.findall(folded) if _keep(token)]


def email_terms(folded: str) -> list[str]:
    """For each email address: the address, its local part and its domain."""
    found: list[str] = []
    for match in _EMAIL.finditer(folded):
        address = match.group(0).strip(".")
        local, _, domain = address.partition("@")
        if local and domain and len(address) <= MAX_SPECIAL:
            found.extend(term for term in (address, local, domain) if len(term) > 1)
    return found


def phone_terms(folded: str) -> list[str]:
    """For each phone-like number: its digits, and its last `LOCAL_DIGITS` digits when longer."""
    found: list[str] = []
    for match in _PHONE.finditer(folded):
        digits = "".join(char for char in match.group(0) if char.isdigit())
        if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
            continue
        found.append(digits)
        if len(digits) > LOCAL_DIGITS:
            found.append(digits[-LOCAL_DIGITS:])
    return found


def terms(text: str) -> list[str]:
    """Every term `text` is indexed under, in order, repetitions kept: its words, then the
    special forms of the email addresses and phone numbers in it."""
    folded = fold(text)
    return words(folded) + email_terms(folded) + phone_terms(folded)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def query_terms(q: str) -> tuple[list[str], str | None]:
    """The terms a query requires (all of them), and the prefix of the word being typed.

    When `q` does not end in whitespace its last word is still being typed: it becomes the
    prefix (if at least 2 characters long) rather than a whole term, so "refu" finds
    "refund". A finished query ("refund ") has no prefix."""
    folded = fold(q)
    tokens = [token[:MAX_TERM] for token in _WORD.findall(folded)]
    specials = email_terms(folded) + phone_terms(folded)
    prefix: str | None = None
    if tokens and q and not q[-1].isspace():
        last = tokens.pop()
        if len(last) >= 2:
            prefix = last
        else:
            tokens.append(last)
    kept = [token for token in tokens if _keep(token)]
    return _unique(kept + specials), prefix
