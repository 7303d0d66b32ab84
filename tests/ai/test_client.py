"""The chat-completions client against a local server speaking OpenAI's streaming format:
pieces then usage, each failure as one typed error, and an upstream request that ends when
its consumer stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from app.ai.client import Delta, ProviderError, TextDelta, Usage, new_http, stream_chat
from app.devservices.process import free_port
from tests.ai.fake_openai import FakeOpenAI, Reply, fake_openai

MESSAGES = [{"role": "user", "content": "Where is my parcel?"}]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = new_http(["127.0.0.1"])  # the local fake provider, as an allowed private host
    yield client
    await client.aclose()


def chat(http: httpx.AsyncClient, base_url: str, timeout: float = 5.0) -> AsyncIterator[Delta]:
    return stream_chat(
        http, base_url, "sk-test", "openai/gpt-4o-mini", MESSAGES, max_tokens=50, timeout=timeout
    )


async def collect(deltas: AsyncIterator[Delta]) -> list[Delta]:
    return [d async for d in deltas]


async def test_pieces_then_usage(fake: FakeOpenAI, http: httpx.AsyncClient) -> None:
    got = await collect(chat(http, fake.url))
    assert got == [
        TextDelta("Hello"),
        TextDelta(" there"),
        TextDelta(", friend."),
        Usage(input_tokens=120, output_tokens=7, cost=0.0012),
    ]
    sent = fake.requests[-1]
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["max_tokens"] == 50
    assert sent["model"] == "openai/gpt-4o-mini"
    assert sent["messages"] == MESSAGES
    assert fake.keys[-1] == "Bearer sk-test"


async def test_no_usage_is_said(fake: FakeOpenAI, http: httpx.AsyncClient) -> None:
    fake.script.append(Reply(pieces=["Hi"], usage=None))
    got = await collect(chat(http, fake.url))
    assert got == [TextDelta("Hi"), Usage(reported=False)]


@pytest.mark.parametrize(
    ("status", "code", "retryable", "words"),
    [
        (401, "provider_auth", False, "API key"),
        (402, "provider_credits", False, "out of credits"),
        (429, "provider_rate_limited", True, "rate limiting"),
        (500, "provider_unavailable", True, "failed (500)"),
        (503, "provider_unavailable", True, "failed (503)"),
        (400, "provider_refused", False, "refused the request (400)"),
    ],
)
async def test_error_statuses(
    fake: FakeOpenAI,
    http: httpx.AsyncClient,
    status: int,
    code: str,
    retryable: bool,
    words: str,
) -> None:
    fake.script.append(Reply(status=status, error={"error": {"message": "No way", "code": status}}))
    with pytest.raises(ProviderError) as caught:
        await collect(chat(http, fake.url))
    error = caught.value
    assert (error.status, error.code, error.retryable) == (status, code, retryable)
    assert words in error.message
    assert "No way" in error.message  # the provider's own words, for the owner to act on


async def test_a_stream_that_dies_midway(fake: FakeOpenAI, http: httpx.AsyncClient) -> None:
    fake.script.append(Reply(die_after=1))
    got: list[Delta] = []

    async def consume() -> None:
        async for delta in chat(http, fake.url):
            got.append(delta)

    with pytest.raises(ProviderError) as caught:
        await consume()
    assert got == [TextDelta("Hello")]
    assert (caught.value.code, caught.value.status, caught.value.retryable) == (
        "provider_stream_broken",
        0,
        True,
    )


async def test_an_error_inside_the_stream() -> None:
    """A provider that fails after answering 200 (OpenRouter does) sends the error as a chunk."""

    async def handler(request: httpx.Request) -> httpx.Response:
        body = b'data: {"error": {"code": 502, "message": "upstream model crashed"}}\n\n'
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as mocked:
        with pytest.raises(ProviderError) as caught:
            await collect(chat(mocked, "http://provider.test/v1"))
    assert caught.value.code == "provider_unavailable"
    assert "upstream model crashed" in caught.value.message


async def test_a_slow_provider_times_out(fake: FakeOpenAI, http: httpx.AsyncClient) -> None:
    fake.script.append(Reply(delay=1.0))
    with pytest.raises(ProviderError) as caught:
        await collect(chat(http, fake.url, timeout=0.3))
    assert (caught.value.code, caught.value.retryable) == ("provider_timeout", True)
    assert "0.3 seconds" in caught.value.message


async def test_an_unreachable_provider(http: httpx.AsyncClient) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(chat(http, f"http://127.0.0.1:{free_port()}/v1"))
    assert (caught.value.code, caught.value.status) == ("provider_unreachable", 0)


async def eventually_gone(fake: FakeOpenAI) -> None:
    for _ in range(200):
        if fake.client_gone.is_set():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the provider never saw the request end")


async def test_stopping_early_ends_the_upstream_request(
    fake: FakeOpenAI, http: httpx.AsyncClient
) -> None:
    fake.client_gone.clear()
    completed = fake.completed
    fake.script.append(Reply(pieces=["a"] * 50, delay=0.1))
    deltas = chat(http, fake.url)
    async with contextlib.aclosing(deltas):
        async for delta in deltas:
            assert delta == TextDelta("a")
            break
    await eventually_gone(fake)
    assert fake.completed == completed


async def test_cancelling_the_task_ends_the_upstream_request(
    fake: FakeOpenAI, http: httpx.AsyncClient
) -> None:
    fake.client_gone.clear()
    fake.script.append(Reply(pieces=["a"] * 50, delay=0.1))
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in chat(http, fake.url):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually_gone(fake)
