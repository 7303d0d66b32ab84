"""Security headers on every answer, by what the answer is.

- The agent app (`/app/…`, and `/` which leads there): a Content Security Policy under which
  it loads nothing from elsewhere and runs only its own scripts (no inline script, no eval),
  may not be framed, and talks only to this origin (its API and its live socket). Inline
  styles stay allowed: the sandboxed frames that show a whole email or an article preview
  carry their own small stylesheet, and a frame made from `srcdoc` inherits this policy.
  Images may come from https, for those previews; data and blob URLs serve attachments shown
  before upload.
- The API (`/api/…`): JSON is never a document to render or frame.
- `widget.js` is loaded by customers' sites from here: it may be embedded cross-origin.
- Everything: no sniffing of types, a referrer policy, and HSTS when Tandem is served over
  https (`TANDEM_PUBLIC_URL`).

A header an answer already carries (a help-center page's own CSP, a file's sandbox) is kept.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

APP_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
API_CSP: Final = "default-src 'none'; frame-ancestors 'none'"
HSTS: Final = "max-age=31536000; includeSubDomains"


def headers_for(path: str, https: bool) -> dict[str, str]:
    """The security headers an answer at `path` gets."""
    out = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    if path.startswith("/api/"):
        out["Content-Security-Policy"] = API_CSP
        out["Referrer-Policy"] = "no-referrer"
    elif path == "/widget.js":
        out["Cross-Origin-Resource-Policy"] = "cross-origin"
    elif path == "/" or path.startswith("/app"):
        out["Content-Security-Policy"] = APP_CSP
        out["X-Frame-Options"] = "DENY"
        out["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if https:
        out["Strict-Transport-Security"] = HSTS
    return out


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = headers_for(scope["path"], self.https)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, sending)
