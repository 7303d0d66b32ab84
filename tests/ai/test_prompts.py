"""What the model is given: a bounded thread, the customer's latest message, and the passages
with their links for a draft."""

from __future__ import annotations

from app.ai.prompts import (
    MAX_CHARS,
    MAX_LINES,
    Line,
    Source,
    draft_messages,
    excerpt,
    last_customer_text,
    summary_messages,
)


def test_the_thread_is_bounded_and_keeps_the_latest() -> None:
    lines = [
        Line("customer" if n % 2 else "agent", "", f"message {n} " + "x" * 50) for n in range(60)
    ]
    text = excerpt(lines)
    assert "message 59" in text
    assert "message 39" not in text
    assert text.startswith(f"[{60 - MAX_LINES} earlier message(s) not shown]")
    long = [Line("customer", "", f"m{n} " + "y" * 1900) for n in range(10)]
    text = excerpt(long)
    assert len(text) <= MAX_CHARS + 100
    assert "m9 " in text
    assert "m0 " not in text


def test_a_draft_answers_the_latest_customer_message_with_sources() -> None:
    lines = [
        Line("customer", "Quentin", "Mon colis n'est jamais arrivé."),
        Line("agent", "Ana", "Nous regardons."),
        Line("note", "Ana", "Courier claim opened"),
        Line("customer", "Quentin", "Des nouvelles ?"),
    ]
    assert last_customer_text(lines) == "Des nouvelles ?"
    sources = [
        Source("Lost parcels", "https://x.test/help/acme/lost-parcels", "We open a claim."),
        Source("Courier contacts", None, "Call DPD at 555."),
    ]
    system, user = draft_messages("Colis", lines, sources)
    assert system["role"] == "system"
    assert "language of the customer" in system["content"]
    assert "link" in system["content"]
    assert "Des nouvelles ?" in user["content"]
    assert "https://x.test/help/acme/lost-parcels" in user["content"]
    assert "internal article: no public link" in user["content"]
    assert "Internal note (agents only) (Ana):" in user["content"]


def test_a_draft_without_sources_says_so() -> None:
    _, user = draft_messages("Hi", [Line("customer", "", "Hello?")], [])
    assert "no knowledge-base article matched" in user["content"]


def test_a_summary_covers_the_thread() -> None:
    system, user = summary_messages("Refund", [Line("customer", "", "I want a refund")])
    assert "summarize" in system["content"]
    assert "I want a refund" in user["content"]
