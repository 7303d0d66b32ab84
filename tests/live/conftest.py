"""Real Tandem server processes on the suite's FerretDB and Redis, one set per test module."""

from collections.abc import Iterator

import pytest

from tests.servers import tandem_processes


def running(count: int, request: pytest.FixtureRequest) -> Iterator[list[str]]:
    with tandem_processes(
        count,
        mongodb_url=request.getfixturevalue("mongodb_url"),
        redis_url=request.getfixturevalue("redis_url"),
        db_name=request.getfixturevalue("db_name"),
        log_dir=request.getfixturevalue("tmp_path_factory").mktemp("server-logs"),
    ) as urls:
        yield urls


@pytest.fixture(scope="module")
def servers(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Two processes sharing the store and Redis; their base URLs."""
    yield from running(2, request)


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    """One process; its base URL."""
    for urls in running(1, request):
        yield urls[0]
