"""Knowledge-base lookups as the knowledge base grows: query time and memory at 10k and 100k
passages, and how fast passages are embedded.

    .venv/bin/python -m bench.kb.scale [--sizes 10000,100000] [--queries 200]

Passages are the retrieval set's real passages, repeated with a number appended until the
size is reached; their vectors are the model's vectors of the originals with a little noise
(embedding 100,000 passages would take minutes and measure the model, which the indexing row
measures on its own). A query is what a live lookup does in one process: embed the question
with the model (in this thread), one matrix product over the vectors the audience may see,
each article's two best passages, BM25 over the postings of the question's words, the score
sum. Memory is what the vectors and
the keyword index hold (tracemalloc over building them). A floor in the same run: the bare
matrix product, without the model or the keywords.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.kb.embedder import load
from app.kb.engine import DEFAULT_MODEL, fuse
from app.kb.keywords import ArticleKeywords
from app.kb.vectors import VectorIndex
from bench.actions.report import PREAMBLE
from bench.sections import replace_section

ROOT = Path(__file__).resolve().parents[2]
SET = ROOT / "bench" / "kb" / "retrieval_set.json"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def passages(data: dict[str, object]) -> list[str]:
    out: list[str] = []
    for article in data["articles"]:  # type: ignore[attr-defined]
        title = article["title"]
        for block in str(article["body"]).split("\n## "):
            out.append(f"{title} — {block.strip()[:900]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    data = json.loads(SET.read_text())
    base = passages(data)
    questions = [q["q"] for q in data["queries"]]
    model = load(DEFAULT_MODEL, threads=1)

    started = time.perf_counter()
    base_vectors = model.embed(base)
    indexing = len(base) / (time.perf_counter() - started)

    rows = []
    rng = np.random.default_rng(1)
    for size in sizes:
        picks = np.arange(size) % len(base)
        noise = rng.standard_normal((size, model.dim)).astype(np.float32) * 0.02
        vectors = base_vectors[picks] + noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        texts = [f"{base[i]} #{n}" for n, i in enumerate(picks)]
        tracemalloc.start()
        index = VectorIndex(model.dim)
        per_article = 25
        public: list[tuple[str, list[str]]] = []
        for a in range(0, size, per_article):
            chunk = list(range(min(per_article, size - a)))
            audience = "all" if (a // per_article) % 5 else "agents"
            index.put_article("w", f"a{a}", audience, chunk, vectors[a : a + len(chunk)])
            if audience == "all":
                public.append((f"a{a}", texts[a : a + len(chunk)]))
        keywords = ArticleKeywords(public)
        index.search("w", vectors[0], 1)  # stack the matrix
        memory = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()

        times: list[float] = []
        floor: list[float] = []
        matrix, _, public_rows, _ = index._stacked("w")
        matrix = matrix[:public_rows]
        for q in (questions * ((args.queries // len(questions)) + 1))[: args.queries]:
            t0 = time.perf_counter()
            qv = model.embed([q])[0]
            hits = index.articles("w", qv, 20, "all")
            nearest = [(h.article_id, h.score, h.chunk) for h in hits]
            fuse(nearest, keywords.best(q, 5, {a for a, _, _ in nearest}), 5)
            times.append((time.perf_counter() - t0) * 1000)
            t1 = time.perf_counter()
            matrix @ qv
            floor.append((time.perf_counter() - t1) * 1000)
        rows.append((size, times, floor, memory))

    lines = [
        "## Knowledge base: lookups at 10k and 100k passages (bench/kb/scale)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with "
        f"`.venv/bin/python -m bench.kb.scale --sizes {args.sizes} --queries {args.queries}` "
        f"on {platform.machine()}, {platform.python_version()}, model `{DEFAULT_MODEL}` "
        f"({model.dim} dimensions, one onnxruntime thread). Aim: query p99 ≤ 20 ms.",
        "",
        "| passages | query p50 ms | query p99 ms | floor (matrix product) p50 / p99 ms "
        "| memory MB (vectors + keywords) | MB per 100k passages |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for size, times, floor, memory in rows:
        lines.append(
            f"| {size:,} | {statistics.median(times):.1f} | {percentile(times, 99):.1f} "
            f"| {statistics.median(floor):.2f} / {percentile(floor, 99):.2f} "
            f"| {memory / 1e6:.0f} | {memory / 1e6 * 100_000 / size:.0f} |"
        )
    first, last = rows[0], rows[-1]
    lines += [
        "",
        f"- Growth {first[0]:,} → {last[0]:,} passages: query p50 "
        f"{statistics.median(first[1]):.1f} → {statistics.median(last[1]):.1f} ms "
        f"({statistics.median(last[1]) / statistics.median(first[1]):.1f}x).",
        f"- Indexing: {indexing:.0f} passages/s embedded (one thread, the set's "
        f"{len(base)} real passages); the worker embeds, never the process serving sockets.",
        "- A query embeds the question with the model (about 2 ms of it), so the p50 floor of "
        "a lookup is the model, not the index, until the matrix product grows past it.",
        "",
    ]
    text = "\n".join(lines)
    args.output.write_text(replace_section(args.output, text, PREAMBLE))
    print(text)


if __name__ == "__main__":
    main()
