"""Postmark's inbound JSON parsed into a channel-neutral message, and its webhook auth."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from channels import postmark
from tests.channels.postmark_payloads import attachment, inbound_email

DIGEST = hashlib.sha256(b"s3cret").hexdigest()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_an_inbound_email_becomes_a_message_from_its_sender() -> None:
    payload = inbound_email(
        message_id="pm-1",
        rfc_id="abc@mail.example.com",
        in_reply_to="t1@tandem.example",
        references=["t0@tandem.example", "t1@tandem.example"],
        mailbox_hash="6b0c0000000000000000000a",
        attachments=[attachment()],
    )
    parsed = postmark.parse_inbound("ws1", json.dumps(payload).encode())
    assert parsed.identifier == ("email", "carla@example.com")
    assert parsed.sender_name == "Carla Cliente"
    assert parsed.text == "Hi, my order never arrived."  # the quoted history stripped
    assert parsed.subject == "Order 1234 never arrived"
    assert parsed.provider_message_id == "postmark:pm-1"
    assert parsed.message_ref == "abc@mail.example.com"
    # In-Reply-To first, then References nearest first, each once.
    assert parsed.reply_to_refs == ("t1@tandem.example", "t0@tandem.example")
    assert parsed.thread_token == "6b0c0000000000000000000a"
    assert parsed.attachments[0]["filename"] == "receipt.txt"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"Subject": "no sender", "MessageID": "x"}).encode(),
        json.dumps({**inbound_email(), "MessageID": ""}).encode(),
        json.dumps({**inbound_email(), "Headers": "not a list"}).encode(),
    ],
)
def test_a_payload_that_can_never_be_processed_is_unprocessable(body: bytes) -> None:
    with pytest.raises(postmark.Unprocessable):
        postmark.parse_inbound("ws1", body)


def test_a_mailbox_hash_that_is_no_token_is_ignored() -> None:
    payload = inbound_email(mailbox_hash="../../etc")
    assert postmark.parse_inbound("ws1", json.dumps(payload).encode()).thread_token is None


def test_webhook_credentials_are_checked() -> None:
    assert postmark.credentials_ok(basic("postmark", "s3cret"), "postmark", DIGEST)
    assert not postmark.credentials_ok(basic("postmark", "wrong"), "postmark", DIGEST)
    assert not postmark.credentials_ok(basic("other", "s3cret"), "postmark", DIGEST)
    assert not postmark.credentials_ok(None, "postmark", DIGEST)
    assert not postmark.credentials_ok("Basic !!!", "postmark", DIGEST)
    assert not postmark.credentials_ok("Bearer s3cret", "postmark", DIGEST)


def test_thread_subjects_ignore_reply_prefixes() -> None:
    assert postmark.thread_subject("RE: Fwd:  Order 1234") == postmark.thread_subject("order 1234")
    assert postmark.thread_subject("Re[2]: Order") == "order"
