"""Translations over the API: a customer's message into the agent's language and the agent's
reply into the customer's, each one JSON answer, metered in a ledger that holds no content,
refused before anything is sent when AI is off or the message is not the caller's, and a
provider failure answered as a JSON error with the provider's code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from beanie import PydanticObjectId
from starlette.applications import Starlette

from app.actions import messages as message_actions
from app.actions.messages import NewMessage
from app.ai.translate import language_tag, parse_answer
from app.documents.message import Author
from realtime.events import Direction, Kind
from tests.ai.fake_openai import FakeOpenAI, Reply, fake_openai
from tests.ai.test_drafts_api import ledger, strings
from tests.apiclient import AgentClient, runtime_of, sign_up

KEY = "sk-or-v1-very-secret-key-0123456789"
SPANISH = "Hola, mi paquete del pedido ZX-991 nunca llegó. ¿Dónde está? — Quentin"
ENGLISH = "Hello, my parcel for order ZX-991 never arrived. Where is it? — Quentin"
AGENT_REPLY = "Sorry about that! We have opened a claim with the courier for order ZX-991."
AGENT_REPLY_ES = "¡Lo sentimos! Hemos abierto una reclamación con el transportista."


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai() as running:
        yield running


@pytest.fixture(autouse=True)
def unscripted(fake: FakeOpenAI) -> Iterator[None]:
    fake.script.clear()
    yield
    fake.script.clear()


def answering(obj: dict[str, Any]) -> Reply:
    """The fake model answering `obj` as JSON, in two pieces."""
    text = json.dumps(obj, ensure_ascii=False)
    return Reply(pieces=[text[:20], text[20:]])


async def configured(app: Starlette, fake: FakeOpenAI) -> AgentClient:
    owner = await sign_up(app)
    settings = {"base_url": fake.url, "api_key": KEY, "model": "acme/small"}
    changed = await owner.patch("/ai/settings", json=settings)
    assert changed.status_code == 200, changed.text
    return owner


async def ticket_with(client: AgentClient, text: str = SPANISH) -> tuple[str, str]:
    """A new ticket with a customer's message: the ticket's id and the message's."""
    made = await client.post(
        "/tickets",
        json={"subject": "¿Dónde está mi pedido?", "message": {"text": text, "direction": "in"}},
    )
    assert made.status_code == 201, made.text
    ticket = str(made.json()["id"])
    detail = (await client.get(f"/tickets/{ticket}")).json()
    [message] = [m for m in detail["messages"] if m["kind"] == "message"]
    return ticket, str(message["id"])


def prompt_of(request: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in request["messages"])


async def test_a_customer_message_is_translated_and_metered(
    app: Starlette, fake: FakeOpenAI
) -> None:
    owner = await configured(app, fake)
    ticket, message = await ticket_with(owner)
    before = len(fake.requests)
    fake.script.append(answering({"source_language": "es", "text": ENGLISH}))

    answer = await owner.post(
        f"/tickets/{ticket}/messages/{message}/translation", json={"to": "en"}
    )

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "text": ENGLISH,
        "to": "en",
        "source_language": "es",
        "truncated": False,
    }
    # What the model was sent: the message and the target language, with the key and model.
    assert len(fake.requests) == before + 1
    sent = fake.requests[-1]
    assert sent["model"] == "acme/small"
    assert fake.keys[-1] == f"Bearer {KEY}"
    prompt = prompt_of(sent)
    assert SPANISH in prompt
    assert "Target language: en" in prompt
    assert "JSON" in sent["messages"][0]["content"]

    # The ledger: one row with the counts, and nothing of what was said.
    [row] = await ledger(owner)
    assert (row["action"], row["outcome"], row["model"]) == ("translate", "ok", "acme/small")
    assert (row["input_tokens"], row["output_tokens"], row["cost"]) == (120, 7, 0.0012)
    assert row["user_id"] == owner.user_id
    assert "error_code" not in row
    for value in strings(row):
        if len(value) >= 4 and value not in ("translate", "acme/small"):
            assert value not in prompt, value
            assert value not in ENGLISH, value
    assert not any(word in repr(row) for word in ("ZX-991", "Quentin", "paquete", "parcel"))
    assert KEY not in repr(row)
    await owner.aclose()


async def test_the_target_tag_is_normalized_and_checked(app: Starlette, fake: FakeOpenAI) -> None:
    owner = await configured(app, fake)
    ticket, message = await ticket_with(owner, ENGLISH)
    path = f"/tickets/{ticket}/messages/{message}/translation"
    fake.script.append(answering({"source_language": "EN", "text": "Olá, a minha encomenda…"}))

    answer = await owner.post(path, json={"to": "pt-br"})

    assert answer.status_code == 200, answer.text
    assert (answer.json()["to"], answer.json()["source_language"]) == ("pt-BR", "en")
    assert "Target language: pt-BR" in prompt_of(fake.requests[-1])
    before = len(fake.requests)
    for bad in ({"to": "Portuguese please"}, {"to": ""}, {}, {"to": "en", "extra": 1}):
        refused = await owner.post(path, json=bad)
        assert refused.status_code == 422, (bad, refused.text)
    assert len(fake.requests) == before
    await owner.aclose()


