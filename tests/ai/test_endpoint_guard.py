"""Model endpoints on a private network are refused unless the operator listed them: an owner
cannot point drafts at the machine's own services or a cloud metadata address."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from app.ai.client import ProviderError, new_http, stream_chat
from app.ai.endpoint_guard import GuardedTransport, is_public, normalise_hosts
from tests import apiclient
from tests.ai.fake_openai import FakeOpenAI, fake_openai
from tests.apiclient import running_app, sign_up

MESSAGES = [{"role": "user", "content": "Hello"}]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai() as running:
        yield running


async def first(http: httpx.AsyncClient, base_url: str) -> object:
    deltas = stream_chat(http, base_url, "sk-test", "m", MESSAGES, max_tokens=20, timeout=5)
    try:
        return await anext(deltas)
    finally:
        await deltas.aclose()


async def test_a_private_endpoint_is_refused_before_anything_is_sent(fake: FakeOpenAI) -> None:
    port = httpx.URL(fake.url).port
    before = len(fake.requests)
    async with new_http() as http:
        for url in (fake.url, f"http://localhost:{port}/v1", f"http://[::ffff:127.0.0.1]:{port}"):
            with pytest.raises(ProviderError) as refused:
                await first(http, url)
            assert refused.value.code == "provider_not_allowed"
            assert "TANDEM_AI_PRIVATE_HOSTS" in refused.value.message
    assert len(fake.requests) == before  # nothing reached the server


async def test_an_operator_allows_a_private_host_by_name_or_with_its_port(
    fake: FakeOpenAI,
) -> None:
    port = httpx.URL(fake.url).port
    for allowed in ("127.0.0.1", f"127.0.0.1:{port}", f"LOCALHOST:{port}"):
        async with new_http([allowed]) as http:
            url = fake.url if allowed.startswith("127") else f"http://localhost:{port}/v1"
            assert await first(http, url) is not None
    async with new_http([f"127.0.0.1:{port + 1}"]) as http:  # another port of it is not
        with pytest.raises(ProviderError):
            await first(http, fake.url)


def test_only_global_addresses_count_as_public() -> None:
    private = ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254",
               "100.64.0.1", "0.0.0.0", "::1", "fc00::1", "fe80::1", "::ffff:10.0.0.1",
               "224.0.0.1"]  # fmt: skip
    assert [a for a in private if is_public(a)] == []
    assert is_public("93.184.216.34")
    assert is_public("2606:4700:4700::1111")


async def test_a_public_address_is_used_as_checked_with_the_name_kept() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    transport = GuardedTransport(httpx.MockTransport(answer), normalise_hosts([]))
    async with httpx.AsyncClient(transport=transport) as http:
        await http.get("https://93.184.216.34/v1/models")
    [request] = seen
    assert request.url.host == "93.184.216.34"
    assert request.headers["host"] == "93.184.216.34"


@pytest.fixture
async def strict_app(mongodb_url: str, redis_url: str, db_name: str) -> AsyncIterator[object]:
    settings = apiclient.test_settings(mongodb_url, redis_url, db_name, ai_private_hosts=())
    async with running_app(settings) as app:
        yield app


async def test_an_owner_cannot_save_a_private_endpoint(
    strict_app: object, fake: FakeOpenAI
) -> None:
    owner = await sign_up(strict_app)  # type: ignore[arg-type]
    for url in (
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5:11434/v1",
        fake.url,
        "http://localhost:6379",
    ):
        refused = await owner.patch("/ai/settings", json={"base_url": url})
        assert refused.status_code == 422, url
        error = refused.json()["error"]
        assert error["code"] == "endpoint_not_allowed"
        assert error["details"] == {"field": "base_url"}
    kept = (await owner.get("/ai/settings")).json()
    assert kept["base_url"] == "https://openrouter.ai/api/v1"
    # A public name that cannot be resolved right now is saved (each request checks again).
    saved = await owner.patch("/ai/settings", json={"base_url": "https://llm.invalid/v1"})
    assert saved.status_code == 200, saved.text
    await owner.aclose()
