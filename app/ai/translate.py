"""Translations by the workspace's model: one short call whose whole answer is awaited, then
read as the JSON object the prompt asks for (app/ai/prompts.py).

The call is metered like a streamed one: one ledger row, counts only. A provider failure
becomes `ProviderFailed`, an ordinary JSON error carrying the provider error's code: 429 when
the provider is rate limiting, 504 when it did not answer in time, 502 for anything else it
refused or broke (its own 401 or 402 would read as Tandem's session or budget).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from beanie import PydanticObjectId

from app.ai.client import ProviderError, TextDelta, stream_chat
from app.ai.ledger import Meter, estimate_tokens, record
from app.documents.ai import AiOutcome
from app.documents.workspace import AiSettings
from app.domain.errors import DomainError

log = logging.getLogger("tandem.ai")

TIMEOUT_S = 30.0  # to connect, and between two pieces of the answer
TOTAL_S = 120.0  # for the whole answer
MAX_TEXT_CHARS = 10_000  # translated at once
MIN_TOKENS = 256
MAX_TOKENS = 8000

_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_FENCE = re.compile(r"^```[A-Za-z]*\s*\n?(.*?)\n?\s*```$", re.DOTALL)


class ProviderFailed(DomainError):
    """The model provider refused or failed; `code` is the provider error's code."""

    status = 502

    def __init__(self, error: ProviderError) -> None:
        super().__init__(
            error.message,
            code=error.code,
            details={"provider_status": error.status or None, "retryable": error.retryable},
        )
        if error.code == "provider_rate_limited":
            self.status = 429
        elif error.code == "provider_timeout":
            self.status = 504


def language_tag(value: Any) -> str | None:
    """`value` as a BCP-47 tag in its usual case (`pt-br` → `pt-BR`), or None when it is not
    one."""
    if not isinstance(value, str) or len(value) > 35 or not _TAG.match(value.strip()):
        return None
    first, *rest = value.strip().split("-")
    parts = [first.lower()]
    for part in rest:
        if len(part) == 2 and part.isalpha():
            parts.append(part.upper())  # a region
        elif len(part) == 4 and part.isalpha():
            parts.append(part.title())  # a script
        else:
            parts.append(part.lower())
    return "-".join(parts)


def tokens_for(text: str) -> int:
    """A ceiling on the answer's tokens: room for the translation, which can be longer than
    the original, inside its JSON."""
    return max(MIN_TOKENS, min(MAX_TOKENS, 2 * estimate_tokens(len(text)) + 200))


@dataclass(frozen=True)
class Parsed:
    text: str
    language: str | None


def _unfenced(answer: str) -> str:
    fenced = _FENCE.match(answer)
    return fenced.group(1).strip() if fenced else answer


def _object(body: str) -> dict[str, Any] | None:
    """The JSON object in `body`, also when the model wrapped it in a sentence."""
    candidates = [body]
    start, end = body.find("{"), body.rfind("}")
    if 0 <= start < end:
        candidates.append(body[start : end + 1])
    for candidate in candidates:
        try:
            parsed = json.loads(candidate, strict=False)  # raw line breaks inside strings
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def _cut_string(body: str, key: str) -> str | None:
    """The value of `key` in an object cut short, up to where it was cut."""
    found = re.search(r'"' + re.escape(key) + r'"\s*:\s*"', body)
    if found is None:
        return None
    rest = body[found.end() :]
    end, escaped = len(rest), False
    for n, char in enumerate(rest):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            end = n
            break
    piece = rest[:end]
    for trim in range(7):  # drop an escape sequence the cut left incomplete
        try:
            value = json.loads('"' + piece[: len(piece) - trim] + '"', strict=False)
        except ValueError:
            continue
        return str(value)
    return None


def parse_answer(answer: str, language_keys: Sequence[str]) -> Parsed:
    """The translation and the language the model named, from its JSON answer; an object
    cut short keeps what arrived; an answer that is not JSON at all is taken as the text."""
    body = _unfenced(answer.strip())
    obj = _object(body)
    if obj is not None:
        text = next((obj[k] for k in ("text", "translation") if isinstance(obj.get(k), str)), None)
        if text is not None:
            language = next((obj[k] for k in language_keys if obj.get(k)), None)
            return Parsed(text.strip(), language_tag(language))
    elif body.startswith("{"):
        cut = _cut_string(body, "text")
        if cut is not None:
            language = next(
                (v for k in language_keys if (v := _cut_string(body, k)) is not None), None
            )
            return Parsed(cut.strip(), language_tag(language))
    return Parsed(answer.strip(), None)


async def complete(
    http: httpx.AsyncClient,
    ai: AiSettings,
    api_key: str,
    messages: Sequence[dict[str, str]],
    meter: Meter,
    *,
    max_tokens: int,
) -> str:
    """The model's whole answer to `messages`, counted in `meter` as it arrives."""
    deltas = stream_chat(
        http, ai.base_url, api_key, ai.model, messages, max_tokens=max_tokens, timeout=TIMEOUT_S
    )
    pieces: list[str] = []
    try:
        async with asyncio.timeout(TOTAL_S), contextlib.aclosing(deltas):
            async for delta in deltas:
                if isinstance(delta, TextDelta):
                    meter.add(delta.text)
                    pieces.append(delta.text)
                else:
                    meter.usage = delta
    except TimeoutError:
        raise ProviderError(
            0,
            "provider_timeout",
            f"the model provider did not finish within {TOTAL_S:g} seconds; try again",
            retryable=True,
        ) from None
    except ProviderError as exc:
        if exc.status and meter.usage is None and not meter.received_chars:
            meter.refused = True  # refused before generating anything: not charged
        raise
    return "".join(pieces)


async def translate(
    http: httpx.AsyncClient,
    ws: PydanticObjectId,
    user_id: str,
    ai: AiSettings,
    api_key: str,
    messages: list[dict[str, str]],
    *,
    max_tokens: int,
    language_keys: Sequence[str],
) -> Parsed:
    """One metered translation: the model's answer, read; a ledger row whatever happens."""
    meter = Meter(sent_chars=sum(len(m["content"]) for m in messages))
    outcome: AiOutcome = "cancelled"
    code: str | None = None
    try:
        answer = await complete(http, ai, api_key, messages, meter, max_tokens=max_tokens)
        parsed = parse_answer(answer, language_keys)
        if not parsed.text:
            raise ProviderError(
                0,
                "provider_empty_answer",
                "the model gave back no translation; try again",
                retryable=True,
            )
        outcome = "ok"
        return parsed
    except ProviderError as exc:
        log.info("ai translate for workspace %s failed: %s", ws, exc.code)
        outcome, code = "error", exc.code
        raise ProviderFailed(exc) from None
    except Exception:
        outcome, code = "error", "internal"
        raise
    finally:
        await asyncio.shield(_record(ws, user_id, ai, meter, outcome, code))


async def _record(
    ws: PydanticObjectId,
    user_id: str,
    ai: AiSettings,
    meter: Meter,
    outcome: AiOutcome,
    code: str | None,
) -> None:
    try:
        await record(ws, user_id, "translate", ai, meter, outcome, code)
    except Exception:
        log.exception("could not record an AI call in the ledger")
