"""WhatsApp Cloud API webhooks parsed into channel-neutral messages and delivery statuses,
Graph API requests rendered and answers classified, and the fake Graph server's formats."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from channels import whatsapp
from channels.adapter import Inbound
from tests.channels import whatsapp_payloads as wa
from tests.channels.fake_graph import fake_graph


def parse(payload: dict[str, Any]) -> whatsapp.Webhook:
    return whatsapp.parse_webhook(wa.encode(payload), "ws1")


def one(msg: dict[str, Any]) -> Inbound:
    parsed = parse(wa.webhook(messages=[msg])).messages
    assert len(parsed) == 1
    return parsed[0]


# -- verification -----------------------------------------------------------------------------


def test_a_signature_of_the_raw_body_with_the_app_secret_is_accepted() -> None:
    body = wa.encode(wa.webhook(messages=[wa.text()]))
    header = wa.sign(body)
    assert whatsapp.signature_ok(body, header, wa.APP_SECRET)
    assert whatsapp.signature_ok(body, header.upper().replace("SHA256=", "sha256="), wa.APP_SECRET)


def test_one_changed_byte_breaks_the_signature() -> None:
    body = wa.encode(wa.webhook(messages=[wa.text("Refund please")]))
    header = wa.sign(body)
    tampered = body.replace(b"Refund", b"Refunc")
    assert len(tampered) == len(body)
    assert not whatsapp.signature_ok(tampered, header, wa.APP_SECRET)
    assert not whatsapp.signature_ok(body, header, "another-secret")


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha1=" + "0" * 40, "sha256=xyz", "sha256=" + "0" * 63, "0" * 64],
)
def test_a_missing_or_malformed_signature_is_refused(header: str | None) -> None:
    assert not whatsapp.signature_ok(b"{}", header, wa.APP_SECRET)


def test_a_signature_is_never_accepted_without_an_app_secret() -> None:
    assert not whatsapp.signature_ok(b"{}", wa.sign(b"{}", ""), "")


def test_the_subscription_challenge_is_answered_only_for_our_verify_token() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok-1", "hub.challenge": "1158201444"}
    assert whatsapp.verify_challenge(params, "tok-1") == "1158201444"
    assert whatsapp.verify_challenge({**params, "hub.verify_token": "tok-2"}, "tok-1") is None
    assert whatsapp.verify_challenge({**params, "hub.mode": "unsubscribe"}, "tok-1") is None
    assert whatsapp.verify_challenge({"hub.mode": "subscribe"}, "tok-1") is None
    assert whatsapp.verify_challenge({**params, "hub.verify_token": ""}, "") is None


# -- inbound messages -------------------------------------------------------------------------


def test_a_text_message_becomes_a_message_from_its_sender() -> None:
    msg = wa.text("Does it come in blue?", timestamp=1749416383)
    parsed = parse(wa.webhook(messages=[msg]))
    inbound = parsed.messages[0]
    assert inbound.workspace_id == "ws1"
    assert inbound.text == "Does it come in blue?"
    assert inbound.identifier == ("whatsapp_id", wa.CUSTOMER_WA_ID)
    assert inbound.sender_name == wa.CUSTOMER_NAME
    assert inbound.subject is None
    assert inbound.provider_message_id == msg["id"]
    assert inbound.message_ref == msg["id"]
    assert inbound.reply_to_refs == ()
    assert inbound.attachments == []
    assert parsed.timestamps == {msg["id"]: 1749416383}
    assert parsed.phone_number_ids == {msg["id"]: wa.PHONE_NUMBER_ID}
    assert parsed.statuses == []


def test_a_reply_names_the_message_it_quotes() -> None:
    assert one(wa.text("that one", context="wamid.ours")).reply_to_refs == ("wamid.ours",)


def test_a_forwarded_message_has_a_context_without_an_id() -> None:
    msg = wa.text("look at this")
    msg["context"] = {"forwarded": True}
    assert one(msg).reply_to_refs == ()


def test_each_sender_is_named_from_its_own_contact() -> None:
    payload = wa.webhook(
        messages=[wa.text("a", sender="111"), wa.text("b", sender="222"), wa.text("c", sender="3")],
        contacts=[wa.contact("222", "Bea"), wa.contact("111", "Ana")],
    )
    parsed = parse(payload).messages
    assert [(m.identifier, m.sender_name) for m in parsed] == [
        (("whatsapp_id", "111"), "Ana"),
        (("whatsapp_id", "222"), "Bea"),
        (("whatsapp_id", "3"), None),
    ]


@pytest.mark.parametrize(
    ("msg", "text", "attachment"),
    [
        (
            wa.media("image", media_id="m1", mime_type="image/jpeg", caption="the broken lid"),
            "the broken lid",
            {"kind": "image", "media_id": "m1", "content_type": "image/jpeg", "filename": None},
        ),
        (
            wa.media("document", media_id="m2", mime_type="application/pdf", filename="inv.pdf"),
            "inv.pdf",
            {
                "kind": "document",
                "media_id": "m2",
                "content_type": "application/pdf",
                "filename": "inv.pdf",
            },
        ),
        (
            wa.media(
                "document",
                media_id="m3",
                mime_type="application/pdf",
                filename="a.pdf",
                caption="my invoice",
            ),
            "my invoice",
            {"kind": "document", "media_id": "m3", "filename": "a.pdf"},
        ),
        (
            wa.media("audio", media_id="m4", mime_type="audio/ogg; codecs=opus"),
            "",
            {"kind": "audio", "media_id": "m4", "content_type": "audio/ogg; codecs=opus"},
        ),
        (
            wa.media("video", media_id="m5", mime_type="video/mp4", caption="unboxing"),
            "unboxing",
            {"kind": "video", "media_id": "m5", "content_type": "video/mp4"},
        ),
        (
            wa.media("sticker", media_id="m6", mime_type="image/webp"),
            "",
            {"kind": "sticker", "media_id": "m6", "content_type": "image/webp"},
        ),
    ],
)
def test_media_messages_carry_their_caption_and_an_attachment(
    msg: dict[str, Any], text: str, attachment: dict[str, Any]
) -> None:
    inbound = one(msg)
    assert inbound.text == text
    [got] = inbound.attachments
    assert got.items() >= attachment.items()
    assert got["sha256"] == msg[msg["type"]]["sha256"]
    assert set(got) == {"kind", "media_id", "content_type", "filename", "sha256"}


def test_a_button_or_list_reply_reads_as_the_choice() -> None:
    assert one(wa.button_reply("Yes, cancel it")).text == "Yes, cancel it"
    assert one(wa.list_reply("Express", "Arrives tomorrow")).text == "Express\nArrives tomorrow"


def test_a_template_quick_reply_reads_as_its_button_and_answers_the_template() -> None:
    inbound = one(wa.quick_reply("Talk to an agent", context="wamid.template"))
    assert inbound.text == "Talk to an agent"
    assert inbound.reply_to_refs == ("wamid.template",)


def test_a_location_reads_as_its_place_and_coordinates() -> None:
    text = one(wa.location()).text
    assert text == (
        "Location: Main office 1 Hacker Way, Menlo Park, CA 94025 (37.483307, -122.148981)"
    )
    bare = wa.message("location", {"latitude": 1.5, "longitude": 2.25})
    assert one(bare).text == "Location: (1.5, 2.25)"


@pytest.mark.parametrize(
    "msg",
    [
        wa.shared_contacts(),
        wa.reaction("wamid.ours"),
        wa.unsupported(),
        wa.message("order", {"catalog_id": "1", "product_items": []}),
        wa.message("system", {"body": "Customer changed number", "type": "user_changed_number"}),
        wa.message("interactive", {"type": "nfm_reply", "nfm_reply": {"name": "flow"}}),
        wa.message("image", None),
        wa.message("text", None),
        wa.message("a_type_from_the_future", {"x": [1, 2]}),
    ],
)
def test_a_type_tandem_does_not_show_arrives_as_a_note(msg: dict[str, Any]) -> None:
    inbound = one(msg)
    assert inbound.text == f"Unsupported message ({msg['type']}), see WhatsApp"
    assert inbound.attachments == []
    assert inbound.provider_message_id == msg["id"]


def test_changes_of_other_fields_are_skipped() -> None:
    payload = wa.webhook(messages=[wa.text()], field="message_template_status_update")
    payload["entry"][0]["changes"].append(
        {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT", "phone_number": 1}}
    )
    parsed = parse(payload)
    assert parsed.messages == []
    assert parsed.statuses == []


def test_several_entries_and_changes_are_all_read() -> None:
    first, second = wa.webhook(messages=[wa.text("one")]), wa.webhook(messages=[wa.text("two")])
    first["entry"].append(second["entry"][0])
    assert [m.text for m in parse(first).messages] == ["one", "two"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"[1, 2]",
        json.dumps({"object": "page", "entry": []}).encode(),
        json.dumps({"entry": []}).encode(),
        json.dumps({"object": "whatsapp_business_account", "entry": "x"}).encode(),
        wa.encode(wa.webhook(messages=[{"from": "1", "type": "text", "text": {"body": "no id"}}])),
        wa.encode(wa.webhook(messages=[{"id": "wamid.1", "type": "text"}])),
        wa.encode(wa.webhook(messages=[{**wa.text(), "text": "not an object"}])),
        wa.encode(wa.webhook(statuses=[{"id": "wamid.1"}])),
    ],
)
def test_a_payload_that_can_never_be_processed_is_unprocessable(body: bytes) -> None:
    with pytest.raises(whatsapp.Unprocessable):
        whatsapp.parse_webhook(body, "ws1")


# -- statuses ---------------------------------------------------------------------------------


def test_statuses_report_what_became_of_tandems_messages() -> None:
    payload = wa.webhook(
        statuses=[
            wa.status("wamid.a", "sent", timestamp=100),
            wa.status("wamid.a", "delivered", timestamp=101),
            wa.status("wamid.a", "read", timestamp=102),
            wa.status("wamid.b", "deleted"),
            wa.status("wamid.c", "warning"),
        ]
    )
    parsed = parse(payload)
    assert parsed.messages == []
    assert [(s.wamid, s.status, s.timestamp) for s in parsed.statuses] == [
        ("wamid.a", "sent", 100),
        ("wamid.a", "delivered", 101),
        ("wamid.a", "read", 102),
    ]
    assert parsed.statuses[0] == whatsapp.StatusReport(
        wamid="wamid.a", status="sent", recipient_id=wa.CUSTOMER_WA_ID, timestamp=100
    )


def test_a_failure_after_24_hours_needs_a_template() -> None:
    payload = wa.webhook(
        statuses=[wa.status("wamid.x", "failed", errors=[wa.outside_window_error()])]
    )
    [report] = parse(payload).statuses
    assert report.status == "failed"
    assert report.error_code == 131047
    assert report.needs_template
    assert report.error == (
        "needs a template: more than 24 hours since the customer's last message"
    )


def test_other_failures_say_why() -> None:
    error = wa.status_error(131026, "Message undeliverable", "Recipient is not on WhatsApp.")
    payload = wa.webhook(statuses=[wa.status("wamid.y", "failed", errors=[error])])
    [report] = parse(payload).statuses
    assert report.error_code == 131026
    assert not report.needs_template
    assert report.error == "Message undeliverable: Recipient is not on WhatsApp."
    bare = wa.webhook(statuses=[wa.status("wamid.z", "failed", errors=[{"code": 131000}])])
    assert parse(bare).statuses[0].error == "something went wrong"


def test_a_webhook_can_carry_messages_and_statuses_together() -> None:
    payload = wa.webhook(messages=[wa.text("hi")], statuses=[wa.status("wamid.s", "read")])
    parsed = parse(payload)
    assert [m.text for m in parsed.messages] == ["hi"]
    assert [s.status for s in parsed.statuses] == ["read"]


# -- rendering --------------------------------------------------------------------------------


def test_urls_use_the_graph_version() -> None:
    base = "https://graph.facebook.com/"
    assert whatsapp.messages_url(base, "106") == (
        f"https://graph.facebook.com/{whatsapp.GRAPH_VERSION}/106/messages"
    )
    assert whatsapp.media_url(base, "m1").endswith(f"/{whatsapp.GRAPH_VERSION}/m1")
    assert whatsapp.templates_url(base, "waba").endswith(
        f"/{whatsapp.GRAPH_VERSION}/waba/message_templates"
    )


def test_a_text_reply_quotes_the_message_it_answers() -> None:
    assert whatsapp.render_text("16505551234", "It does!", "wamid.in") == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "text",
        "text": {"preview_url": False, "body": "It does!"},
        "context": {"message_id": "wamid.in"},
    }
    assert "context" not in whatsapp.render_text("1", "hi", None)


def test_a_template_fills_its_body_parameters_in_order() -> None:
    body = whatsapp.render_template("1", "order_update", "en_US", ["Sheena", "#1234"])
    assert body["type"] == "template"
    assert body["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Sheena"},
                    {"type": "text", "text": "#1234"},
                ],
            }
        ],
    }
    assert "components" not in whatsapp.render_template("1", "hello", "en", [])["template"]


def test_media_is_sent_by_id_or_link_with_caption_and_filename_where_they_belong() -> None:
    doc = whatsapp.render_media("1", "document", "media-9", "your invoice", "inv.pdf")
    assert doc["type"] == "document"
    assert doc["document"] == {"id": "media-9", "caption": "your invoice", "filename": "inv.pdf"}
    image = whatsapp.render_media("1", "image", "https://cdn.example.com/a.png", "look", "a.png")
    assert image["image"] == {"link": "https://cdn.example.com/a.png", "caption": "look"}
    audio = whatsapp.render_media("1", "audio", "media-3", "ignored", None)
    assert audio["audio"] == {"id": "media-3"}
    with pytest.raises(ValueError, match="not a WhatsApp media type"):
        whatsapp.render_media("1", "gif", "media-1", None, None)


# -- send answers -----------------------------------------------------------------------------


def answer(
    status: int, code: int, message: str = "Error", details: str = ""
) -> whatsapp.SendResult:
    return whatsapp.parse_send_answer(status, wa.encode(wa.graph_error(code, message, details)))


def test_a_successful_send_names_the_wamid() -> None:
    body = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+1 650 555 1234", "wa_id": "16505551234"}],
        "messages": [{"id": "wamid.sent"}],
    }
    result = whatsapp.parse_send_answer(200, wa.encode(body))
    assert result.ok
    assert result.wamid == "wamid.sent"
    assert result.reason is None


def test_a_success_without_a_wamid_is_not_sent_again() -> None:
    result = whatsapp.parse_send_answer(200, b"{}")
    assert not result.ok
    assert result.permanent


def test_outside_the_window_a_send_needs_a_template() -> None:
    result = answer(400, 131047, "Re-engagement message", "More than 24 hours have passed")
    assert not result.ok
    assert result.permanent
    assert result.code == 131047
    assert result.reason == whatsapp.NEEDS_TEMPLATE


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, 1), (503, 2), (400, 4), (400, 80007), (429, 130429), (500, 131000),
        (503, 131016), (400, 131048), (400, 131056),
    ],
)  # fmt: skip
def test_throttling_and_downtime_are_worth_another_attempt(status: int, code: int) -> None:
    result = answer(status, code)
    assert not result.permanent
    assert result.code == code


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, 131026), (400, 131051), (400, 131052), (400, 131053), (400, 132000),
        (400, 132001), (400, 132015), (400, 100), (401, 190), (403, 10), (403, 200),
        (500, 131026),
    ],
)  # fmt: skip
def test_errors_no_retry_fixes_are_permanent(status: int, code: int) -> None:
    result = answer(status, code, "Something", "because")
    assert result.permanent
    assert result.code == code
    assert result.reason == "Something: because"


@pytest.mark.parametrize(
    ("status", "body", "permanent"),
    [
        (429, b"", False),
        (502, b"<html>Bad gateway</html>", False),
        (500, wa.encode(wa.graph_error(999999, "new")), False),
        (400, wa.encode(wa.graph_error(999999, "new")), True),
        (404, b"not json", True),
    ],
)
def test_unknown_answers_are_classified_by_http_status(
    status: int, body: bytes, permanent: bool
) -> None:
    result = whatsapp.parse_send_answer(status, body)
    assert not result.ok
    assert result.permanent is permanent
    assert result.reason


# -- templates and media ----------------------------------------------------------------------


def test_only_approved_templates_with_body_parameters_are_offered() -> None:
    body = wa.encode(
        {
            "data": [
                wa.template("order_update", "Hello {{1}}, your order {{2}} ships {{1}}."),
                wa.template("welcome", "Welcome aboard!", language="de", category="MARKETING"),
                wa.template("pending", "Hi {{1}}", status="PENDING"),
                wa.template("rejected", "Hi {{1}}", status="REJECTED"),
                wa.template(
                    "with_image", "Look", extra_components=[{"type": "HEADER", "format": "IMAGE"}]
                ),
                wa.template(
                    "with_link",
                    "Track it",
                    extra_components=[
                        {
                            "type": "BUTTONS",
                            "buttons": [
                                {"type": "URL", "text": "Track", "url": "https://x.example/{{1}}"}
                            ],
                        }
                    ],
                ),
                {**wa.template("named", "Hi {{first_name}}"), "parameter_format": "NAMED"},
            ],
            "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}},
        }
    )
    templates = whatsapp.parse_templates(body)
    assert templates == [
        whatsapp.Template(
            name="order_update",
            language="en_US",
            category="UTILITY",
            status="APPROVED",
            body_text="Hello {{1}}, your order {{2}} ships {{1}}.",
            param_count=2,
        ),
        whatsapp.Template("welcome", "de", "MARKETING", "APPROVED", "Welcome aboard!", 0),
    ]
    assert whatsapp.next_page(body) is None
    paged = wa.encode({"data": [], "paging": {"next": "https://graph.example/next"}})
    assert whatsapp.next_page(paged) == "https://graph.example/next"


def test_a_filled_template_reads_as_the_customer_sees_it() -> None:
    text = "Hello {{1}}, your order {{2}} ships today, {{1}}. {{3}}"
    assert whatsapp.fill_template(text, ["Sheena", "#1234"]) == (
        "Hello Sheena, your order #1234 ships today, Sheena. {{3}}"
    )


@pytest.mark.parametrize("body", [b"nope", b'{"data": "x"}', b'{"data": [{"components": 1}]}'])
def test_a_template_list_that_is_no_list_is_unprocessable(body: bytes) -> None:
    with pytest.raises(whatsapp.Unprocessable):
        whatsapp.parse_templates(body)


def test_media_info_says_where_and_what_the_media_is() -> None:
    body = {
        "messaging_product": "whatsapp",
        "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",
        "mime_type": "image/jpeg",
        "sha256": "ab" * 32,
        "file_size": "30720",
        "id": "1479537139650973",
    }
    assert whatsapp.parse_media_info(wa.encode(body)) == whatsapp.MediaInfo(
        url=body["url"], mime_type="image/jpeg", file_size=30720, sha256="ab" * 32
    )
    with pytest.raises(whatsapp.Unprocessable):
        whatsapp.parse_media_info(b'{"error": {"code": 100}}')


# -- the fake Graph server --------------------------------------------------------------------


def test_the_fake_sends_messages_and_answers_as_scripted() -> None:
    with fake_graph() as fake, httpx.Client(timeout=5) as client:
        auth = {"Authorization": f"Bearer {fake.access_token}"}
        url = whatsapp.messages_url(fake.url, wa.PHONE_NUMBER_ID)
        sent = client.post(url, json=whatsapp.render_text("16505551234", "hi", None), headers=auth)
        result = whatsapp.parse_send_answer(sent.status_code, sent.content)
        assert result.ok
        assert result.wamid == fake.wamids[0]
        assert sent.json()["contacts"] == [{"input": "16505551234", "wa_id": "16505551234"}]
        assert fake.sent[0]["text"]["body"] == "hi"
        assert fake.phone_number_ids == [wa.PHONE_NUMBER_ID]
        assert fake.tokens == [fake.access_token]

        fake.fail(131047, "Re-engagement message", "More than 24 hours have passed")
        fake.script.append((503, {}))
        fake.script.append((429, wa.graph_error(130429, "Rate limit hit")))
        results = [
            client.post(url, json=whatsapp.render_text("1", "x", None), headers=auth)
            for _ in range(4)
        ]
        classified = [whatsapp.parse_send_answer(r.status_code, r.content) for r in results]
        assert [r.status_code for r in results] == [400, 503, 429, 200]
        assert classified[0].reason == whatsapp.NEEDS_TEMPLATE
        assert classified[0].permanent
        assert results[0].json()["error"]["type"] == "OAuthException"
        assert "fbtrace_id" in results[0].json()["error"]
        assert not classified[1].permanent
        assert (classified[2].permanent, classified[2].code) == (False, 130429)
        assert classified[3].ok

        refused = client.post(url, json={}, headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
        assert whatsapp.parse_send_answer(401, refused.content).code == 190
        assert client.post(url.replace(whatsapp.GRAPH_VERSION, "v2"), json={}).status_code == 400


def test_the_fake_serves_media_only_with_the_token() -> None:
    data = b"\x89PNG\r\n\x1a\n fake image bytes"
    with fake_graph() as fake, httpx.Client(timeout=5) as client:
        fake.add_media("m-77", data, "image/png")
        auth = {"Authorization": f"Bearer {fake.access_token}"}
        described = client.get(whatsapp.media_url(fake.url, "m-77"), headers=auth)
        info = whatsapp.parse_media_info(described.content)
        assert info.url == f"{fake.url}/media-bytes/m-77"
        assert (info.mime_type, info.file_size) == ("image/png", len(data))
        assert info.sha256 == hashlib.sha256(data).hexdigest()
        downloaded = client.get(info.url, headers=auth)
        assert downloaded.content == data
        assert downloaded.headers["content-type"] == "image/png"
        assert client.get(info.url).status_code == 401
        missing = client.get(whatsapp.media_url(fake.url, "nope"), headers=auth)
        assert missing.status_code == 400
        assert missing.json()["error"]["code"] == 100


def test_the_fake_lists_templates() -> None:
    with fake_graph() as fake, httpx.Client(timeout=5) as client:
        auth = {"Authorization": f"Bearer {fake.access_token}"}
        url = whatsapp.templates_url(fake.url, wa.WABA_ID)
        templates = whatsapp.parse_templates(client.get(url, headers=auth).content)
        assert [t.name for t in templates] == ["order_update"]  # the pending one is left out
        fake.templates = [wa.template("refund_done", "Your refund of {{1}} is on its way.")]
        [refund] = whatsapp.parse_templates(client.get(url, headers=auth).content)
        assert (refund.name, refund.param_count) == ("refund_done", 1)
        assert fake.requests[-1].path == f"/{whatsapp.GRAPH_VERSION}/{wa.WABA_ID}/message_templates"


def test_a_tagged_send_gets_its_tag_back_on_each_status() -> None:
    request = whatsapp.tagged(whatsapp.render_text("15551234567", "Hi"), "6650aa000000000000000001")
    assert request["biz_opaque_callback_data"] == "6650aa000000000000000001"
    assert request["text"] == {"preview_url": False, "body": "Hi"}
    payload = wa.webhook(
        statuses=[wa.status("wamid.t", "delivered", tag="6650aa000000000000000001")]
    )
    assert parse(payload).statuses[0].tag == "6650aa000000000000000001"
    untagged = wa.webhook(statuses=[wa.status("wamid.u", "delivered")])
    assert parse(untagged).statuses[0].tag is None
