"""Knowledge-base retrieval quality and cost of each embedding model, alone and fused with BM25.

    python -m bench.kb.retrieval [--set bench/kb/retrieval_set.json] [--models a,b]
                                 [--chunking section|paragraph] [--keyword-weights 1,0.5]
                                 [--score-weight 0.2] [--misses RANKER] [--json PATH]

Each article is cut into chunks: its title with the text before the first `## ` heading, then
one chunk per `## ` section (with `--chunking paragraph`: one per paragraph or list item of a
section, prefixed with the section heading), every chunk prefixed with the article's title. A
query scores each chunk (cosine for a model, BM25 for keywords) and an article scores as its
best chunk.

An article scores as its best chunk, or, in the rankers named "two best passages", as the mean
of its two best chunks (its one chunk's when it has one).

Hybrid rankers:
- "+ keyword (w=W)": reciprocal-rank fusion (k = 60) of the vector and keyword article
  rankings, the keyword ranking weighted W against the vector one;
- "+ keyword score (w=W)": cosine + W x BM25 / its ceiling for the query (so in [0, 1));
- with several models, "all models": the sum of their cosines, and "routed by query language":
  all models for English queries, only the multilingual ones for the others (the language
  taken from the set, as the inbox would from the conversation).

Metrics per query, averaged over all queries, English ones and the others: recall@k (share of
the relevant articles in the top k), MRR (1 / rank of the first relevant article, 0 if none).
Each model is measured in a fresh process: load time (including the checksum of its files),
RSS growth after loading and at the peak while embedding every chunk, chunks per second with
one and with two onnxruntime threads (best of two passes), and the median time of one query.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.kb import models
from app.kb.embedder import load
from app.kb.engine import DEFAULT_MODEL, KEYWORD_WEIGHT
from app.kb.keywords import BM25
from bench.actions.report import PREAMBLE
from bench.sections import replace_section

DEFAULT_SET = Path(__file__).with_name("retrieval_set.json")
RRF_K = 60
LIST_ITEM = re.compile(r"\s*(?:[-*+]|\d+[.)])\s")
SPEED_PASSES = 2


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    locale: str
    body: str


@dataclass(frozen=True)
class Query:
    q: str
    lang: str
    relevant: frozenset[str]
    kind: str


@dataclass
class Corpus:
    articles: list[Article]
    queries: list[Query]
    chunks: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # first chunk of each article


def load_set(path: Path, chunking: str = "section") -> Corpus:
    raw = json.loads(path.read_text(encoding="utf-8"))
    articles = [
        Article(id=a["id"], title=a["title"], locale=a.get("locale", ""), body=a["body"])
        for a in raw["articles"]
    ]
    queries = [
        Query(q=q["q"], lang=q["lang"], relevant=frozenset(q["relevant"]), kind=q.get("kind", ""))
        for q in raw["queries"]
    ]
    corpus = Corpus(articles, queries)
    for article in articles:
        corpus.starts.append(len(corpus.chunks))
        corpus.chunks.extend(chunk(article, chunking))
    return corpus


def chunk(article: Article, chunking: str = "section") -> list[str]:
    """The title with any text before the first `## ` heading, then each `## ` section (its
    heading included), each prefixed with the title. Headings inside code fences do not
    split."""
    sections: list[list[str]] = [[]]
    fenced = False
    for line in article.body.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            sections.append([line[3:].strip()])
        else:
            sections[-1].append(line)
    out = []
    for index, lines in enumerate(sections):
        text = "\n".join(lines).strip()
        if index == 0:
            out.append(f"{article.title}\n\n{text}".strip())
        elif text and chunking == "paragraph":
            heading, rest = lines[0], "\n".join(lines[1:])
            out += [f"{article.title}\n{heading}\n{part}" for part in paragraphs(rest)]
        elif text:
            out.append(f"{article.title}\n\n{text}")
    return out


def paragraphs(text: str) -> list[str]:
    """The paragraphs and list items of a section body, blank ones dropped."""
    parts: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        item = LIST_ITEM.match(line) is not None
        if not line.strip() or item:
            if current:
                parts.append("\n".join(current).strip())
            current = [line] if line.strip() else []
        else:
            current.append(line)
    if current:
        parts.append("\n".join(current).strip())
    return [part for part in parts if part]


# Rankings: for each query, article indices best first (only articles with a positive score
# for keywords; every article for vectors).
Ranking = list[list[int]]


ArticleScores = NDArray[np.float64]  # queries x articles


def article_scores(chunk_scores: NDArray[np.float64], starts: Sequence[int]) -> ArticleScores:
    """Each article's best chunk score, per query."""
    best: ArticleScores = np.maximum.reduceat(chunk_scores, np.asarray(starts), axis=1)
    return best


