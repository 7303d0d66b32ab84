"""Real Tandem server processes for the session tests: two, so that an ending made through one
must close sockets held by the other."""

from collections.abc import Iterator

import pytest

from tests.live.conftest import running


@pytest.fixture(scope="module")
def servers(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    yield from running(2, request)
