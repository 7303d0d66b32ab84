"""Real Chromium (Debian's, driven by Playwright), a real Tandem server process, and a second
origin that plays a customer's website."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from app.devservices.process import free_port
from tests.servers import tandem_processes

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="module")
def tandem_url(
    mongodb_url: str, redis_url: str, db_name: str, artifacts_dir: Path
) -> Iterator[str]:
    """One real uvicorn process serving Tandem (API, /live, static apps), on 127.0.0.1."""
    with tandem_processes(
        1,
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        db_name=db_name,
        log_dir=artifacts_dir / "logs" / db_name,
    ) as urls:
        yield urls[0]


@dataclass(frozen=True)
class HostSite:
    """A customer's website on its own origin (`localhost`, another port): files written into
    `directory` are served at `url`."""

    url: str
    directory: Path

    def page(self, name: str, html: str) -> str:
        (self.directory / name).write_text(html, encoding="utf-8")
        return f"{self.url}/{name}"


@pytest.fixture(scope="module")
def host_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostSite]:
    directory = tmp_path_factory.mktemp("host-site")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the host-site server did not start") from None
                time.sleep(0.1)
        yield HostSite(url=url, directory=directory)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
