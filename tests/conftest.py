"""Session-wide real services: FerretDB and Redis started the same way `tandem serve` does."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette

from app.devservices import LocalServices, local_services
from tests.apiclient import running_app, test_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServices]:
    with local_services(
        ROOT / "var", persist=False, data_dir=tmp_path_factory.mktemp("services")
    ) as running:
        yield running


@pytest.fixture(scope="session")
def mongodb_url(services: LocalServices) -> str:
    assert services.mongodb_url
    return services.mongodb_url


@pytest.fixture(scope="session")
def redis_url(services: LocalServices) -> str:
    assert services.redis_url
    return services.redis_url


@pytest.fixture(scope="module")
def db_name() -> str:
    """A fresh database per test module, so modules never see each other's documents."""
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url, decode_responses=False)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("TANDEM_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
async def app(mongodb_url: str, redis_url: str, db_name: str) -> AsyncIterator[Starlette]:
    """The Tandem app in-process on the suite's FerretDB and Redis, one database per module."""
    async with running_app(test_settings(mongodb_url, redis_url, db_name)) as started:
        yield started
