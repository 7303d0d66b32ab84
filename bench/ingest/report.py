"""What one point of a run measured, and the markdown section that reports every point."""

from __future__ import annotations

import math
from collections.abc import Callable

import msgspec

from bench.fanout.stats import percentile
from bench.ingest.loadgen import Sent
from bench.ingest.payloads import EMAIL, WHATSAPP
from bench.ingest.sockets import Received

AIM_RATE = 500.0  # messages/s
AIM_P95_MS = 50.0  # webhook-to-socket, per delivery
HEADING = "## Inbound webhooks to live sockets (bench/ingest)"


class Spread(msgspec.Struct):
    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Spread:
        ms = sorted(s * 1000 for s in seconds)
        return cls(
            len(ms),
            percentile(ms, 50),
            percentile(ms, 95),
            percentile(ms, 99),
            ms[-1] if ms else math.nan,
        )

    def cell(self) -> str:
        return f"{self.p50_ms:.1f} / {self.p95_ms:.1f} / {self.p99_ms:.1f}"


class Requests(msgspec.Struct):
    """Answer latency and rate of a run of plain requests (the floors)."""

    sent: int
    ok: int
    per_s: float
    answer: Spread
    client_cpu: float  # the load generator's share of a core while it sent
    server_cpu: float  # the server processes' share of a core
    server_ms: float  # server CPU per request

    @classmethod
    def of(cls, sent: Sent, server_seconds: float) -> Requests:
        took = max(sent.t1) - min(sent.t0)
        return cls(
            sent=len(sent.t0),
            ok=sum(1 for s in sent.status if 200 <= s < 300),
            per_s=len(sent.t0) / took if took > 0 else 0.0,
            answer=Spread.of([b - a for a, b in zip(sent.t0, sent.t1, strict=True)]),
            client_cpu=sent.cpu_seconds / took if took > 0 else 0.0,
            server_cpu=server_seconds / took if took > 0 else 0.0,
            server_ms=server_seconds * 1000 / len(sent.t0),
        )


class Ingest(msgspec.Struct):
    """The webhooks' run: stored, answered, and delivered to every socket."""

    sent: int
    stored: int  # answered 2xx and stored as a new message
    errors: dict[str, int]
    sockets: int
    messages_per_s: float  # messages on every socket / (last delivery - first request start)
    answers_per_s: float
    answer: Spread
    answer_whatsapp: Spread
    answer_email: Spread
    delivery: Spread  # every (message, socket) delivery
    last_socket: Spread  # per message, its latest delivery over the sockets
    first_socket: Spread
    delivered: int
    expected: int
    complete: int  # messages that reached every socket
    duplicates: int
    closed: dict[str, int]
    seconds: float
    client_cpu: float
    reader_cpu: float
    cpu: dict[str, float]  # server-side programs' share of a core over the run
    cpu_ms: dict[str, float]  # and their CPU per message
    machine_cpu: float  # every process's share of a core, this benchmark's or not

    @classmethod
    def of(
        cls, sent: Sent, got: Received, cpu_seconds: dict[str, float], machine_share: float
    ) -> Ingest:
        """`cpu_seconds`: what each server-side program used over the run."""
        n = len(sent.t0)
        answer = [b - a for a, b in zip(sent.t0, sent.t1, strict=True)]
        per_message: dict[int, list[float]] = {}
        every: list[float] = []
        for socket in got.deliveries:
            for i, at in socket:
                latency = at - sent.t0[i]
                every.append(latency)
                per_message.setdefault(i, []).append(latency)
        complete = [i for i, seen in per_message.items() if len(seen) == got.sockets]
        start = min(sent.t0)
        last_answer = max(sent.t1)
        last_delivery = max((sent.t0[i] + max(v) for i, v in per_message.items()), default=start)
        span = last_delivery - start
        answered_span = last_answer - start
        stored = sum(sent.stored)
        return cls(
            sent=n,
            stored=stored,
            errors=sent.errors,
            sockets=got.sockets,
            messages_per_s=len(complete) / span if span > 0 else 0.0,
            answers_per_s=n / answered_span if answered_span > 0 else 0.0,
            answer=Spread.of(answer),
            answer_whatsapp=Spread.of(
                [a for a, c in zip(answer, sent.channel, strict=True) if c == WHATSAPP]
            ),
            answer_email=Spread.of(
                [a for a, c in zip(answer, sent.channel, strict=True) if c == EMAIL]
            ),
            delivery=Spread.of(every),
            last_socket=Spread.of([max(v) for v in per_message.values()]),
            first_socket=Spread.of([min(v) for v in per_message.values()]),
            delivered=len(every),
            expected=stored * got.sockets,
            complete=len(complete),
            duplicates=got.duplicates,
            closed=got.closed,
            seconds=span,
            client_cpu=sent.cpu_seconds / answered_span if answered_span > 0 else 0.0,
            reader_cpu=got.cpu_seconds / span if span > 0 else 0.0,
            cpu={k: v / span for k, v in cpu_seconds.items()} if span > 0 else {},
            cpu_ms={k: v * 1000 / n for k, v in cpu_seconds.items()},
            machine_cpu=machine_share,
        )


