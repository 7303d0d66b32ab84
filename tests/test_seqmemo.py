"""One computation per workspace seq, shared by everyone who asks at that seq."""

import asyncio

import pytest

from app.seqmemo import SeqMemo


async def test_callers_at_one_seq_share_one_computation_and_a_new_seq_recomputes() -> None:
    memo: SeqMemo[int] = SeqMemo()
    runs = 0
    gate = asyncio.Event()

    async def compute() -> int:
        nonlocal runs
        runs += 1
        await gate.wait()
        return runs

    waiting = [asyncio.create_task(memo.get("ws-1", 7, compute)) for _ in range(20)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == [1] * 20
    assert await memo.get("ws-1", 7, compute) == 1
    assert await memo.get("ws-1", 8, compute) == 2
    assert await memo.get("ws-2", 8, compute) == 3  # workspaces never share answers


async def test_a_failure_is_not_remembered_and_a_caller_giving_up_cancels_nobody() -> None:
    memo: SeqMemo[str] = SeqMemo()

    async def broken() -> str:
        raise RuntimeError("store unreachable")

    with pytest.raises(RuntimeError):
        await memo.get("ws", 1, broken)

    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "fresh"

    impatient = asyncio.create_task(memo.get("ws", 1, slow))
    patient = asyncio.create_task(memo.get("ws", 1, slow))
    await asyncio.sleep(0)
    impatient.cancel()
    gate.set()
    assert await patient == "fresh"


async def test_the_oldest_workspace_is_forgotten_beyond_the_limit() -> None:
    memo: SeqMemo[str] = SeqMemo(max_keys=2)
    calls: list[str] = []

    def answer(key: str):
        async def compute() -> str:
            calls.append(key)
            return key

        return compute

    for key in ("a", "b", "c"):
        await memo.get(key, 1, answer(key))
    await memo.get("c", 1, answer("c"))
    await memo.get("a", 1, answer("a"))
    assert calls == ["a", "b", "c", "a"]
