"""An article's chunks, slugs, limits and safe HTML: pure rules, no servers."""

import pytest

from app.domain.errors import Invalid
from app.domain.kb import (
    BODY_MAX,
    CHUNK_MAX,
    HEADING_SEPARATOR,
    check_body,
    check_locale,
    check_slug,
    check_title,
    chunks,
    dedupe_slug,
    plain_text,
    render_markdown,
    slugify,
    snippet,
)

WORDS = ["refunds", "arrive", "within", "five", "business", "days", "after", "approval"]


def prose(count: int, offset: int = 0) -> str:
    return " ".join(WORDS[(offset + i) % len(WORDS)] for i in range(count))


def piece_of(text: str) -> str:
    """A chunk's own text, after its title line and the blank line."""
    return text.split("\n\n", 1)[1]


def test_sections_follow_headings_up_to_the_third_level() -> None:
    body = (
        "Before any heading.\n\n"
        "# Refunds\n\nRepeats the title, so no heading of its own.\n\n"
        "## Asking for one\n\nWrite to us.\n\n"
        "### By email\n\nUse the form.\n\n"
        "#### Not a split\n\nStill by email.\n\n"
        "## Empty\n\n"
        "## Timing\n\n```\n# a comment in code, not a heading\n```\n"
    )
    found = chunks("Refunds", body)
    assert [c.heading for c in found] == [
        "",
        "",
        "Asking for one",
        f"Asking for one{HEADING_SEPARATOR}By email",
        "Timing",
    ]
    assert [c.n for c in found] == list(range(5))
    assert found[0].text == "Refunds\n\nBefore any heading."
    assert found[2].text == "Refunds — Asking for one\n\nWrite to us."
    assert "#### Not a split" in found[3].text
    assert "Still by email." in found[3].text
    assert "# a comment in code" in found[4].text


def test_long_sections_split_between_paragraphs_then_words() -> None:
    paragraphs = [prose(40, i) for i in range(12)]  # about 300 characters each
    long_one = prose(400)  # one paragraph of about 2,700 characters
    body = "## Policy\n\n" + "\n\n".join(paragraphs) + "\n\n## Details\n\n" + long_one
    found = chunks("Refund policy", body)
    policy = [c for c in found if c.heading == "Policy"]
    details = [c for c in found if c.heading == "Details"]
    assert len(policy) > 1
    assert len(details) > 1
    for chunk in found:
        piece = piece_of(chunk.text)
        assert len(piece) <= CHUNK_MAX
        assert chunk.text.startswith(f"Refund policy — {chunk.heading}\n\n")
    # Paragraphs are kept whole and in order.
    rejoined = [p for c in policy for p in piece_of(c.text).split("\n\n")]
    assert rejoined == paragraphs
    # A paragraph too long on its own is cut between words, none lost or broken.
    words = [w for c in details for w in piece_of(c.text).split(" ")]
    assert words == long_one.split(" ")
    assert all(w in WORDS for w in words)


def test_chunks_are_deterministic_and_skip_empty_sections() -> None:
    body = "# A\n\n## B\n\n   \n\n## C\n\ntext\n"
    assert chunks("T", body) == chunks("T", body)
    # "## C" follows "## B" at the same level: B has no text, so it gives no chunk.
    assert [c.heading for c in chunks("T", body)] == [HEADING_SEPARATOR.join(["A", "C"])]
    assert chunks("T", "# Only a heading\n") == []


def test_slugs_fold_accents_and_dedupe() -> None:
    assert slugify("Ação rápida: Straße & Ørsted!") == "acao-rapida-strasse-orsted"
    assert slugify("  ¿Cómo pagar?  ") == "como-pagar"
    assert slugify("!!!") == "article"
    assert len(slugify("word " * 100)) <= 80
    assert dedupe_slug("refunds", []) == "refunds"
    assert dedupe_slug("refunds", ["refunds", "refunds-2"]) == "refunds-3"
    assert check_slug("como-pagar") == "como-pagar"
    with pytest.raises(Invalid):
        check_slug("Como Pagar")


def test_limits_name_their_field() -> None:
    for check, value, field in [
        (check_title, "   ", "title"),
        (check_title, "x" * 201, "title"),
        (check_body, "\n \n", "body"),
        (check_body, "x" * (BODY_MAX + 1), "body"),
        (check_locale, "english!", "locale"),
    ]:
        with pytest.raises(Invalid) as raised:
            check(value)
        assert raised.value.details == {"field": field}
    assert check_locale("pt-br") == "pt-BR"


def test_markdown_renders_safe_html() -> None:
    html = render_markdown(
        "# Hi <script>alert(1)</script>\n\n"
        '<img src=x onerror="alert(1)">\n\n'
        "[bad](javascript:alert(1)) [good](https://example.com) **bold**\n\n"
        '<a href="#" onclick="steal()">x</a>'
    )
    assert "<script" not in html
    assert "<img" not in html
    assert '<a href="#"' not in html
    assert "&lt;script&gt;" in html
    assert "&lt;img" in html
    assert 'href="javascript' not in html
    assert '<a href="https://example.com" rel="noopener noreferrer">good</a>' in html
    assert "<strong>bold</strong>" in html
    assert "<h1>" in html


def test_plain_text_and_snippets() -> None:
    text = plain_text("# Title\n\nSome **bold** words and `code`.\n\n- one\n- two")
    assert text == "Title\nSome bold words and code.\none\ntwo"
    long = prose(100)
    cut = snippet(long + " the voucher code is here " + long, "vouch", width=60)
    assert "voucher" in cut
    assert cut.startswith("…")
    assert cut.endswith("…")
    assert len(cut) <= 62
    assert snippet("Short text", "absent") == "Short text"
