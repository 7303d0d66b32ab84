"""The workspace a run posts into: an owner signed up, email (Postmark) and WhatsApp connected
through the API as an owner would, and what the load generator and the socket readers need to
reach it, saved as one JSON file."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import msgspec

from tests.channels import whatsapp_payloads as wa

PREFIX = "/api/v1"


class Target(msgspec.Struct, frozen=True):
    apis: list[str]  # http://127.0.0.1:<port> of each Tandem process
    workspace_id: str
    email_path: str  # the inbound webhook's path, from the URL `PUT /channels/email` answered
    email_authorization: str  # `Basic …` from the credentials in that URL
    whatsapp_path: str
    app_secret: str
    cookies: dict[str, str]  # the owner's session, for socket tokens
    csrf: str

    def save(self, path: Path) -> None:
        path.write_bytes(msgspec.json.encode(self))

    @classmethod
    def load(cls, path: Path) -> Target:
        return msgspec.json.decode(path.read_bytes(), type=cls)


def basic_auth(url: str) -> tuple[str, str]:
    """The path of a URL with credentials in it, and the `Authorization` header they make."""
    parts = urlsplit(url)
    if parts.username is None or parts.password is None:
        raise RuntimeError(f"no credentials in the inbound webhook URL {url!r}")
    pair = f"{parts.username}:{parts.password}".encode()
    return parts.path, "Basic " + base64.b64encode(pair).decode()


def prepare(apis: list[str]) -> Target:
    slug = "ingest-" + secrets.token_hex(4)
    app_secret = secrets.token_hex(16)
    with httpx.Client(base_url=apis[0] + PREFIX, timeout=30) as http:
        answer = http.post(
            "/auth/signup",
            json={
                "workspace_name": "Inbound bench",
                "workspace_slug": slug,
                "name": "Bench Owner",
                "email": f"owner@{slug}.example",
                "password": secrets.token_urlsafe(16),
            },
        )
        answer.raise_for_status()
        csrf = answer.json()["csrf_token"]
        http.headers["X-CSRF-Token"] = csrf
        me = http.get("/me")
        me.raise_for_status()
        workspace_id = str(me.json()["workspace"]["id"])
        email = http.put("/channels/email")
        email.raise_for_status()
        email_path, authorization = basic_auth(email.json()["inbound_webhook_url"])
        whatsapp = http.put(
            "/channels/whatsapp",
            json={
                "phone_number_id": wa.PHONE_NUMBER_ID,
                "waba_id": wa.WABA_ID,
                "access_token": "EAAG-bench-token",
                "app_secret": app_secret,
            },
        )
        whatsapp.raise_for_status()
        whatsapp_url = whatsapp.json()["webhook_url"]
        cookies = dict(http.cookies.items())
    return Target(
        apis=apis,
        workspace_id=workspace_id,
        email_path=email_path,
        email_authorization=authorization,
        whatsapp_path=urlsplit(whatsapp_url).path,
        app_secret=app_secret,
        cookies=cookies,
        csrf=csrf,
    )