async def test_notes_and_timeline_lines_are_not_translated(
    app: Starlette, fake: FakeOpenAI
) -> None:
    owner = await configured(app, fake)
    ticket, _ = await ticket_with(owner)
    noted = await owner.post(
        f"/tickets/{ticket}/messages", json={"text": "Nota interna: revisar", "kind": "note"}
    )
    assert noted.status_code == 201, noted.text
    note = noted.json()["message"]["id"]
    version = noted.json()["ticket"]["version"]
    changed = await owner.patch(
        f"/tickets/{ticket}", json={"version": version, "status": "pending"}
    )
    assert changed.status_code == 200, changed.text
    detail = (await owner.get(f"/tickets/{ticket}")).json()
    [line] = [m["id"] for m in detail["messages"] if m["kind"] == "system"]
    before = len(fake.requests)

    for message in (note, line):
        answer = await owner.post(
            f"/tickets/{ticket}/messages/{message}/translation", json={"to": "en"}
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "not_translatable"
    assert len(fake.requests) == before
    assert await ledger(owner) == []
    await owner.aclose()


async def test_another_workspaces_message_is_not_found(app: Starlette, fake: FakeOpenAI) -> None:
    owner = await configured(app, fake)
    stranger = await configured(app, fake)
    ticket, message = await ticket_with(owner)
    own_ticket, own_message = await ticket_with(stranger)
    before = len(fake.requests)

    attempts = [
        (ticket, message),  # the other workspace's ticket and message
        (own_ticket, message),  # the other workspace's message on one's own ticket
        (ticket, own_message),  # one's own message under the other workspace's ticket
        (own_ticket, "not-an-id"),
        (own_ticket, str(PydanticObjectId())),
    ]
    for ticket_id, message_id in attempts:
        answer = await stranger.post(
            f"/tickets/{ticket_id}/messages/{message_id}/translation", json={"to": "en"}
        )
        assert answer.status_code == 404, (ticket_id, message_id, answer.text)
    other = await stranger.post(f"/tickets/{ticket}/ai/translate-reply", json={"text": "Hi"})
    assert other.status_code == 404, other.text
    assert len(fake.requests) == before
    for client in (owner, stranger):
        await client.aclose()


async def test_refusals_send_nothing(app: Starlette, fake: FakeOpenAI) -> None:
    owner = await configured(app, fake)
    ticket, message = await ticket_with(owner)
    before = len(fake.requests)

    off = await owner.patch("/ai/settings", json={"enabled": False})
    assert off.json()["enabled"] is False
    asks = [
        (f"/tickets/{ticket}/messages/{message}/translation", {"to": "en"}),
        (f"/tickets/{ticket}/ai/translate-reply", {"text": AGENT_REPLY}),
    ]
    for path, body in asks:
        answer = await owner.post(path, json=body)
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == "ai_disabled"

    await owner.patch("/ai/settings", json={"enabled": True, "api_key": None})
    for path, body in asks:
        answer = await owner.post(path, json=body)
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["code"] == "ai_not_configured"

    await owner.patch("/ai/settings", json={"api_key": KEY, "monthly_credit_cap": 0})
    for path, body in asks:
        answer = await owner.post(path, json=body)
        assert answer.status_code == 402, answer.text
        assert answer.json()["error"]["code"] == "credits_exhausted"

    assert len(fake.requests) == before  # nothing reached the provider
    assert await ledger(owner) == []
    await owner.aclose()


async def test_a_reply_is_translated_into_the_customers_language(
    app: Starlette, fake: FakeOpenAI
) -> None:
    owner = await configured(app, fake)
    ticket, _ = await ticket_with(owner, "Hello, this is an earlier message in English.")
    later = "Perdón, escribo en español. " + "Mi pedido ZX-991 no ha llegado. " * 40
    answered = await owner.post(f"/tickets/{ticket}/messages", json={"text": "Looking into it"})
    assert answered.status_code == 201, answered.text
    await owner.post(f"/tickets/{ticket}/messages", json={"text": "nota", "kind": "note"})
    # The customer writes again, in Spanish, as an inbound channel posts it.
    ws = PydanticObjectId((await owner.get("/me")).json()["workspace"]["id"])
    await message_actions.post_message(
        runtime_of(app).deps,
        ws,
        PydanticObjectId(ticket),
        NewMessage(
            text=later, direction=Direction.IN, kind=Kind.MESSAGE, author=Author(kind="contact")
        ),
    )
    fake.script.append(answering({"language": "es", "text": AGENT_REPLY_ES}))

    answer = await owner.post(f"/tickets/{ticket}/ai/translate-reply", json={"text": AGENT_REPLY})

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"text": AGENT_REPLY_ES, "to": "es"}
    prompt = prompt_of(fake.requests[-1])
    assert AGENT_REPLY in prompt
    assert "Perdón, escribo en español. Mi pedido ZX-991" in prompt  # the latest one, sampled
    assert later[:400] in prompt
    assert later.strip() not in prompt  # only a sample of it
    assert "earlier message in English" not in prompt
    assert "Looking into it" not in prompt
    [row] = await ledger(owner)
    assert (row["action"], row["outcome"]) == ("translate", "ok")
    assert not any(word in repr(row) for word in ("ZX-991", "Sorry", "Lo sentimos"))
    await owner.aclose()