def article_two_best(
    chunk_scores: NDArray[np.float64], starts: Sequence[int], size: int
) -> ArticleScores:
    """Each article's mean of its two best chunk scores (its one chunk's, if only one), per
    query: how Tandem's engine scores an article by meaning (app/kb/vectors.py)."""
    ends = [*starts[1:], size]
    columns = []
    for start, end in zip(starts, ends, strict=True):
        block = np.sort(chunk_scores[:, start:end], axis=1)[:, ::-1]
        columns.append(block[:, :2].mean(axis=1))
    return np.stack(columns, axis=1)


def ranking(scores: ArticleScores, positive_only: bool = False) -> Ranking:
    out: Ranking = []
    for row in scores:
        order = np.argsort(-row, kind="stable")
        out.append([int(i) for i in order if row[i] > 0.0 or not positive_only])
    return out


def keyword_scores(corpus: Corpus) -> ArticleScores:
    """BM25 of each article's best chunk divided by the query's ceiling, so in [0, 1)."""
    index = BM25(corpus.chunks)
    rows = []
    for query in corpus.queries:
        ceiling = index.ceiling(query.q)
        rows.append([score / ceiling if ceiling else 0.0 for score in index.scores(query.q)])
    return article_scores(np.array(rows, dtype=np.float64), corpus.starts)


def fuse(rankings: Sequence[tuple[Ranking, float]], k: int = RRF_K) -> Ranking:
    """Weighted reciprocal-rank fusion of several rankings of the same queries."""
    fused: Ranking = []
    for per_query in zip(*(ranking for ranking, _ in rankings), strict=True):
        score: dict[int, float] = {}
        for order, (_, weight) in zip(per_query, rankings, strict=True):
            for rank, article in enumerate(order, start=1):
                score[article] = score.get(article, 0.0) + weight / (k + rank)
        fused.append(sorted(score, key=lambda article: -score[article]))
    return fused


@dataclass(frozen=True)
class Scores:
    recall1: float
    recall3: float
    mrr: float
    count: int


def evaluate(ranking: Ranking, corpus: Corpus, which: Sequence[int]) -> Scores:
    ids = [article.id for article in corpus.articles]
    r1: list[float] = []
    r3: list[float] = []
    rr: list[float] = []
    for index in which:
        relevant = corpus.queries[index].relevant
        order = [ids[article] for article in ranking[index]]
        r1.append(len(relevant & set(order[:1])) / len(relevant))
        r3.append(len(relevant & set(order[:3])) / len(relevant))
        first = next((rank for rank, aid in enumerate(order, start=1) if aid in relevant), None)
        rr.append(1.0 / first if first else 0.0)
    if not which:
        return Scores(float("nan"), float("nan"), float("nan"), 0)
    return Scores(statistics.fmean(r1), statistics.fmean(r3), statistics.fmean(rr), len(which))