class Point(msgspec.Struct):
    messages: int
    concurrency: int
    rate: float
    floor: Requests | None
    healthz: Requests | None
    ingest: Ingest | None
    error: str | None = None

    @property
    def label(self) -> str:
        pace = f", {self.rate:g}/s offered" if self.rate > 0 else ""
        return f"{self.messages:,} msgs, {self.concurrency} concurrent{pace}"


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def _rows(points: list[Point], cores: int) -> list[tuple[str, list[str]]]:
    def each(get: Callable[[Point], str]) -> list[str]:
        cells = []
        for p in points:
            try:
                cells.append(get(p))
            except (AttributeError, TypeError, ZeroDivisionError):
                cells.append("—")
        return cells

    rows: list[tuple[str, list[str]]] = [
        (
            "**Tandem: messages/s** (stored, on all sockets)",
            each(lambda p: f"**{p.ingest.messages_per_s:.0f}**"),
        ),
        ("webhook answers/s", each(lambda p: f"{p.ingest.answers_per_s:.0f}")),
        ("webhook answer p50 / p95 / p99 ms", each(lambda p: p.ingest.answer.cell())),
        ("… WhatsApp (signed)", each(lambda p: p.ingest.answer_whatsapp.cell())),
        ("… email (Postmark, basic auth)", each(lambda p: p.ingest.answer_email.cell())),
        (
            "**webhook → socket p50 / p95 / p99 ms** (every delivery)",
            each(lambda p: f"**{p.ingest.delivery.cell()}**"),
        ),
        (
            "webhook → last of the sockets p50 / p95 / p99 ms",
            each(lambda p: p.ingest.last_socket.cell()),
        ),
        ("webhook → first socket p50 / p95 / p99 ms", each(lambda p: p.ingest.first_socket.cell())),
        ("webhook → socket max ms", each(lambda p: f"{p.ingest.delivery.max_ms:.0f}")),
        ("stored / posted", each(lambda p: f"{p.ingest.stored:,} / {p.ingest.sent:,}")),
        (
            "deliveries / expected",
            each(lambda p: f"{p.ingest.delivered:,} / {p.ingest.expected:,}"),
        ),
        (
            "floor: trivial uvicorn app, same POSTs: requests/s",
            each(lambda p: f"{p.floor.per_s:.0f}"),
        ),
        ("floor: answer p50 / p95 / p99 ms", each(lambda p: p.floor.answer.cell())),
        ("Tandem `GET /healthz`: requests/s", each(lambda p: f"{p.healthz.per_s:.0f}")),
        (
            "Tandem `GET /healthz`: answer p50 / p95 / p99 ms",
            each(lambda p: p.healthz.answer.cell()),
        ),
        (
            "Tandem answers/s ÷ floor requests/s",
            each(lambda p: f"{p.ingest.answers_per_s / p.floor.per_s:.2f}"),
        ),
        (
            "Tandem answer p50 ÷ floor answer p50",
            each(lambda p: f"{p.ingest.answer.p50_ms / p.floor.answer.p50_ms:.1f}x"),
        ),
    ]
    labels = sorted({label for p in points if p.ingest for label in p.ingest.cpu})
    for label in labels:
        rows.append(
            (
                f"CPU during the Tandem run: {label} (share of a core, ms per message)",
                each(
                    lambda p, label=label: (
                        f"{_pct(p.ingest.cpu.get(label, 0.0))}, "
                        f"{p.ingest.cpu_ms.get(label, 0.0):.1f} ms"
                    )
                ),
            )
        )
    rows += [
        ("CPU: load generator (webhooks)", each(lambda p: _pct(p.ingest.client_cpu))),
        ("CPU: socket readers", each(lambda p: _pct(p.ingest.reader_cpu))),
        (
            "CPU: the whole machine during the Tandem run (of "
            f"{cores * 100}%); other processes than this benchmark's",
            each(lambda p: f"{_pct(p.ingest.machine_cpu)}; {_pct(others(p.ingest))}"),
        ),
        (
            "CPU: floor app during its run",
            each(lambda p: f"{_pct(p.floor.server_cpu)}, {p.floor.server_ms:.2f} ms/request"),
        ),
        ("CPU: load generator during the floor run", each(lambda p: _pct(p.floor.client_cpu))),
        (
            "CPU: Tandem during its `/healthz` run",
            each(lambda p: f"{_pct(p.healthz.server_cpu)}, {p.healthz.server_ms:.2f} ms/request"),
        ),
        ("aim: ≥ 500 msgs/s and p95 ≤ 50 ms", each(lambda p: verdict(p.ingest))),
    ]
    return rows


