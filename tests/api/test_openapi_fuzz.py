"""Schemathesis against a real Tandem's `/openapi.json`: for about a minute it sends generated
requests (valid and invalid) to every operation — the agents' as an owner's API token, the
widget's as a visitor on an allowed site — some naming real tickets, contacts, canned
responses, articles and the rest. Every answer must be one the document declares (its status,
its content type, a body of its schema) and none may be a server error."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from tests.apiclient import AgentClient, invite_and_join, sign_up
from tests.channels.fake_graph import fake_graph
from tests.channels.fake_postmark import fake_postmark
from tests.servers import tandem_processes

pytestmark = pytest.mark.processes

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# How long generation runs (with the server's start and the seeding the test takes ~90 s),
# and its seed: the same seed draws the same requests in the same order (how many fit in the
# time varies). Both can be changed for a longer or different search, e.g.
# TANDEM_FUZZ_SECONDS=600 TANDEM_FUZZ_SEED=7.
BUDGET_SECONDS = int(os.environ.get("TANDEM_FUZZ_SECONDS", "65"))
SEED = int(os.environ.get("TANDEM_FUZZ_SEED", "20261130"))
AGENTS_SECONDS = BUDGET_SECONDS * 4 // 5  # the rest for the widget's few operations
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
WIDGET = "^/api/v1/widget/"
SITE = "https://shop.example"
# Left out, each for a reason of its own (by operationId, the handler's name):
EXCLUDED = {
    # Revokes API tokens: given the run's own (its id is one `GET /api-tokens` lists, which
    # the stateful phase follows), every later request would be a plain 401.
    "revoke_token": "DELETE /api-tokens/{token_id}",
    # Sets the model endpoint: Tandem would then send requests to whatever address the
    # generator made up. The AI operations still run, against the workspace's default (off).
    "change_ai_settings": "PATCH /ai/settings",
}


@dataclass
class Pass:
    """One run of schemathesis: who it is, which operations, which real ids it may use."""

    name: str
    headers: dict[str, str]
    filters: list[str]
    ids: dict[str, list[str]]
    seconds: int


async def created(client: AgentClient, path: str, body: object) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def seed_agents(url: str) -> tuple[Pass, str, str]:
    """A workspace with one of each resource the paths name and an owner's API token for it:
    the agents' pass, with the ids a parameter may take; the token and the workspace's id."""
    owner = await sign_up(url)
    agent = await invite_and_join(owner, url, "Alex Agent")
    # Every scope, so the admin operations are reached too.
    minted = await created(owner, "/api-tokens", {"name": "fuzzing", "scopes": ["admin"]})
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    contact = await created(owner, "/contacts", {"name": "Casey", "email": "casey@example.com"})
    team = await created(owner, "/teams", {"name": "Support"})
    ticket = await created(
        owner,
        "/tickets",
        {
            "subject": "The printer is on fire",
            "contact": {"id": contact["id"]},
            "message": {"text": "It smells of toner."},
        },
    )
    detail = (await owner.get(f"/tickets/{ticket['id']}")).json()
    canned = await created(owner, "/canned-responses", {"shortcut": "hi", "body": "Hello!"})
    article = await created(
        owner, "/kb/articles", {"title": "Resetting a password", "body": "Open Settings."}
    )
    upload = await owner.post(
        "/attachments",
        params={"filename": "notes.txt"},
        content=b"kept for later",
        headers={"content-type": "text/plain"},
    )
    assert upload.status_code == 201, upload.text
    invitation = await created(
        owner, "/invitations", {"email": f"pat@{owner.workspace_slug}.example", "name": "Pat"}
    )
    agents = Pass(
        "agents",
        {"Authorization": f"Bearer {minted['token']}"},
        ["--exclude-path-regex", WIDGET]
        + [arg for op in EXCLUDED for arg in ("--exclude-operation-id", op)],
        {
            "path.ticket_id": [str(ticket["id"])],
            "path.message_id": [str(m["id"]) for m in detail["messages"]],
            "path.contact_id": [str(contact["id"])],
            "path.canned_id": [str(canned["id"])],
            "path.article_id": [str(article["id"])],
            "path.team_id": [str(team["id"])],
            "path.blob_id": [str(upload.json()["id"])],
            "path.invitation_id": [str(invitation["id"])],
            # The agent only: the owner's own membership is the run's rights.
            "path.user_id": [agent.user_id],
            "path.workspace_id": [ws],
        },
        AGENTS_SECONDS,
    )
    await agent.aclose()
    await owner.aclose()
    return agents, str(minted["token"]), ws


async def seed_widget(url: str, token: str, ws: str) -> Pass:
    """After the agents' pass (which may have deleted or erased any contact, unpublished any
    article, changed the allowed origins): a site that may embed the widget, a published
    article, and a visitor who wrote and sent a file. The widget's pass, as that visitor."""
    bearer = {"Authorization": "Bearer " + token}
    owner = httpx.AsyncClient(base_url=url + "/api/v1", headers=bearer)
    async with owner:
        allowed = await owner.patch("/workspace", json={"allowed_origins": [SITE + "/"]})
        assert allowed.status_code == 200, allowed.text
        article = await owner.post(
            "/kb/articles",
            json={"title": "Returns", "body": "Within 30 days.", "status": "published"},
        )
        assert article.status_code == 201, article.text
    async with httpx.AsyncClient(base_url=url + "/api/v1/widget", headers={"Origin": SITE}) as site:
        session = await site.post("/session", json={"workspace": ws})
        assert session.status_code == 200, session.text
        site.headers["Authorization"] = "Bearer " + session.json()["visitor_token"]
        sent = await site.post("/messages", json={"client_id": "c-1", "text": "Hello?"})
        assert sent.status_code == 201, sent.text
        file = await site.post(
            "/attachments",
            params={"filename": "receipt.txt"},
            content=b"paid",
            headers={"content-type": "text/plain"},
        )
        assert file.status_code == 201, file.text
    return Pass(
        "widget",
        {"Origin": SITE, "Authorization": str(site.headers["Authorization"])},
        ["--include-path-regex", WIDGET],
        {
            "query.workspace": [ws],
            "body.workspace": [ws],
            "path.article_id": [str(article.json()["id"])],
            "body.article_id": [str(article.json()["id"])],
            "path.blob_id": [str(file.json()["id"])],
            "body.up_to": [str(sent.json()["id"])],
        },
        BUDGET_SECONDS - AGENTS_SECONDS,
    )


