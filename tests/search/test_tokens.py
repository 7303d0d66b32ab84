"""Folding and term extraction: the same text always gives the same terms."""

from __future__ import annotations

from app.search.tokens import MAX_TERM, fold, query_terms, terms


def test_fold_removes_accents_and_case() -> None:
    assert fold("Ação") == "acao"
    assert fold("Straße") == "strasse"
    assert fold("ÉCOLE Über") == "ecole uber"


def test_terms_split_on_punctuation_and_drop_single_letters() -> None:
    assert terms("Refund, please: order #5 (a bit late)") == [
        "refund",
        "please",
        "order",
        "5",
        "bit",
        "late",
    ]


def test_terms_cut_long_words() -> None:
    assert terms("x" * 100) == ["x" * MAX_TERM]


def test_terms_keep_repetitions() -> None:
    assert terms("refund refund") == ["refund", "refund"]


def test_email_yields_address_local_part_and_domain() -> None:
    found = terms("Ana.Silva@Example.com")
    for term in ("ana.silva@example.com", "ana.silva", "example.com", "ana", "silva", "example"):
        assert term in found


def test_phone_yields_digits_and_local_number() -> None:
    found = terms("+351 912 345 678")
    assert "351912345678" in found
    assert "912345678" in found


def test_short_numbers_are_not_phones() -> None:
    assert terms("order 12345") == ["order", "12345"]


def test_query_last_word_is_a_prefix_while_typing() -> None:
    assert query_terms("late refu") == (["late"], "refu")
    assert query_terms("late refu ") == (["late", "refu"], None)


def test_query_terms_are_unique_and_folded() -> None:
    assert query_terms("Ação ação ") == (["acao"], None)


def test_query_single_letter_prefix_is_dropped() -> None:
    assert query_terms("refund a") == (["refund"], None)
    assert query_terms("room 5") == (["room", "5"], None)


def test_query_email_keeps_the_whole_address() -> None:
    full, prefix = query_terms("ana.silva@example.com")
    assert "ana.silva@example.com" in full
    assert prefix == "com"


def test_empty_query() -> None:
    assert query_terms("  ") == ([], None)
