"""Model endpoints may only be on the public internet, unless the operator allows a private one.

A workspace owner sets the URL that drafts, summaries and translations are sent to, and the
answer comes back to an agent: without a check, that URL could name the machine's own
services, a cloud metadata address or anything else on the private network Tandem runs in.
So every model request is checked where it leaves: the endpoint's name is resolved, and the
request goes to an address checked to be public — pinned, so a name that resolves again to a
private address between the check and the connection (DNS rebinding) gains nothing. TLS still
verifies the certificate against the name.

Operators running a model on their own network (Ollama, vLLM) list it in
`TANDEM_AI_PRIVATE_HOSTS`: `host` or `host:port`, comma-separated, compared with the URL's host
as written.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}


class EndpointRefused(httpx.TransportError):
    """The endpoint's address is not public and the operator has not allowed it."""


def normalise_hosts(entries: Iterable[str]) -> frozenset[str]:
    """`host` / `host:port` entries, lower-cased, brackets of IPv6 literals dropped."""
    out: set[str] = set()
    for entry in entries:
        entry = entry.strip().lower()
        if entry:
            out.add(entry.replace("[", "").replace("]", ""))
    return frozenset(out)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def allowed_by_name(host: str, port: int, private_hosts: frozenset[str]) -> bool:
    host = host.lower()
    return host in private_hosts or f"{host}:{port}" in private_hosts


async def public_address(host: str, port: int) -> str:
    """An address of `host` that is public; EndpointRefused when any of them is not (a name
    with one private answer among public ones is refused whole)."""
    try:
        return _checked([str(ipaddress.ip_address(host))], host)
    except ValueError:
        pass  # a name, not an address
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
    return _checked([str(info[4][0]) for info in found], host)


def _checked(addresses: list[str], host: str) -> str:
    for address in addresses:
        if not is_public(address):
            raise EndpointRefused(
                f"{host} is a private address ({address}); an operator can allow it with "
                "TANDEM_AI_PRIVATE_HOSTS"
            )
    return addresses[0]


async def refusal(url: str, private_hosts: frozenset[str]) -> str | None:
    """Why a model endpoint at `url` would be refused, or None. A name that does not resolve
    now is not refused here (each request checks it again)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS.get(parts.scheme, 443)
    if allowed_by_name(host, port, private_hosts):
        return None
    try:
        await public_address(host, port)
    except EndpointRefused as exc:
        return str(exc)
    except httpx.ConnectError:
        return None
    return None


class GuardedTransport(httpx.AsyncBaseTransport):
    """Sends each request to a checked public address of its host (or as it is, when the
    operator allowed the host)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, private_hosts: frozenset[str]) -> None:
        self.inner = inner
        self.private_hosts = private_hosts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        port = url.port or DEFAULT_PORTS.get(url.scheme, 443)
        if not allowed_by_name(url.host, port, self.private_hosts):
            address = await public_address(url.host, port)
            if url.scheme == "https":
                request.extensions["sni_hostname"] = url.host
            request.url = url.copy_with(host=address)  # the Host header keeps the name
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