def write_config(run: Pass, workdir: Path) -> Path:
    """A schemathesis.toml: each of the pass's parameters takes a real value half of the
    time."""
    lines: list[str] = []
    for n, values in enumerate(run.ids.values()):
        lines += [f"[dictionaries.d{n}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for n, key in enumerate(run.ids):
        lines.append(f'"{key}" = {{ dictionary = "d{n}", probability = 0.5 }}')
    workdir = workdir / run.name
    workdir.mkdir()
    config = workdir / "schemathesis.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


async def schemathesis(url: str, run: Pass, config: Path) -> tuple[int, str]:
    """Run the CLI for one pass; its exit code and its report."""
    headers = [arg for name, value in run.headers.items() for arg in ("-H", f"{name}: {value}")]
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        f"{url}/openapi.json",
        *headers,
        *run.filters,
        "--checks",
        ",".join(CHECKS),
        "--max-time",
        str(run.seconds),
        "--seed",
        str(SEED),
        # One worker: Python 3.11's ast.parse, which Hypothesis calls to describe its
        # strategies, can fail spuriously when two threads parse at once.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
        "--output-truncate",
        "false",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=config.parent,
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


def errors_in(log: str) -> str:
    """The server's error records, tracebacks and all (its warnings are the refusals that
    the generated requests provoke)."""
    records = re.split(r"(?m)^(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", log)
    return "".join(r for r in records if " ERROR " in r or " CRITICAL " in r)[-20_000:]


def operations_tested(report: str) -> tuple[int, int]:
    """How many operations the run chose, and how many it sent requests to."""
    selected = re.search(r"Selected: (\d+)/\d+", report)
    tested = re.search(r"Tested: (\d+)", report)
    assert selected, report
    assert tested, report
    return int(selected.group(1)), int(tested.group(1))


@pytest.fixture(autouse=True)
async def forget_loopback_counts(redis_client: aioredis.Redis) -> AsyncIterator[None]:
    """Thousands of requests from 127.0.0.1 fill its per-address counters (account emails,
    logins, public searches); later tests of the suite come from the same address and the same
    Redis, so the run leaves none behind."""
    yield
    async for key in redis_client.scan_iter(match="*127.0.0.1*", count=1000):
        await redis_client.delete(key)


async def test_every_answer_is_one_the_openapi_document_declares(
    mongodb_url: str, redis_url: str, db_name: str, tmp_path: Path, artifacts_dir: Path
) -> None:
    with (
        fake_postmark() as postmark,
        fake_graph() as graph,
        tandem_processes(
            1,
            mongodb_url=mongodb_url,
            redis_url=redis_url,
            db_name=db_name,
            log_dir=tmp_path / "server",
            # The channels' providers are local fakes: nothing leaves the machine.
            extra_env={"POSTMARK_API_URL": postmark.url, "WHATSAPP_GRAPH_URL": graph.url},
        ) as (url,),
    ):
        async with httpx.AsyncClient() as client:
            spec = (await client.get(url + "/openapi.json")).json()
        agents, token, ws = await seed_agents(url)
        results = [(agents, *await schemathesis(url, agents, write_config(agents, tmp_path)))]
        widget = await seed_widget(url, token, ws)
        results.append((widget, *await schemathesis(url, widget, write_config(widget, tmp_path))))
    server_log = (tmp_path / "server" / "server-0.log").read_text(errors="replace")
    chosen = 0
    for run, code, report in results:
        # What was sent, passed or not.
        (artifacts_dir / f"openapi-fuzz-{run.name}.txt").write_text(report)
        assert code == 0, f"{report}\n--- server errors ---\n{errors_in(server_log)}"
        selected, tested = operations_tested(report)
        assert tested == selected, report  # none left out for want of data it could make
        chosen += selected
    everything = sum(len(item) for item in spec["paths"].values())
    assert chosen == everything - len(EXCLUDED)
