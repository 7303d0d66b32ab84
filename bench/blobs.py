"""How fast the blob store puts and reads attachments, against one plain document of the same
bytes.

    .venv/bin/python -m bench.blobs
    .venv/bin/python -m bench.blobs --store sqlite,postgresql --sizes 100K,1M,10M

For each backend, starts a local FerretDB the way `tandem serve` does (app/devservices, a fresh
data directory, durable settings unless --no-persist). For each size it puts random blobs, about
--megabytes of them, one after another through `MongoBlobStore` (255 KiB chunks unless
--chunk-size), reads each back whole, and does the same with the floor: the same bytes as one
document `{_id, data}`, inserted with `insert_one` and read with `find_one` by `_id` — the
least any store of these bytes in FerretDB can cost. A ratio is the blob store's MB/s over the
floor's. Last, it times `sweep_orphans` over everything stored. Prints the results; writes
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bson import Binary, ObjectId
from pymongo import AsyncMongoClient

from app.blobs.mongo import MongoBlobStore
from app.devservices import local_services
from app.settings import STORE_BACKENDS

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "bench_blobs"
MB = 1024 * 1024
UNITS = {"K": 1024, "M": MB}


def say(message: str) -> None:
    print(f"[blobs] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def parse_size(text: str) -> int:
    text = text.strip().upper()
    if text[-1] in UNITS:
        return int(float(text[:-1]) * UNITS[text[-1]])
    return int(text)


@dataclass(frozen=True)
class Row:
    store: str
    size: int
    count: int
    put_mb_s: float
    read_mb_s: float
    floor_put_mb_s: float
    floor_read_mb_s: float
    put_p50_ms: float
    read_p50_ms: float


async def timed(count: int, step: Callable[[int], Awaitable[object]]) -> tuple[float, list[float]]:
    """Total seconds of `count` sequential steps, and each step's seconds."""
    each: list[float] = []
    for i in range(count):
        started = time.perf_counter()
        await step(i)
        each.append(time.perf_counter() - started)
    return sum(each), each


async def measure_size(backend: str, db: Any, blobs: MongoBlobStore, size: int, count: int) -> Row:
    ws = str(ObjectId())
    payloads = [os.urandom(size) for _ in range(count)]
    ids: list[str] = []

    async def put(i: int) -> None:
        ids.append((await blobs.put(ws, f"f{i}.bin", "application/zip", payloads[i])).id)

    async def read(i: int) -> None:
        data = await blobs.read_all(ws, ids[i])
        assert len(data) == size

    floor = db["blob_floor"]
    floor_ids = [ObjectId() for _ in range(count)]

    async def floor_put(i: int) -> None:
        await floor.insert_one({"_id": floor_ids[i], "data": Binary(payloads[i])})

    async def floor_read(i: int) -> None:
        doc = await floor.find_one({"_id": floor_ids[i]})
        assert doc is not None
        assert len(doc["data"]) == size

    # One of each first, untimed, so no figure pays for a collection's creation.
    await blobs.read_all(ws, (await blobs.put(ws, "w", "application/zip", b"w" * size)).id)
    warm = ObjectId()
    await floor.insert_one({"_id": warm, "data": Binary(b"w" * size)})
    await floor.find_one({"_id": warm})

    total = size * count / MB
    put_s, put_each = await timed(count, put)
    read_s, read_each = await timed(count, read)
    floor_put_s, _ = await timed(count, floor_put)
    floor_read_s, _ = await timed(count, floor_read)
    return Row(
        store=backend,
        size=size,
        count=count,
        put_mb_s=total / put_s,
        read_mb_s=total / read_s,
        floor_put_mb_s=total / floor_put_s,
        floor_read_mb_s=total / floor_read_s,
        put_p50_ms=statistics.median(put_each) * 1000,
        read_p50_ms=statistics.median(read_each) * 1000,
    )


def human(size: int) -> str:
    return f"{size // MB} MB" if size >= MB else f"{size // 1024} KB"


def table(rows: list[Row]) -> str:
    lines = [
        "| store | blob | n | put MB/s | floor put MB/s | put ratio | read MB/s "
        "| floor read MB/s | read ratio | put p50 ms | read p50 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.store} | {human(r.size)} | {r.count} | {r.put_mb_s:.1f} "
            f"| {r.floor_put_mb_s:.1f} | {r.put_mb_s / r.floor_put_mb_s:.2f} "
            f"| {r.read_mb_s:.1f} | {r.floor_read_mb_s:.1f} "
            f"| {r.read_mb_s / r.floor_read_mb_s:.2f} | {r.put_p50_ms:.1f} "
            f"| {r.read_p50_ms:.1f} |"
        )
    return "\n".join(lines)


async def run_backend(
    url: str, backend: str, chunk_size: int, sizes: list[int], counts: list[int]
) -> list[Row]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    try:
        db = client[DB_NAME]
        blobs = MongoBlobStore(db, chunk_size=chunk_size)
        rows = []
        for size, count in zip(sizes, counts, strict=True):
            say(f"{backend}: {count} x {human(size)}")
            rows.append(await measure_size(backend, db, blobs, size, count))
        stored = await db["blob_files"].count_documents({})
        chunks = await db["blob_chunks"].estimated_document_count()
        started = time.perf_counter()
        swept = await blobs.sweep_orphans(timedelta(0))
        say(
            f"{backend}: sweep_orphans over {stored} blobs ({chunks} chunks, "
            f"{sum(s * c for s, c in zip(sizes, counts, strict=True)) / MB:.0f} MB): "
            f"{time.perf_counter() - started:.2f} s, {swept} swept"
        )
        return rows
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default="postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--sizes", default="100K,1M,10M", help="blob sizes (K and M suffixes)")
    parser.add_argument("--megabytes", type=float, default=40.0, help="bytes put per size")
    parser.add_argument("--chunk-size", default="255K", help="the blob store's chunk size")
    parser.add_argument("--no-persist", action="store_true", help="skip the store's flushes")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.store.split(",") if b.strip()]
    if not backends or any(b not in STORE_BACKENDS for b in backends):
        parser.error(f"--store: one or more of {', '.join(STORE_BACKENDS)}")
    sizes = [parse_size(s) for s in args.sizes.split(",") if s]
    counts = [max(3, min(200, int(args.megabytes * MB // size))) for size in sizes]
    rows: list[Row] = []
    for backend in backends:
        with (
            tempfile.TemporaryDirectory(prefix="bench-blobs-") as tmp,
            local_services(
                ROOT / "var",
                need_redis=False,
                persist=not args.no_persist,
                data_dir=Path(tmp),
                store_backend=backend,
            ) as services,
        ):
            assert services.mongodb_url
            run = run_backend(
                services.mongodb_url, backend, parse_size(args.chunk_size), sizes, counts
            )
            rows.extend(asyncio.run(run))
    print(table(rows))


if __name__ == "__main__":
    main()
