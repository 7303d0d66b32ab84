"""The in-memory chunk vectors: nearest first, audiences kept apart, articles replaced whole."""

from __future__ import annotations

import numpy as np

from app.kb.vectors import VectorIndex


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def rows(*vectors: np.ndarray) -> np.ndarray:
    return np.stack(vectors).astype(np.float32)


def test_the_nearest_chunks_come_first_and_audiences_stay_apart() -> None:
    index = VectorIndex(dim=3)
    index.put_article("w1", "returns", "all", [0, 1], rows(unit(1, 0, 0), unit(0.7, 0.7, 0)))
    index.put_article("w1", "internal-runbook", "agents", [0], rows(unit(1, 0.05, 0)))
    index.put_article("w2", "other-workspace", "all", [0], rows(unit(1, 0, 0)))
    query = unit(1, 0.1, 0)
    agents = index.search("w1", query, k=3, audience="agents")
    assert [(h.article_id, h.chunk) for h in agents] == [
        ("internal-runbook", 0), ("returns", 0), ("returns", 1),
    ]  # fmt: skip
    assert agents[0].score > agents[1].score > agents[2].score
    public = index.search("w1", query, k=3, audience="all")
    assert [h.article_id for h in public] == ["returns", "returns"]  # never the internal one
    assert index.best_articles("w1", query, k=5, audience="all") == [("returns", public[0].score)]
    assert index.search("w3", query, k=3) == []


def test_an_article_is_replaced_whole_and_removed() -> None:
    index = VectorIndex(dim=2)
    index.put_article("w", "a", "all", [0, 1, 2], rows(unit(1, 0), unit(0, 1), unit(1, 1)))
    assert index.size("w") == 3
    index.put_article("w", "a", "all", [0], rows(unit(0, 1)))
    assert index.size("w") == 1
    assert [h.chunk for h in index.search("w", unit(1, 0), k=5)] == [0]
    index.remove_article("w", "a")
    assert index.size("w") == 0
    assert index.search("w", unit(1, 0), k=5) == []


def test_a_hundred_thousand_chunks_are_held_at_four_bytes_a_dimension() -> None:
    index = VectorIndex(dim=384)
    rng = np.random.default_rng(7)
    for a in range(100):
        block = rng.standard_normal((1000, 384)).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        index.put_article("w", f"a{a}", "all", list(range(1000)), block)
    assert index.size() == 100_000
    assert index.nbytes() == 100_000 * 384 * 4
    target = index._spaces["w"].blocks["a42"].vectors[17]
    [hit] = index.search("w", target, k=1)
    assert (hit.article_id, hit.chunk) == ("a42", 17)
    assert abs(hit.score - 1.0) < 1e-4


def test_an_article_scores_as_its_two_nearest_chunks_and_names_its_best() -> None:
    rng = np.random.default_rng(11)
    index = VectorIndex(dim=16)
    held: dict[str, tuple[str, np.ndarray]] = {}
    for a in range(60):
        block = rng.standard_normal((int(rng.integers(1, 6)), 16)).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        audience = "all" if a % 3 else "agents"
        index.put_article("w", f"a{a}", audience, list(range(len(block))), block)
        held[f"a{a}"] = (audience, block)
    query = unit(*rng.standard_normal(16))
    for audience in ("agents", "all"):
        expected = {}
        for article_id, (seen_by, block) in held.items():
            if audience == "all" and seen_by != "all":
                continue
            cosines = np.sort(block @ query)[::-1]
            expected[article_id] = (cosines[:2].mean(), int(np.argmax(block @ query)))
        hits = index.articles("w", query, k=10, audience=audience)
        ranked = sorted(expected, key=lambda a: -expected[a][0])[:10]
        assert [h.article_id for h in hits] == ranked
        for hit in hits:
            assert abs(hit.score - expected[hit.article_id][0]) < 1e-5
            assert hit.chunk == expected[hit.article_id][1]
        if audience == "all":
            assert all(held[h.article_id][0] == "all" for h in hits)
