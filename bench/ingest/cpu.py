"""CPU time the server-side programs used, read from /proc before and after a run (they are
idle in between runs, so the difference is the run's)."""

from __future__ import annotations

import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, tuple[str, int, float]]:
    """pid -> (command name, parent pid, CPU seconds used) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK)
    return found


MACHINE = "(whole machine)"
WALL = "(wall clock)"  # when a snapshot was taken, not CPU time


def machine_seconds() -> float:
    """CPU seconds every core of the machine has been busy (all processes, any owner)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


class CpuWatch:
    """CPU seconds of this process's descendants, summed by label: the label given to a pid
    (and its descendants) with `name`, else the command name (FerretDB, PostgreSQL's backends,
    Redis). Unnamed Python processes are left out: the load generator and the socket readers
    report their own. MACHINE is every process's, this benchmark's or not."""

    def __init__(self, skip: tuple[str, ...] = ("python", "python3")) -> None:
        self.root = os.getpid()
        self.labels: dict[int, str] = {}
        self.skip = skip

    def name(self, pid: int, label: str) -> None:
        self.labels[pid] = label

    def snapshot(self) -> dict[str, float]:
        stats = _stats()
        used: dict[str, float] = {}
        for pid, (comm, _, seconds) in stats.items():
            label, ancestor = None, pid
            while ancestor in stats and ancestor != self.root:
                label = label or self.labels.get(ancestor)
                ancestor = stats[ancestor][1]
            if ancestor != self.root or pid == self.root:
                continue
            if label is None:
                if comm in self.skip:
                    continue
                label = comm
            used[label] = used.get(label, 0.0) + seconds
        used[MACHINE] = machine_seconds()
        used[WALL] = time.monotonic()
        return used


def used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds per label between two snapshots (a process gone since counts nothing)."""
    return {label: max(0.0, after[label] - before.get(label, 0.0)) for label in sorted(after)}
