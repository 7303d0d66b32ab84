"""Keyword ranking of passages: exact words found, and the trimmed candidate list ranks as the
whole one would."""

from __future__ import annotations

import random

from app.kb.engine import fuse
from app.kb.keywords import ArticleKeywords

WORDS = [
    "refund",
    "parcel",
    "order",
    "invoice",
    "password",
    "card",
    "courier",
    "tracking",
    "box",
    "label",
]


def test_an_order_number_finds_its_article_and_its_passage() -> None:
    keywords = ArticleKeywords(
        [
            ("shipping", ["Tracking a parcel", "Order NW-48213 left our warehouse"]),
            ("refunds", ["Refunds take five days"]),
        ]
    )
    found = keywords.best("where is nw-48213")
    assert set(found) == {"shipping"}
    assert found["shipping"][1] == 1  # the passage that holds the number


def test_trimmed_candidates_rank_exactly_as_every_matching_article_would() -> None:
    rng = random.Random(3)
    articles = [
        (f"a{n}", [" ".join(rng.choices(WORDS, k=12)) for _ in range(rng.randint(1, 4))])
        for n in range(400)
    ]
    keywords = ArticleKeywords(articles)
    for _ in range(50):
        query = " ".join(rng.choices(WORDS, k=3))
        nearest = [(f"a{rng.randrange(400)}", rng.uniform(-0.2, 0.9), 0) for _ in range(20)]
        held = {article for article, _, _ in nearest}
        everything = keywords.best(query)
        trimmed = keywords.best(query, 5, held)
        assert len(trimmed) < len(everything)
        assert fuse(nearest, trimmed, 5) == fuse(nearest, everything, 5)
