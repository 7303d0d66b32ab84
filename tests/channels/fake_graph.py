"""A local HTTP server that speaks the parts of Meta's Graph API Tandem uses for WhatsApp:
sending messages (answering as told: a wamid, a Graph error, a 429, a 5xx), describing and
serving media, and listing message templates. Every call needs the bearer token."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.channels.whatsapp_payloads import graph_error, template
from tests.local_server import serving

_VERSION = re.compile(r"v\d+\.\d+")


@dataclass
class Recorded:
    method: str
    path: str
    token: str
    body: dict[str, Any] | None = None


@dataclass
class Media:
    data: bytes
    mime_type: str


@dataclass
class FakeGraph:
    url: str = ""
    access_token: str = "EAAG-test-access-token"
    # Every request, in order; and the bodies of message sends with their phone number ids.
    requests: list[Recorded] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    phone_number_ids: list[str] = field(default_factory=list)
    # What to answer the next message sends, in order; a wamid once they run out.
    script: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    media: dict[str, Media] = field(default_factory=dict)
    templates: list[dict[str, Any]] = field(
        default_factory=lambda: [
            template(),
            template("summer_sale", "Hi {{1}}, 20% off!", category="MARKETING", status="PENDING"),
        ]
    )
    wamids: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)  # media ids of uploaded files, in order

    def add_media(self, media_id: str, data: bytes, mime_type: str) -> None:
        self.media[media_id] = Media(data, mime_type)

    def fail(self, code: int, message: str, details: str = "", status: int = 400) -> None:
        """Answer the next send with a Graph error."""
        self.script.append((status, graph_error(code, message, details)))

    @property
    def tokens(self) -> list[str]:
        return [r.token for r in self.requests]

    def app(self) -> Starlette:
        async def guard(request: Request, body: dict[str, Any] | None = None) -> Response | None:
            """Record the request; an error answer when the version or token is wrong."""
            auth = request.headers.get("authorization", "")
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            self.requests.append(Recorded(request.method, request.url.path, token, body))
            version = request.path_params.get("version")
            if version is not None and not _VERSION.fullmatch(version):
                return JSONResponse(
                    graph_error(2500, f"Unknown path components: /{version}"), status_code=400
                )
            if token != self.access_token:
                answer = graph_error(190, "Invalid OAuth access token - Cannot parse access token")
                return JSONResponse(answer, status_code=401)
            return None

        async def messages(request: Request) -> Response:
            body = await request.json()
            if (refused := await guard(request, body)) is not None:
                return refused
            self.sent.append(body)
            self.phone_number_ids.append(request.path_params["phone_number_id"])
            if self.script:
                status, answer = self.script.pop(0)
                return JSONResponse(answer, status_code=status)
            to = str(body.get("to", ""))
            wamid = "wamid." + base64.b64encode(uuid.uuid4().bytes * 2).decode()
            self.wamids.append(wamid)
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": re.sub(r"\D", "", to)}],
                    "messages": [{"id": wamid}],
                }
            )

        async def media_info(request: Request) -> Response:
            if (refused := await guard(request)) is not None:
                return refused
            media_id = request.path_params["media_id"]
            media = self.media.get(media_id)
            if media is None:
                return _missing(media_id)
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "url": f"{self.url}/media-bytes/{media_id}",
                    "mime_type": media.mime_type,
                    "sha256": hashlib.sha256(media.data).hexdigest(),
                    "file_size": len(media.data),
                    "id": media_id,
                }
            )

        async def media_bytes(request: Request) -> Response:
            if (refused := await guard(request)) is not None:
                return refused
            media = self.media.get(request.path_params["media_id"])
            if media is None:
                return Response(status_code=404)
            return Response(media.data, media_type=media.mime_type)

        async def upload_media(request: Request) -> Response:
            if (refused := await guard(request)) is not None:
                return refused
            form = _form(request.headers.get("content-type", ""), await request.body())
            if form.get("messaging_product") != b"whatsapp" or "file" not in form:
                return JSONResponse(graph_error(100, "Invalid parameter"), status_code=400)
            media_id = str(10**15 + len(self.media) + 1)
            kind = form.get("type", b"application/octet-stream").decode()
            self.add_media(media_id, form["file"], kind)
            self.uploads.append(media_id)
            return JSONResponse({"id": media_id})

        async def message_templates(request: Request) -> Response:
            if (refused := await guard(request)) is not None:
                return refused
            return JSONResponse({"data": self.templates, "paging": {}})

        return Starlette(
            routes=[
                Route("/media-bytes/{media_id}", media_bytes, methods=["GET"]),
                Route("/{version}/{phone_number_id}/messages", messages, methods=["POST"]),
                Route("/{version}/{phone_number_id}/media", upload_media, methods=["POST"]),
                Route("/{version}/{waba_id}/message_templates", message_templates),
                Route("/{version}/{media_id}", media_info, methods=["GET"]),
            ]
        )


def _form(content_type: str, body: bytes) -> dict[str, bytes]:
    """A multipart/form-data body's fields by name."""
    if not content_type.startswith("multipart/form-data"):
        return {}
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    parsed = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, bytes] = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload
    return fields


def _missing(object_id: str) -> JSONResponse:
    answer = graph_error(
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        type_="GraphMethodException",
    )
    return JSONResponse(answer, status_code=400)


@contextmanager
def fake_graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    with serving(fake.app()) as url:
        fake.url = url
        yield fake