def _rss_kib() -> tuple[int, int]:
    """Current and peak resident set size of this process, in KiB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def _speed(name: str, threads: int, chunks: list[str]) -> float:
    embedder = load(name, threads=threads)
    embedder.embed(chunks[:8])
    best = float("inf")
    for _ in range(SPEED_PASSES):
        started = time.perf_counter()
        embedder.embed(chunks)
        best = min(best, time.perf_counter() - started)
    return len(chunks) / best


def worker(name: str, set_path: Path, chunking: str, out: Path) -> None:
    """Measure one model in this (fresh) process; write vectors and costs under `out`."""
    corpus = load_set(set_path, chunking)
    rss_before, _ = _rss_kib()
    started = time.perf_counter()
    embedder = load(name, threads=1)
    load_s = time.perf_counter() - started
    rss_loaded, _ = _rss_kib()
    chunk_vectors = embedder.embed(corpus.chunks)
    _, peak = _rss_kib()
    query_texts = [query.q for query in corpus.queries]
    query_vectors = embedder.embed(query_texts)
    latencies = []
    for text in query_texts:
        t0 = time.perf_counter()
        embedder.embed([text])
        latencies.append(time.perf_counter() - t0)
    del embedder
    cost = {
        "model": name,
        "dim": int(chunk_vectors.shape[1]),
        "file_mb": sum(m.size for m in models.spec(name).files()) / 1e6,
        "load_s": load_s,
        "rss_load_mb": (rss_loaded - rss_before) / 1024,
        "rss_peak_mb": (peak - rss_before) / 1024,
        "chunks_per_s_1t": _speed(name, 1, corpus.chunks),
        "chunks_per_s_2t": _speed(name, 2, corpus.chunks),
        "query_ms_p50": statistics.median(latencies) * 1000,
    }
    np.save(out / f"{name}.chunks.npy", chunk_vectors)
    np.save(out / f"{name}.queries.npy", query_vectors)
    (out / f"{name}.cost.json").write_text(json.dumps(cost))


def measure(
    name: str, set_path: Path, chunking: str, out: Path
) -> tuple[dict[str, Any], NDArray[np.float64]]:
    """Run `worker` for `name` in a subprocess; its costs, and the query-by-chunk cosines."""
    command = [sys.executable, "-m", "bench.kb.retrieval", "--worker", name, "--set", str(set_path)]
    subprocess.run([*command, "--chunking", chunking, "--out", str(out)], check=True)
    cost: dict[str, Any] = json.loads((out / f"{name}.cost.json").read_text())
    chunks = np.load(out / f"{name}.chunks.npy").astype(np.float64)
    queries = np.load(out / f"{name}.queries.npy").astype(np.float64)
    return cost, queries @ chunks.T


def _fmt(value: float) -> str:
    return "-" if value != value else f"{value:.3f}"


def quality_table(results: dict[str, Ranking], corpus: Corpus) -> list[str]:
    everyone = list(range(len(corpus.queries)))
    english = [i for i, query in enumerate(corpus.queries) if query.lang == "en"]
    others = [i for i, query in enumerate(corpus.queries) if query.lang != "en"]
    lines = [
        f"Queries: {len(everyone)} ({len(english)} English, {len(others)} not); "
        f"articles: {len(corpus.articles)}; chunks: {len(corpus.chunks)}.",
        "",
        "| ranker | R@1 | R@3 | MRR | en R@1 | en R@3 | en MRR | non-en R@1 | non-en R@3 "
        "| non-en MRR |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, ranking in results.items():
        cells = []
        for which in (everyone, english, others):
            s = evaluate(ranking, corpus, which)
            cells += [_fmt(s.recall1), _fmt(s.recall3), _fmt(s.mrr)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def kind_table(results: dict[str, Ranking], corpus: Corpus) -> list[str]:
    kinds = sorted({query.kind for query in corpus.queries})
    groups = {kind: [i for i, q in enumerate(corpus.queries) if q.kind == kind] for kind in kinds}
    header = " | ".join(f"{kind} ({len(groups[kind])})" for kind in kinds)
    lines = ["| ranker (R@3 by query kind) | " + header + " |", "|---" * (len(kinds) + 1) + "|"]
    for label, ranking in results.items():
        cells = [_fmt(evaluate(ranking, corpus, groups[kind]).recall3) for kind in kinds]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def cost_table(costs: list[dict[str, Any]], chunks: int) -> list[str]:
    lines = [
        "| model | dim | files MB | load s | RSS +MB loaded | RSS +MB peak | chunks/s 1 thread "
        "| chunks/s 2 threads | one query ms (p50) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in costs:
        lines.append(
            f"| {c['model']} | {c['dim']} | {c['file_mb']:.1f} | {c['load_s']:.2f} "
            f"| {c['rss_load_mb']:.0f} | {c['rss_peak_mb']:.0f} | {c['chunks_per_s_1t']:.0f} "
            f"| {c['chunks_per_s_2t']:.0f} | {c['query_ms_p50']:.1f} |"
        )
    lines.append("")
    lines.append(f"Speed over the set's {chunks} chunks, best of {SPEED_PASSES} passes.")
    return lines


def misses(ranking: Ranking, corpus: Corpus) -> list[str]:
    ids = [article.id for article in corpus.articles]
    lines = []
    for query, order in zip(corpus.queries, ranking, strict=True):
        top = [ids[article] for article in order[:3]]
        if not query.relevant & set(top):
            want = ",".join(sorted(query.relevant))
            lines.append(f"- [{query.lang}/{query.kind}] {query.q!r}: want {want}, got {top}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kb.retrieval", description=__doc__)
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, dest="set_path")
    parser.add_argument("--models", default=",".join(models.MODELS))
    parser.add_argument("--chunking", choices=["section", "paragraph"], default="section")
    parser.add_argument("--keyword-weights", default="1,0.5", help="for rank fusion")
    parser.add_argument("--score-weight", type=float, default=0.2, help="for score fusion")
    parser.add_argument("--misses", action="append", default=[], metavar="RANKER")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument(
        "--write",
        type=Path,
        default=None,
        help="put the tables in this file's section for them (e.g. BENCHMARKS.md)",
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        worker(args.worker, args.set_path, args.chunking, args.out)
        return 0

    names = [name.strip() for name in args.models.split(",") if name.strip()]
    weights = [float(weight) for weight in args.keyword_weights.split(",") if weight.strip()]
    for name in names:
        models.fetch(name)
    corpus = load_set(args.set_path, args.chunking)
    keyword_best = keyword_scores(corpus)
    keyword = ranking(keyword_best, positive_only=True)
    results: dict[str, Ranking] = {"keyword (BM25)": keyword}
    costs = []
    cosines: dict[str, ArticleScores] = {}
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as scratch:
        for name in names:
            cost, chunk_cosines = measure(name, args.set_path, args.chunking, Path(scratch))
            costs.append(cost)
            cosines[name] = article_scores(chunk_cosines, corpus.starts)
            vector = ranking(cosines[name])
            results[name] = vector
            for weight in weights:
                fused = fuse([(vector, 1.0), (keyword, weight)])
                results[f"{name} + keyword (w={weight:g})"] = fused
            w = args.score_weight
            results[f"{name} + keyword score (w={w:g})"] = ranking(cosines[name] + w * keyword_best)
            two = article_two_best(chunk_cosines, corpus.starts, len(corpus.chunks))
            results[f"{name}, two best passages"] = ranking(two)
            results[f"{name}, two best passages + keyword score (w={w:g})"] = ranking(
                two + w * keyword_best
            )
    if len(names) > 1:
        every = sum(cosines.values(), np.zeros_like(keyword_best))
        multilingual = [name for name in names if models.spec(name).multilingual]
        results["all models"] = ranking(every)
        if multilingual:
            other = sum((cosines[name] for name in multilingual), np.zeros_like(keyword_best))
            english = np.array([[query.lang == "en"] for query in corpus.queries])
            results["routed by query language"] = ranking(np.where(english, every, other))

    engine = f"{DEFAULT_MODEL}, two best passages + keyword score (w={KEYWORD_WEIGHT:g})"
    lines = [f"### Retrieval quality ({args.chunking} chunks)", ""]
    if engine in results:
        lines += [f"Tandem ranks as the row **{engine}** does (app/kb/engine.py).", ""]
    lines += [*quality_table(results, corpus), ""]
    lines += ["### Recall@3 by query kind", "", *kind_table(results, corpus), ""]
    lines += ["### Model cost (2-core machine, shared)", "", *cost_table(costs, len(corpus.chunks))]
    for label in args.misses:
        lines += ["", f"### Misses in the top 3: {label}", "", *misses(results[label], corpus)]
    print("\n".join(lines))
    if args.write is not None:
        heading = f"## Knowledge base: choosing the embedder ({args.chunking} chunks)"
        command = (
            f"`.venv/bin/python -m bench.kb.retrieval --chunking {args.chunking} "
            f"--write BENCHMARKS.md`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on the set "
            f"`{args.set_path.name}` ({len(corpus.queries)} queries). Aim: recall@3 ≥ 0.97."
        )
        section = "\n".join([heading, "", f"Measured with {command}", "", *lines, ""])
        args.write.write_text(replace_section(args.write, section, PREAMBLE))
    if args.json is not None:
        summary = {
            label: evaluate(ranking, corpus, list(range(len(corpus.queries)))).__dict__
            for label, ranking in results.items()
        }
        args.json.write_text(json.dumps({"quality": summary, "cost": costs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
