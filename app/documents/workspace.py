from __future__ import annotations

import secrets
from datetime import datetime

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field

from app.documents.common import utcnow


class EmailChannel(BaseModel):
    """Email through Postmark. Postmark calls the inbound webhook with basic-auth
    credentials in its URL; Tandem keeps the user and the password's SHA-256 only."""

    inbound_user: str
    inbound_password_sha256: str
    enabled_at: datetime = Field(default_factory=utcnow)
    # Sending: the Postmark server's API token, the From address, and the address whose
    # plus-addresses route customers' answers back through the inbound webhook.
    server_token: str | None = None
    from_address: str | None = None
    reply_address: str | None = None


class WhatsAppTemplate(BaseModel):
    """An approved message template, as last synced from the WhatsApp Business Account."""

    name: str
    language: str
    category: str = ""
    body_text: str = ""
    param_count: int = 0


class WhatsAppChannel(BaseModel):
    """A WhatsApp Business number on Meta's Cloud API. Meta signs each webhook with the
    app secret; the verify token answers its subscription check; the access token sends."""

    phone_number_id: str
    waba_id: str
    access_token: str
    app_secret: str
    verify_token: str = Field(default_factory=lambda: secrets.token_urlsafe(24))
    enabled_at: datetime = Field(default_factory=utcnow)
    templates: list[WhatsAppTemplate] = Field(default_factory=list)
    templates_synced_at: datetime | None = None
    templates_error: str | None = None  # why the last sync failed, until one succeeds


class AiSettings(BaseModel):
    """What AI does in the workspace. Off: no suggestions, and no request to any model."""

    enabled: bool = True
    suggestions: bool = True  # answers from the workspace's own articles, made in process
    # Drafts and summaries: an OpenAI-compatible chat-completions endpoint and its key. The
    # key is only ever sent to `base_url`; no API answer contains it.
    base_url: str = "https://openrouter.ai/api/v1"
    model: str = "openai/gpt-4o-mini"
    api_key: str | None = None
    # Spending per calendar month (UTC), in the provider's currency units: over it, model
    # calls are refused until the month turns or an owner raises it.
    monthly_credit_cap: float = 20.0
    # Prices per 1,000 tokens, used when the provider does not report a call's cost.
    price_per_1k_input: float = 0.00015
    price_per_1k_output: float = 0.0006


class DayHours(BaseModel):
    """One weekday's opening hours, "HH:MM" in the workspace's time zone; close after open."""

    open: str
    close: str


class Workspace(Document):
    """A tenant. Its own id is the `workspace_id` every other document carries."""

    name: str
    slug: str
    allowed_origins: list[str] = Field(default_factory=list)
    widget_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    widget_reply_time: str = "a few hours"  # shown to visitors when no agent is online
    widget_greeting: str = "Hi! How can we help?"
    timezone: str = "UTC"  # IANA name: where "today" begins on the dashboard
    # Weekly opening hours by weekday ("mon" … "sun"); a day left out is closed. Empty: no
    # hours set.
    business_hours: dict[str, DayHours] = Field(default_factory=dict)
    email: EmailChannel | None = None  # None until an owner connects a Postmark server
    whatsapp: WhatsAppChannel | None = None  # None until an owner connects a number
    ai: AiSettings = Field(default_factory=AiSettings)
    created_at: datetime = Field(default_factory=utcnow)
    # Cancelled by its owner: read-only from `cancelled_at`, restorable until `purge_after`,
    # when the worker deletes everything (app/services/lifecycle.py, workspace_purge.py).
    cancelled_at: datetime | None = None
    purge_after: datetime | None = None
    purging_since: datetime | None = None  # the purge has begun: no restoring any more

    class Settings:
        name = "workspaces"
        indexes = [pymongo.IndexModel([("slug", 1)], unique=True)]


class Team(Document):
    workspace_id: PydanticObjectId
    name: str
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "teams"
        indexes = [pymongo.IndexModel([("workspace_id", 1), ("name", 1)], unique=True)]


class Counter(Document):
    """Per-workspace sequences as older versions kept them: ticket numbers now come from a
    Redis counter (app/actions/numbers.py), which starts above this one's value."""

    id: str  # type: ignore[assignment]
    value: int = 0

    class Settings:
        name = "counters"
