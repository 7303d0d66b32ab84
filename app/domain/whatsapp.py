"""WhatsApp's rules for an agent's reply: the 24-hour customer-service window and templates.

Within 24 hours of the customer's last message any reply may go out; after that, WhatsApp
takes only an approved template (a free-form message fails with 131047). The composer asks
what it may send (`reply_options`), and a reply is checked the same way before it is
stored, so an agent learns why at once rather than from a failure later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.errors import Invalid
from channels.whatsapp import WINDOW_SECONDS, fill_template

WINDOW = timedelta(seconds=WINDOW_SECONDS)
MAX_PARAM_LENGTH = 1024


@dataclass(frozen=True)
class TemplateUse:
    """An approved template an agent sends, with the parameters they filled in."""

    name: str
    language: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnownTemplate:
    name: str
    language: str
    body_text: str
    param_count: int


def window_closes_at(last_customer_message_at: datetime | None) -> datetime | None:
    """When free-form replies stop reaching the customer; None if they never wrote."""
    if last_customer_message_at is None:
        return None
    return last_customer_message_at + WINDOW


def window_open(last_customer_message_at: datetime | None, now: datetime) -> bool:
    closes = window_closes_at(last_customer_message_at)
    return closes is not None and now < closes


def checked_reply(
    text: str | None,
    template: TemplateUse | None,
    *,
    is_open: bool,
    templates: list[KnownTemplate],
    has_files: bool = False,
) -> str:
    """The text a WhatsApp reply shows: the agent's own while the window is open, or an
    approved template filled in. Refused (422) outside the window without a template, for a
    template not approved, or with the wrong number of parameters."""
    if template is None:
        if not is_open:
            raise Invalid(
                "more than 24 hours since the customer's last message: WhatsApp takes only an "
                "approved template now",
                field="template",
                code="needs_template",
            )
        if not text and not has_files:
            raise Invalid("a reply needs text or a file", field="text")
        return text or ""
    known = next(
        (t for t in templates if (t.name, t.language) == (template.name, template.language)),
        None,
    )
    if has_files:
        raise Invalid("a template goes out without files", field="attachments")
    if known is None:
        raise Invalid(
            f"no approved template {template.name!r} in {template.language!r}; sync the "
            "templates if it was approved recently",
            field="template",
            code="unknown_template",
        )
    if len(template.params) != known.param_count:
        raise Invalid(
            f"template {known.name!r} takes {known.param_count} parameters, "
            f"{len(template.params)} given",
            field="template.params",
        )
    if any(not p.strip() or len(p) > MAX_PARAM_LENGTH for p in template.params):
        raise Invalid(
            f"each parameter needs 1 to {MAX_PARAM_LENGTH} characters", field="template.params"
        )
    return fill_template(known.body_text, list(template.params))
