"""Logs every garbage collection that stops a server process for longer than 20 ms.

Put on PYTHONPATH of the servers a benchmark starts (bench.fanout.run does), so a latency tail
can be told apart from a collector pause. `at` is CLOCK_MONOTONIC, the clock the load generator
stamps its measured window with, so pauses can be matched to a run. Costs two clock reads per
collection.
"""

import gc
import os
import sys
import time

THRESHOLD_MS = 20.0
_started = [0.0]


def _watch(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    took = (time.perf_counter() - _started[0]) * 1000
    if took >= THRESHOLD_MS:
        sys.stderr.write(
            f"GC-PAUSE pid={os.getpid()} generation={info['generation']} ms={took:.0f} "
            f"at={time.monotonic():.4f}\n"
        )
        sys.stderr.flush()


gc.callbacks.append(_watch)
