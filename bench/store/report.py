"""The "Embedded store" section of BENCHMARKS.md, from a bench/store run."""

from __future__ import annotations

from bench.store.results import Run, SizeResult, Timing

HEADING = "## Embedded store: FerretDB on SQLite or on PostgreSQL"
PREAMBLE = "# Benchmarks\n"
NAMES = {"sqlite": "FerretDB/SQLite", "postgresql": "FerretDB/PostgreSQL"}
PATHS = {
    "list": "list, first page (`GET /tickets?limit=50`)",
    "filtered": "filtered list (`status=open&assignee=unassigned`)",
    "counts": "`GET /tickets/counts` after a change",
    "dashboard": "`GET /dashboard` after a change",
    "detail": "ticket detail (`GET /tickets/{id}`)",
    "patch": "`PATCH /tickets/{id}` (status toggle with version)",
    "reply": "reply (`POST /tickets/{id}/messages`)",
}


def _ms(t: Timing | None) -> str:
    if t is None:
        return "—"
    errors = f", {t.errors} errors" if t.errors else ""
    return f"{t.p50_ms:,.1f} / {t.p95_ms:,.1f} (n={t.samples}{errors})"


def _ratio(slow: float, fast: float) -> str:
    return f"{slow / fast:.2f}x" if fast > 0 else "n/a"


def size_table(n: int, sqlite: SizeResult | None, postgres: SizeResult | None) -> list[str]:
    any_result = sqlite or postgres
    assert any_result is not None
    lines = [
        f"### {n:,} tickets ({any_result.messages:,} messages, {any_result.contacts:,} contacts)",
        "",
        "p50 / p95 in ms (n = timed requests). The last column is SQLite's figure divided by "
        "PostgreSQL's: above 1 PostgreSQL is faster, below 1 SQLite is.",
        "",
        f"| | {NAMES['sqlite']} | {NAMES['postgresql']} | SQLite ÷ PostgreSQL (p50) |",
        "|---|---:|---:|---:|",
    ]
    for key, label in PATHS.items():
        s = sqlite.timing(key) if sqlite else None
        p = postgres.timing(key) if postgres else None
        ratio = _ratio(s.p50_ms, p.p50_ms) if s and p else "—"
        lines.append(f"| {label} | {_ms(s)} | {_ms(p)} | {ratio} |")

    def creates(r: SizeResult | None) -> str:
        if r is None:
            return "—"
        failed = f", {r.create_errors} failed" if r.create_errors else ""
        return f"{r.creates_per_second:,.1f} ({r.creates} in {r.create_seconds:.0f} s{failed})"

    rate = (
        _ratio(postgres.creates_per_second, sqlite.creates_per_second)
        if sqlite and postgres
        else "—"
    )
    lines.append(
        f"| ticket creates/s, 8 concurrent creators | {creates(sqlite)} | "
        f"{creates(postgres)} | {rate} (PostgreSQL ÷ SQLite) |"
    )

    def memory(r: SizeResult | None) -> str:
        if r is None:
            return "—"
        if r.postgres_processes:
            return (
                f"{r.store_pss_mib:,.0f} MiB (FerretDB RSS {r.ferretdb_rss_mib:,.0f} MiB + "
                f"{r.postgres_processes} PostgreSQL processes)"
            )
        return f"{r.store_pss_mib:,.0f} MiB (FerretDB RSS {r.ferretdb_rss_mib:,.0f} MiB)"

    mem_ratio = _ratio(postgres.store_pss_mib, sqlite.store_pss_mib) if sqlite and postgres else "—"
    lines.append(
        f"| store memory after the run (PSS) | {memory(sqlite)} | {memory(postgres)} | "
        f"{mem_ratio} (PostgreSQL ÷ SQLite) |"
    )

    def filled(r: SizeResult | None) -> str:
        return f"{r.fill_seconds:,.1f} s" if r else "—"

    lines.append(
        f"| filling the workspace (insert_many) | {filled(sqlite)} | {filled(postgres)} | |"
    )
    return lines


def render(run: Run) -> str:
    lines = [
        HEADING,
        "",
        "Which backend the local FerretDB (v1.24) should run on, measured with Tandem's own "
        "requests. Command:",
        "",
        "```sh",
        run.command,
        "```",
        "",
        "For each backend and size it starts the local services as `tandem serve` does (a fresh "
        "data directory; PostgreSQL 15 from Debian with its durable defaults, `initdb` on first "
        "start), runs Tandem in-process (the API over httpx's ASGI transport, so no HTTP "
        "server or network in the figures), signs up a workspace with an owner and three "
        "agents, and fills it straight into the store with `insert_many` of the app's own "
        "documents: N tickets (25% open, 10% pending, 5% snoozed, 40% resolved, 20% closed; "
        "70% assigned), 3 messages each, N/2 contacts, and the ticket counter at N. Then, one "
        "request at a time as the owner: each path up to "
        f"{run.settings['samples']} timed requests after an untimed one, fewer when about "
        f"{run.settings['budget']} s per path run out (at least {run.settings['min_samples']}). "
        "Counts and the dashboard "
        "are cached per event seq, so each of their samples follows an untimed status change, "
        "as every refetch after an event does. Ticket creates: "
        f"{run.settings['creators']} concurrent creators for {run.settings['create_seconds']} s, "
        "each ticket with a new contact and a first message. No worker runs (its outbox sweep "
        "would add its own scans to both backends).",
        "",
        "Machine: " + "; ".join(f"{k}: {v}" for k, v in run.machine.items()) + ".",
        "",
    ]
    for n in sorted({r.tickets for r in run.results}):
        by_backend = {r.backend: r for r in run.results if r.tickets == n}
        lines += size_table(n, by_backend.get("sqlite"), by_backend.get("postgresql"))
        lines.append("")
    if run.notes:
        lines += ["### Notes", ""]
        lines += [f"- {note}" for note in run.notes]
    return "\n".join(lines).rstrip() + "\n"
