"""A real Tandem server process and worker, pointed at local servers that speak the email
and WhatsApp providers' APIs: the channels end to end, as in production."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.channels.fake_graph import FakeGraph, fake_graph
from tests.channels.fake_postmark import FakePostmark, fake_postmark
from tests.servers import tandem_processes

# A killed worker's job is taken over this fast (production waits 30 s).
CLAIM_IDLE = "1.5"


@pytest.fixture(scope="module")
def postmark_api() -> Iterator[FakePostmark]:
    with fake_postmark() as fake:
        yield fake


@pytest.fixture(scope="module")
def graph_api() -> Iterator[FakeGraph]:
    with fake_graph() as fake:
        yield fake


@pytest.fixture(scope="module")
def provider_env(postmark_api: FakePostmark, graph_api: FakeGraph) -> dict[str, str]:
    return {
        "POSTMARK_API_URL": postmark_api.url,
        "WHATSAPP_GRAPH_URL": graph_api.url,
        "TANDEM_JOB_CLAIM_IDLE": CLAIM_IDLE,
    }


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest,
    provider_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    with tandem_processes(
        1,
        mongodb_url=request.getfixturevalue("mongodb_url"),
        redis_url=request.getfixturevalue("redis_url"),
        db_name=request.getfixturevalue("db_name"),
        log_dir=tmp_path_factory.mktemp("server-logs"),
        extra_env=provider_env,
    ) as urls:
        yield urls[0]


@pytest.fixture
def worker_env(
    mongodb_url: str, redis_url: str, db_name: str, provider_env: dict[str, str], tmp_path: Path
) -> dict[str, object]:
    """What `tests.servers.start_worker` needs for a worker on this module's providers."""
    return {
        "mongodb_url": mongodb_url,
        "redis_url": redis_url,
        "db_name": db_name,
        "log_path": tmp_path / "worker.log",
        "extra_env": provider_env,
    }
