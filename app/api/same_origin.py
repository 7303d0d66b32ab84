"""Requests that change who is logged in may only come from Tandem's own pages.

Logging in, out, signing up, joining and the account links take no CSRF token (there is no
session yet, or it is the one being ended), so another site could make a visitor's browser
post them (login CSRF, forced logout). Browsers name the page a request comes from in
`Origin`; one that is not this server's (its public URL or the address it was reached at) is
refused, and a login or sign-up must be JSON — which no cross-site form can send without
Tandem's consent (it allows no cross-origin requests here). Programs that send no `Origin`
(curl, integrations) are unaffected.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.requests import Request

from app.domain.errors import Forbidden, UnsupportedMediaType

log = logging.getLogger("tandem.auth")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def require_same_origin(request: Request, public_url: str, *, json_body: bool = False) -> None:
    origin = request.headers.get("origin")
    if origin is not None:
        own = {origin_of(public_url), origin_of(str(request.base_url))}
        if origin.lower() not in own:
            log.warning("refused %s %s from %s", request.method, request.url.path, origin)
            raise Forbidden(
                "this request must come from Tandem's own pages", code="cross_site_request"
            )
    if json_body:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise UnsupportedMediaType("send this as application/json")
