"""A streaming client for OpenAI-compatible chat completions (OpenRouter, OpenAI, a local
server): `POST {base_url}/chat/completions` with `stream: true`, read as server-sent events.

It yields each piece of text as it comes, then one `Usage` (the provider's token counts and,
when it reports one, the cost). Every failure is one `ProviderError` with a message an agent
can act on. A consumer that stops iterating, or a task that is cancelled, closes the upstream
response: the provider sees the request end and stops generating.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from app.ai.endpoint_guard import EndpointRefused, GuardedTransport, normalise_hosts

MAX_ERROR_BODY = 4096  # bytes of an error answer read for its message


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    """What the provider counted. `reported` is False when it sent no usage at all."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None  # in the provider's currency units, when it says
    reported: bool = True


Delta = TextDelta | Usage


class ProviderError(Exception):
    """The provider refused or failed. `status` is its HTTP status (0 when there was none:
    a timeout, a refused connection, a stream cut short); `retryable` says whether the same
    request may succeed later."""

    def __init__(self, status: int, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retryable = retryable


def new_http(private_hosts: Iterable[str] = ()) -> httpx.AsyncClient:
    """The client model calls share in a process. Redirects are not followed: the key is
    only ever sent to the configured endpoint. Requests go to public addresses only, or to
    the private hosts the operator listed (app/ai/endpoint_guard.py)."""
    inner = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20)
    )
    return httpx.AsyncClient(
        transport=GuardedTransport(inner, normalise_hosts(private_hosts)),
        follow_redirects=False,
        headers={"User-Agent": "Tandem"},
    )


def _said(body: bytes) -> str:
    """The provider's own words from an error body (`{"error": {"message": …}}`), if any."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:200]
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", ""))[:200]
    if isinstance(error, str):
        return error[:200]
    return ""


def status_error(status: int, body: bytes = b"") -> ProviderError:
    said = _said(body)
    detail = f" (the provider said: {said})" if said else ""
    if status == 401:
        return ProviderError(
            401,
            "provider_auth",
            "the model provider refused the API key; an owner should check it in the AI "
            f"settings{detail}",
            retryable=False,
        )
    if status == 402:
        return ProviderError(
            402,
            "provider_credits",
            f"the account at the model provider is out of credits; top it up there{detail}",
            retryable=False,
        )
    if status == 429:
        return ProviderError(
            429,
            "provider_rate_limited",
            f"the model provider is rate limiting requests; try again in a moment{detail}",
            retryable=True,
        )
    if status >= 500:
        return ProviderError(
            status,
            "provider_unavailable",
            f"the model provider failed ({status}); try again in a moment{detail}",
            retryable=True,
        )
    return ProviderError(
        status,
        "provider_refused",
        f"the model provider refused the request ({status}){detail}",
        retryable=False,
    )


def _broken() -> ProviderError:
    return ProviderError(
        0,
        "provider_stream_broken",
        "the model provider's answer broke off before it was complete; try again",
        retryable=True,
    )


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    cost = raw.get("cost")
    return Usage(
        input_tokens=int(raw.get("prompt_tokens") or 0),
        output_tokens=int(raw.get("completion_tokens") or 0),
        cost=float(cost) if isinstance(cost, int | float) else None,
    )


def _text(chunk: dict[str, Any]) -> str:
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    delta = choices[0].get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


async def _events(response: httpx.Response) -> AsyncIterator[str]:
    """The `data` of each server-sent event; comments and other fields are skipped."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield "\n".join(data)


async def stream_chat(
    http: httpx.AsyncClient,
    base_url: str,
    api_key: str,
    model: str,
    messages: Sequence[dict[str, str]],
    *,
    max_tokens: int,
    timeout: float,  # noqa: ASYNC109  # bounds each wait for a piece, not the whole answer
) -> AsyncGenerator[Delta, None]:
    """The model's answer to `messages`, piece by piece, then its `Usage`. `timeout` bounds
    the connection and each wait for the next piece."""
    payload = {
        "model": model,
        "messages": list(messages),
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "text/event-stream"}
    usage: Usage | None = None
    try:
        async with http.stream(
            "POST",
            base_url.rstrip("/") + "/chat/completions",
            json=payload,
            headers=headers,
            timeout=httpx.Timeout(timeout),
        ) as response:
            if response.status_code != 200:
                body = b""
                async for part in response.aiter_bytes():
                    body += part
                    if len(body) >= MAX_ERROR_BODY:
                        break
                raise status_error(response.status_code, body)
            async for data in _events(response):
                if data.strip() == "[DONE]":
                    yield usage or Usage(reported=False)
                    return
                try:
                    chunk = json.loads(data)
                except ValueError:
                    raise _broken() from None
                if not isinstance(chunk, dict):
                    continue
                if "error" in chunk:  # a failure after the answer began, sent in the stream
                    error = chunk["error"]
                    code = error.get("code") if isinstance(error, dict) else None
                    status = code if isinstance(code, int) and code >= 400 else 502
                    raise status_error(status, json.dumps({"error": error}).encode())
                usage = _usage(chunk.get("usage")) or usage
                text = _text(chunk)
                if text:
                    yield TextDelta(text)
            raise _broken()  # the connection closed before `[DONE]`
    except httpx.TimeoutException:
        raise ProviderError(
            0,
            "provider_timeout",
            f"the model provider did not answer within {timeout:g} seconds; try again",
            retryable=True,
        ) from None
    except (httpx.RemoteProtocolError, httpx.ReadError):
        raise _broken() from None
    except EndpointRefused as exc:
        raise ProviderError(
            0, "provider_not_allowed", f"the model endpoint is not allowed: {exc}", retryable=False
        ) from None
    except httpx.HTTPError as exc:
        raise ProviderError(
            0,
            "provider_unreachable",
            f"could not reach the model provider at {base_url} ({type(exc).__name__})",
            retryable=True,
        ) from None
