"""Socket tokens, emails and search text in URLs never reach the logs: a real `tandem serve`
logs each request with its path and parameter names, every query value redacted."""

from __future__ import annotations

import asyncio
import io
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.devservices.process import free_port
from app.logredact import QueryRedaction, redact
from app.mail.compose import AccountMail
from app.mail.send import log_only
from tests.live.test_two_processes import signed_up, socket_token
from tests.servers import ROOT, tandem_env

pytestmark = pytest.mark.processes
SECRET = "secret123"
EMAIL = "jane@example.com"


SERVE = [sys.executable, "-m", "app.cli", "serve", "--no-worker"]
UVICORN = [sys.executable, "-m", "uvicorn", "app.main:app_from_env", "--factory"]


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(SERVE, id="tandem-serve"),
        pytest.param([*UVICORN, "--log-level", "info"], id="uvicorn-itself"),
    ],
)
def served(
    request: pytest.FixtureRequest,
    mongodb_url: str,
    redis_url: str,
    db_name: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Path]]:
    """Tandem as the Procfile runs it (`tandem serve`), or as uvicorn runs its factory, at info
    level; its URL and its output."""
    port = free_port()
    output = tmp_path_factory.mktemp("serve") / "output.log"
    env = tandem_env(
        mongodb_url,
        redis_url,
        db_name,
        TANDEM_LOG_LEVEL="info",
        TANDEM_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    command: list[str] = request.param
    with output.open("wb") as log:
        server = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, output.read_text()
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.1)
        yield url, output
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


async def test_query_values_never_reach_the_servers_output(served: tuple[str, Path]) -> None:
    url, output = served
    api = await signed_up(url)
    searched = await api.get("/contacts", params={"q": EMAIL})
    assert searched.status_code == 200, searched.text
    refused = await api.get("/contacts", params={"q": EMAIL, "token": SECRET})
    assert refused.status_code == 422, refused.text
    looked_up = await api.get("/contacts/lookup", params={"email": EMAIL})
    assert looked_up.status_code == 404
    token = await socket_token(api)
    live = url.replace("http://", "ws://") + "/live"
    async with connect(f"{live}?token={token}", proxy=None) as socket:
        await socket.close()
    with pytest.raises(InvalidStatus):  # a token that is no token is refused
        async with connect(f"{live}?token={SECRET}", proxy=None):
            pass
    await api.aclose()

    logged = ""
    for _ in range(50):  # the server writes its lines as it answers; give it a moment
        logged = output.read_text()
        if logged.count("/live?token=[redacted]") >= 2:
            break
        await asyncio.sleep(0.1)
    for value in (SECRET, EMAIL, "jane%40example.com", token):
        assert value not in logged
    # Each request is still there, by path and parameter names.
    assert "/api/v1/contacts?q=[redacted] " in logged
    assert "/api/v1/contacts?q=[redacted]&token=[redacted]" in logged
    assert "/api/v1/contacts/lookup?email=[redacted]" in logged
    assert logged.count("/live?token=[redacted]") >= 2


def line(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    record = logging.LogRecord("tandem.x", logging.INFO, __file__, 1, message, args, None)
    record.exc_info = exc_info  # type: ignore[assignment]
    QueryRedaction().filter(record)
    return record


def test_every_kind_of_log_line_is_redacted() -> None:
    url = httpx.URL("https://api.example/v1/search?q=jane@example.com&page=2#top")
    assert line("GET %s", url).getMessage() == (
        "GET https://api.example/v1/search?q=[redacted]&page=[redacted]#top"
    )

    baked = line("fetching /x?token=abc== for %s", "ada")
    assert baked.getMessage() == "fetching /x?token=[redacted] for ada"

    # Nothing else changes: questions, numbers, a path without a query.
    assert redact("Is anyone there? I paid 12 EUR at /shop?") == (
        "Is anyone there? I paid 12 EUR at /shop?"
    )
    try:
        raise ValueError("bad status for url 'https://hooks.example/in?sig=s3cr3t'")
    except ValueError:
        failed = line("delivery failed", exc_info=sys.exc_info())
    written = logging.Formatter().format(failed)
    assert "s3cr3t" not in written
    assert "?sig=[redacted]" in written


def test_the_log_only_mailer_keeps_its_links_whole_for_the_operator() -> None:
    mail = AccountMail(
        to="ana@example.com",
        subject="Your workspaces",
        text="Log in: https://tandem.example/app/#/login?workspace=acme",
        workspace_id=None,
    )
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(QueryRedaction())
    logger = logging.getLogger("tandem.mail")
    logger.addHandler(handler)
    try:
        log_only(mail)
    finally:
        logger.removeHandler(handler)
    assert "?workspace=acme" in handler.stream.getvalue()
