"""The webhooks a run posts: message `i` of a run is a signed WhatsApp Cloud API webhook (even
`i`) or a Postmark inbound email (odd `i`), from one of the run's customers in turn, its text
unique (`ingest <run> <i>: …`) so that the socket event it causes can be told apart."""

from __future__ import annotations

import re
import zlib

from bench.ingest.setup import Target
from tests.channels import postmark_payloads as pm
from tests.channels import whatsapp_payloads as wa

WHATSAPP, EMAIL = "whatsapp", "email"
KEY = re.compile(r"^ingest (\S+) (\d+):")


def channel_of(i: int) -> str:
    return WHATSAPP if i % 2 == 0 else EMAIL


def text_of(run: str, i: int) -> str:
    return f"ingest {run} {i}: my order has not arrived yet, can you check?"


def key_of(text: str) -> tuple[str, int] | None:
    """The run and message number a message text was posted with."""
    found = KEY.match(text)
    return (found.group(1), int(found.group(2))) if found else None


def request(target: Target, run: str, i: int, customers: int) -> tuple[str, bytes, dict[str, str]]:
    """Path, body and headers of message `i`."""
    customer = (i // 2) % customers  # each customer writes on both channels
    if channel_of(i) == WHATSAPP:
        wa_id = f"1650{zlib.crc32(run.encode()) % 1000:03d}{customer:05d}"
        body = wa.encode(
            wa.webhook(
                messages=[wa.text(text_of(run, i), sender=wa_id)],
                contacts=[wa.contact(wa_id, f"Customer {customer}")],
            )
        )
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": wa.sign(body, target.app_secret),
        }
        return target.whatsapp_path, body, headers
    email = pm.inbound_email(
        sender=f"customer{customer}.{run}@example.com",
        name=f"Customer {customer}",
        subject=f"Order {customer} ({run})",
        text=text_of(run, i),
    )
    headers = {"Content-Type": "application/json", "Authorization": target.email_authorization}
    return target.email_path, wa.encode(email), headers
