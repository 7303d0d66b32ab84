"""Indexing and answering make no connection beyond this machine: the model runs in process,
and only the local store and Redis are spoken to."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, ipaddress, json, socket, sys

outside = []
real_connect = socket.socket.connect

def local(address):
    host = address[0] if isinstance(address, tuple) else address
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"

def guarded(self, address):
    if not local(address):
        outside.append(repr(address))
        raise OSError("only this machine may be reached")
    return real_connect(self, address)

socket.socket.connect = guarded
real_getaddrinfo = socket.getaddrinfo

def lookup(host, *args, **kwargs):
    if host not in ("127.0.0.1", "localhost", "::1", None):
        outside.append(f"dns {host}")
        raise OSError("no name lookups")
    return real_getaddrinfo(host, *args, **kwargs)

socket.getaddrinfo = lookup

import numpy as np
import redis.asyncio as aioredis
from bson import ObjectId
from pymongo import AsyncMongoClient

from app.domain.kb import chunks
from app.kb.engine import KnowledgeBase
from app.kb.stored import Passage, StoredArticle, StoredVectors

async def main(mongodb_url, redis_url, db_name):
    client = AsyncMongoClient(mongodb_url, tz_aware=True)
    redis = aioredis.from_url(redis_url)
    kb = KnowledgeBase(StoredVectors(client[db_name], redis))
    ws = str(ObjectId())
    found = chunks("Refunds", "## Timing\\n\\nRefunds reach your card within 5 working days.")
    vectors = await kb.embed([c.text for c in found])
    passages = [Passage(c.n, c.heading, c.text) for c in found]
    await kb.stored.put(ws, StoredArticle("refunds", 1, kb.model, "all", passages, vectors))
    answers = await kb.search(ws, "cuándo me devuelven el dinero", audience="all", k=1)
    await redis.aclose()
    await client.close()
    return [a.article_id for a in answers]

ids = asyncio.run(main(*sys.argv[1:4]))
print(json.dumps({"outside": outside, "answers": ids}))
"""


def test_indexing_and_answering_reach_nothing_beyond_this_machine(
    mongodb_url: str, redis_url: str, db_name: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, mongodb_url, redis_url, db_name],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"outside": [], "answers": ["refunds"]}