def others(ingest: Ingest) -> float:
    """The share of a core that processes outside this benchmark used during the run."""
    ours = sum(ingest.cpu.values()) + ingest.client_cpu + ingest.reader_cpu
    return max(0.0, ingest.machine_cpu - ours)


def verdict(ingest: Ingest) -> str:
    rate_ok = ingest.messages_per_s >= AIM_RATE
    p95_ok = ingest.delivery.p95_ms <= AIM_P95_MS
    if rate_ok and p95_ok:
        return "met"
    misses = []
    if not rate_ok:
        misses.append(f"{ingest.messages_per_s / AIM_RATE:.0%} of the rate")
    if not p95_ok:
        misses.append(f"p95 {ingest.delivery.p95_ms / AIM_P95_MS:.1f}x the aim")
    return "not met: " + ", ".join(misses)


def render(
    *, command: str, box: dict[str, str], processes: int, sockets: int, customers: int,
    points: list[Point], notes: list[str],
) -> str:  # fmt: skip
    lines = [
        HEADING,
        "",
        f"Measured {box['date']} with `{command}`.",
        "",
        "Signed WhatsApp Cloud API webhooks and Postmark inbound-email webhooks (basic auth), "
        f"alternating, from {customers} customers in turn, posted concurrently to "
        f"{processes} Tandem process{'es' if processes != 1 else ''}; each message is stored "
        f"and pushed as `message.created` to {sockets} agent sockets subscribed to `inbox`. "
        "Latencies run from the start of the webhook POST; a socket's time is when the "
        "event's bytes reach the reader.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in box.items() if k != "date"),
        "",
    ]
    rows = _rows(points, int(box["cores (nproc)"]))
    lines.append("| | " + " | ".join(p.label for p in points) + " |")
    lines.append("|---|" + "---:|" * len(points))
    lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows]
    lines.append("")
    for p in points:
        if p.error:
            lines.append(f"- {p.label}: {p.error}")
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"
