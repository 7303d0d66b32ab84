"""Sending account emails, from the worker (`mail.account` jobs).

Where an email goes out: through the workspace's own email channel (its Postmark server)
when the email belongs to a workspace that connected one; else through the server's Postmark
account when the operator set `TANDEM_MAIL_POSTMARK_TOKEN` and `TANDEM_MAIL_FROM`; else it is
written to the log, whole, for the operator to pass on (a server without a mail provider —
a local install, a trial). The log-only mailer says so in every line it writes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import httpx
from bson import ObjectId

from app.documents import Workspace
from app.logredact import KEEP_WHOLE
from app.mail.compose import AccountMail
from app.settings import Settings

log = logging.getLogger("tandem.mail")

MAIL_JOB = "mail.account"
TIMEOUT = 15.0


class MailNotSent(Exception):
    """The provider could not take the email now: the job is retried."""


def payload(mail: AccountMail) -> dict[str, Any]:
    return asdict(mail)


def log_only(mail: AccountMail) -> None:
    log.warning(
        "log-only mailer (no mail provider configured): to=%s subject=%r\n%s",
        mail.to,
        mail.subject,
        mail.text,
        extra={KEEP_WHOLE: True},  # its links are what the operator passes on
    )


async def send_account_mail(
    http: httpx.AsyncClient, settings: Settings, job_payload: dict[str, Any]
) -> str:
    """Send one account email; returns how ("workspace", "server" or "log")."""
    mail = AccountMail(**job_payload)
    token, sender = settings.mail_postmark_token, settings.mail_from
    how = "server"
    if mail.workspace_id and ObjectId.is_valid(mail.workspace_id):
        workspace = await Workspace.get(ObjectId(mail.workspace_id))
        channel = workspace.email if workspace is not None else None
        if channel is not None and channel.server_token and channel.from_address:
            token, sender, how = channel.server_token, channel.from_address, "workspace"
    if not token or not sender:
        log_only(mail)
        return "log"
    body = {
        "From": sender,
        "To": mail.to,
        "Subject": mail.subject,
        "TextBody": mail.text,
        "MessageStream": "outbound",
        "Tag": "account",
    }
    headers = {"X-Postmark-Server-Token": token, "Accept": "application/json"}
    try:
        answer = await http.post(
            f"{settings.postmark_api_url}/email", json=body, headers=headers, timeout=TIMEOUT
        )
    except httpx.HTTPError as exc:
        raise MailNotSent(f"Postmark unreachable: {type(exc).__name__}") from exc
    if answer.status_code != 200:
        if answer.status_code == 422:  # refused for good (a bad address): retrying won't help
            log.warning("account email to %s refused by Postmark: %s", mail.to, answer.text[:200])
            return how
        raise MailNotSent(f"Postmark answered {answer.status_code}")
    log.info("account email %r sent to %s (%s)", mail.subject, mail.to, how)
    return how
