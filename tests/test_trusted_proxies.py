"""Forwarded headers are believed only from the proxies the operator names: by default a
client (even one on this machine) cannot choose the address its limits are counted under."""

from __future__ import annotations

import httpx
from starlette.types import Receive, Scope, Send

from app.cli import proxy_settings
from app.settings import Settings
from tests.local_server import serving


async def echo_client(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = str(scope["client"][0]).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def seen_address(settings: Settings) -> str:
    headers, allowed = proxy_settings(settings)  # as `tandem serve` runs uvicorn
    with serving(echo_client, proxy_headers=headers, forwarded_allow_ips=allowed) as url:
        answer = httpx.get(url, headers={"X-Forwarded-For": "203.0.113.9"})
    return answer.text


def test_a_spoofed_forwarded_for_is_ignored_unless_the_proxy_is_trusted() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    assert seen_address(Settings.from_env({})) == "127.0.0.1"
    trusted = Settings.from_env({"TANDEM_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    assert trusted.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    assert seen_address(trusted) == "203.0.113.9"