async def test_a_reply_needs_a_customer_message(app: Starlette, fake: FakeOpenAI) -> None:
    owner = await configured(app, fake)
    made = await owner.post(
        "/tickets", json={"subject": "Outreach", "message": {"text": "Hi!", "direction": "out"}}
    )
    assert made.status_code == 201, made.text
    ticket = made.json()["id"]
    before = len(fake.requests)

    answer = await owner.post(f"/tickets/{ticket}/ai/translate-reply", json={"text": AGENT_REPLY})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "nothing_to_answer"

    for bad in ({"text": ""}, {"text": "   "}, {"text": "x" * 10_001}, {}):
        refused = await owner.post(f"/tickets/{ticket}/ai/translate-reply", json=bad)
        assert refused.status_code == 422, refused.text
    assert len(fake.requests) == before
    await owner.aclose()


async def test_provider_failures_are_json_errors_with_the_providers_code(
    app: Starlette, fake: FakeOpenAI
) -> None:
    owner = await configured(app, fake)
    ticket, message = await ticket_with(owner)

    fake.script.append(Reply(status=429, error={"error": {"message": "Rate limit exceeded"}}))
    limited = await owner.post(
        f"/tickets/{ticket}/messages/{message}/translation", json={"to": "en"}
    )
    assert limited.status_code == 429, limited.text
    error = limited.json()["error"]
    assert error["code"] == "provider_rate_limited"
    assert "rate limiting" in error["message"]
    assert "Rate limit exceeded" in error["message"]
    assert error["details"] == {"provider_status": 429, "retryable": True}

    fake.script.append(Reply(status=401, error={"error": {"message": "No auth credentials"}}))
    refused = await owner.post(f"/tickets/{ticket}/ai/translate-reply", json={"text": "Hi"})
    assert refused.status_code == 502, refused.text
    assert refused.json()["error"]["code"] == "provider_auth"

    fake.script.append(Reply(die_after=1))
    broken = await owner.post(f"/tickets/{ticket}/ai/translate-reply", json={"text": "Hi"})
    assert broken.status_code == 502, broken.text
    assert broken.json()["error"]["code"] == "provider_stream_broken"

    rows = sorted(await ledger(owner), key=lambda r: r["at"])
    assert [(r["action"], r["outcome"], r["error_code"]) for r in rows] == [
        ("translate", "error", "provider_rate_limited"),
        ("translate", "error", "provider_auth"),
        ("translate", "error", "provider_stream_broken"),
    ]
    assert [r["cost"] for r in rows[:2]] == [0, 0]  # refused: not charged
    assert rows[2]["estimated"] is True
    assert rows[2]["output_tokens"] > 0  # what was generated before the break is counted
    await owner.aclose()


async def test_an_answer_that_is_not_json_is_taken_as_the_text(
    app: Starlette, fake: FakeOpenAI
) -> None:
    owner = await configured(app, fake)
    ticket, message = await ticket_with(owner)
    fake.script.append(Reply(pieces=["Hello, my parcel ", "never arrived."]))

    answer = await owner.post(
        f"/tickets/{ticket}/messages/{message}/translation", json={"to": "en"}
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["text"] == "Hello, my parcel never arrived."
    assert answer.json()["source_language"] is None
    await owner.aclose()


@pytest.mark.parametrize(
    ("answer", "text", "language"),
    [
        ('{"source_language": "es", "text": "Hi"}', "Hi", "es"),
        ('```json\n{"source_language": "pt-br", "text": "Hi"}\n```', "Hi", "pt-BR"),
        # A raw line break inside the string, and a sentence around the object.
        (
            'Here: {"text": "Line one\nline two", "source_language": "fr"}',
            "Line one\nline two",
            "fr",
        ),
        # Cut short: what arrived is kept, an escape left incomplete is dropped.
        ('{"source_language": "es", "text": "Hello, my parcel nev', "Hello, my parcel nev", "es"),
        ('{"source_language": "es", "text": "caf\\u00e9 \\u00', "café", "es"),
        ('{"source_language": "Spanish", "text": "Hi"}', "Hi", None),
        ('{"translation": "Hi"}', "Hi", None),
        ("Just the translation, {not json}", "Just the translation, {not json}", None),
    ],
)
def test_answers_are_read_robustly(answer: str, text: str, language: str | None) -> None:
    parsed = parse_answer(answer, ("source_language", "language"))
    assert (parsed.text, parsed.language) == (text, language)


def test_language_tags() -> None:
    assert language_tag("EN") == "en"
    assert language_tag("zh-hant-tw") == "zh-Hant-TW"
    assert language_tag("es-419") == "es-419"
    assert language_tag("english") is None
    assert language_tag(None) is None
    assert language_tag("") is None
