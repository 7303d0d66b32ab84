"""Odd but possible requests get a clear 4xx JSON error, never a server error, and nothing
already kept is lost."""

import httpx
import pytest
from starlette.applications import Starlette

from app.auth.principal import Principal
from app.domain.roles import Role
from app.schemas.tickets import TicketQuery
from app.services.tickets import build_filter
from tests.apiclient import AgentClient, new_client, sign_up


def error_of(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body["error"]) == {"code", "message", "details"}, response.text
    error: dict[str, object] = body["error"]
    return error


def field_of(response: httpx.Response) -> object:
    details = error_of(response)["details"]
    return details.get("field") if isinstance(details, dict) else None


async def test_head_answers_like_get_without_a_body(app: Starlette) -> None:
    anonymous = new_client(app)
    refused = await anonymous.request("HEAD", "/tickets")
    assert refused.status_code == 401
    assert refused.content == b""

    owner = await sign_up(app)
    await owner.post("/tickets", json={"subject": "Seen by a HEAD"})
    got = await owner.get("/tickets")
    head = await owner.request("HEAD", "/tickets")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "application/json"
    assert int(head.headers["content-length"]) == len(got.content)
    assert (await owner.request("HEAD", "/tickets/65f000000000000000000000")).status_code == 404
    missing = await owner.request("HEAD", "/contacts/lookup", params={"email": "x@y.example"})
    assert missing.status_code == 404
    assert missing.content == b""
    upload = await owner.post(
        "/attachments",
        params={"filename": "notes.txt"},
        content=b"kept for later",
        headers={"content-type": "text/plain"},
    )
    assert upload.status_code == 201, upload.text
    file = await owner.request("HEAD", f"/attachments/{upload.json()['id']}")
    assert file.status_code == 200
    assert file.content == b""
    assert file.headers["content-length"] == str(len(b"kept for later"))
    await anonymous.aclose()
    await owner.aclose()


@pytest.mark.parametrize("text", ["#99999999999999999999999", "99999999999999999999999"])
async def test_a_ticket_number_out_of_range_matches_nothing(app: Starlette, text: str) -> None:
    owner = await sign_up(app)
    await owner.post("/tickets", json={"subject": "An ordinary ticket"})
    found = await owner.get("/tickets", params={"text": text})
    assert found.status_code == 200, found.text
    assert found.json()["items"] == []
    await owner.aclose()


@pytest.mark.parametrize("text", ["#99999999999999999999999", "#²", "#١٢", "#0012"])
def test_the_store_filter_reads_only_plain_ticket_numbers(text: str) -> None:
    """What the list reads while the search index is rebuilt: a number no ticket can have,
    or digits that are not 0-9, is no number at all."""
    agent = Principal("65f000000000000000000000", "u", "U", "u@x.example", Role.OWNER)
    ors = build_filter(agent, TicketQuery(text=text))["$and"][0]["$or"]
    numbers = [clause["number"] for clause in ors if "number" in clause]
    assert numbers == ([12] if text == "#0012" else [])


@pytest.mark.parametrize(
    "attributes", [{"$where": 1}, {"plan.tier": "gold"}, {"ok": {"nested.key": 1}}, {"": 1}]
)
async def test_custom_attribute_names_the_store_cannot_keep(
    app: Starlette, attributes: dict[str, object]
) -> None:
    owner = await sign_up(app)
    created = await owner.post("/contacts", json={"name": "A", "custom_attributes": attributes})
    assert created.status_code == 422, created.text
    assert field_of(created) == "custom_attributes"
    plan = {"name": "B", "custom_attributes": {"plan": "x"}}
    contact = (await owner.post("/contacts", json=plan)).json()
    changed = await owner.patch(
        f"/contacts/{contact['id']}", json={"custom_attributes": attributes}
    )
    assert changed.status_code == 422, changed.text
    assert field_of(changed) == "custom_attributes"
    kept = (await owner.get(f"/contacts/{contact['id']}")).json()
    assert kept["custom_attributes"] == {"plan": "x"}
    assert len((await owner.get("/contacts")).json()["items"]) == 1
    await owner.aclose()


async def test_deeply_nested_json_is_refused(app: Starlette) -> None:
    owner = await sign_up(app)
    deep = b"[" * 20_000 + b"]" * 20_000
    headers = {"content-type": "application/json"}
    nested = b'{"name": "A", "custom_attributes": {"a": ' + deep + b"}}"
    response = await owner.request("POST", "/contacts", content=nested, headers=headers)
    assert response.status_code == 422, response.text
    assert error_of(response)["code"] == "too_deep"
    for body in (deep, b'{"subject": "x", "surprise": ' + deep + b"}"):
        response = await owner.request("POST", "/tickets", content=body, headers=headers)
        assert response.status_code == 422, response.text
    # With an idempotency key too: the body is read before the key is looked up.
    keyed = {**headers, "Idempotency-Key": "deep-1"}
    response = await owner.request("POST", "/contacts", content=nested, headers=keyed)
    assert response.status_code == 422, response.text
    # Nesting the store can keep is refused too, before anything is written.
    stacked = b'{"name": "A", "custom_attributes": {"a": ' + b"[" * 150 + b"]" * 150 + b"}}"
    response = await owner.request("POST", "/contacts", content=stacked, headers=headers)
    assert response.status_code == 422, response.text
    assert field_of(response) == "custom_attributes"
    assert (await owner.get("/contacts")).json()["items"] == []
    await owner.aclose()


@pytest.mark.parametrize("field", ["email", "external_id", "phone"])
async def test_patching_in_another_contacts_identifier_is_a_conflict(
    app: Starlette, field: str
) -> None:
    owner = await sign_up(app)
    values = {"email": "a@b.example", "external_id": "crm-1", "phone": "+15550001111"}
    first = (await owner.post("/contacts", json={field: values[field]})).json()
    second = (await owner.post("/contacts", json={"name": "Second"})).json()
    clash = await owner.patch(f"/contacts/{second['id']}", json={field: values[field]})
    assert clash.status_code == 409, clash.text
    assert error_of(clash)["code"] == "duplicate_identifier"
    assert field_of(clash) == field
    assert (await owner.get(f"/contacts/{second['id']}")).json()[field] is None
    assert (await owner.get(f"/contacts/{first['id']}")).json()[field] == values[field]
    await owner.aclose()


async def test_renaming_a_canned_response_onto_another_is_a_conflict(app: Starlette) -> None:
    owner = await sign_up(app)
    await owner.post("/canned-responses", json={"shortcut": "hi", "body": "Hello"})
    other = (await owner.post("/canned-responses", json={"shortcut": "bye", "body": "Bye"})).json()
    clash = await owner.patch(f"/canned-responses/{other['id']}", json={"shortcut": "hi"})
    assert clash.status_code == 409, clash.text
    assert field_of(clash) == "shortcut"
    shortcuts = sorted(c["shortcut"] for c in (await owner.get("/canned-responses")).json())
    assert shortcuts == ["bye", "hi"]
    await owner.aclose()


async def test_renaming_a_team_onto_another_is_a_conflict(app: Starlette) -> None:
    owner = await sign_up(app)
    await owner.post("/teams", json={"name": "Billing"})
    other = (await owner.post("/teams", json={"name": "Sales"})).json()
    clash = await owner.patch(f"/teams/{other['id']}", json={"name": "Billing"})
    assert clash.status_code == 409, clash.text
    assert error_of(clash)["code"] == "duplicate"
    await owner.aclose()


async def test_a_contact_name_is_as_long_on_change_as_on_creation(app: Starlette) -> None:
    owner = await sign_up(app)
    contact = (await owner.post("/contacts", json={"name": "Short"})).json()
    changed = await owner.patch(f"/contacts/{contact['id']}", json={"name": "x" * 201})
    assert changed.status_code == 422, changed.text
    assert field_of(changed) == "name"
    await owner.aclose()


@pytest.mark.parametrize("body", [b"null", b"[]", b'"x"', b"1", b"true"])
async def test_a_body_must_be_a_json_object(app: Starlette, body: bytes) -> None:
    owner = await sign_up(app)
    contact = (await owner.post("/contacts", json={"name": "Kept"})).json()
    canned = (await owner.post("/canned-responses", json={"shortcut": "hi", "body": "Hi"})).json()
    ticket = (await owner.post("/tickets", json={"subject": "Kept"})).json()
    headers = {"content-type": "application/json"}
    for method, path in [
        ("POST", "/contacts"),
        ("PATCH", f"/contacts/{contact['id']}"),
        ("POST", "/canned-responses"),
        ("PATCH", f"/canned-responses/{canned['id']}"),
        ("POST", "/tickets"),
        ("PATCH", f"/tickets/{ticket['id']}"),
        ("POST", f"/tickets/{ticket['id']}/messages"),
    ]:
        response = await owner.request(method, path, content=body, headers=headers)
        assert response.status_code == 422, (method, path, response.text)
        assert error_of(response)["code"] == "not_an_object", (method, path, response.text)
    assert len((await owner.get("/contacts")).json()["items"]) == 1
    assert (await owner.get(f"/contacts/{contact['id']}")).json()["name"] == "Kept"
    assert [c["shortcut"] for c in (await owner.get("/canned-responses")).json()] == ["hi"]
    await owner.aclose()


async def test_an_empty_body_makes_no_contact(app: Starlette) -> None:
    """No body sends no fields; a contact needs a name or a way to reach it."""
    owner = await sign_up(app)
    for body in ({}, None, {"name": "  "}, {"custom_attributes": {"plan": "gold"}}):
        response = await owner.post("/contacts", json=body)
        assert response.status_code == 422, (body, response.text)
        assert error_of(response)["code"] == "empty_contact"
    assert (await owner.get("/contacts")).json()["items"] == []
    assert (await owner.post("/contacts", json={"phone": "+15550002222"})).status_code == 201
    await owner.aclose()


async def declared_statuses(client: AgentClient, method: str, path: str) -> set[int]:
    spec = (await client.http.get("/openapi.json")).json()
    return {int(status) for status in spec["paths"]["/api/v1" + path][method.lower()]["responses"]}


@pytest.mark.parametrize(
    ("method", "path", "params", "status"),
    [
        ("POST", "/auth/logout", {}, 204),
        ("DELETE", "/channels/email", {}, 204),
        ("DELETE", "/channels/whatsapp", {}, 204),
        ("GET", "/tickets", {"contact": "nobody"}, 404),
        ("GET", "/tickets", {"cursor": "nowhere"}, 404),
        ("GET", "/contacts", {"cursor": "nowhere"}, 404),
        ("GET", "/contacts", {"q": "x" * 201}, 422),
        ("POST", "/widget/read", {}, 422),  # no body: its `up_to` is missing
        ("GET", "/audit-events", {"before": "0" * 24}, 404),
    ],
)
async def test_the_answer_is_one_the_openapi_document_declares(
    app: Starlette, method: str, path: str, params: dict[str, str], status: int
) -> None:
    """A client generated from /openapi.json knows every status it can be given."""
    owner = await sign_up(app)
    response = await owner.request(method, path, params=params)
    assert response.status_code == status, response.text
    assert status in await declared_statuses(owner, method, path)
    await owner.aclose()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/webhooks/whatsapp/{workspace_id}"),
        ("POST", "/webhooks/whatsapp/{workspace_id}"),
        ("POST", "/webhooks/postmark/{workspace_id}/inbound"),
        ("POST", "/webhooks/postmark/{workspace_id}/events"),
    ],
)
async def test_a_webhook_for_no_workspace_is_a_declared_404(
    app: Starlette, method: str, path: str
) -> None:
    provider = new_client(app)
    response = await provider.request(method, path.format(workspace_id="no-such-workspace"))
    assert response.status_code == 404, response.text
    assert 404 in await declared_statuses(provider, method, path)
    await provider.aclose()


async def test_the_openapi_document_holds_every_schema_it_names(app: Starlette) -> None:
    """Query parameters' types (a ticket's channel, say) are components like the bodies', and
    a query parameter an operation cannot do without is marked required."""
    client = new_client(app)
    spec = (await client.http.get("/openapi.json")).json()
    named: set[str] = set()
    stack: list[object] = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            named.update(value for key, value in node.items() if key == "$ref")
            stack.extend(value for key, value in node.items() if key != "$ref")
        elif isinstance(node, list):
            stack.extend(node)
    assert "#/components/schemas/Channel" in named
    held = {"#/components/schemas/" + name for name in spec["components"]["schemas"]}
    assert named - held == set()
    upload = spec["paths"]["/api/v1/attachments"]["post"]["parameters"]
    assert {p["name"]: p["required"] for p in upload if p["in"] == "query"} == {"filename": True}
    await client.aclose()


async def test_text_with_a_nul_character_is_refused(app: Starlette) -> None:
    """The store cannot keep U+0000: a body holding one is a 422 and nothing is written; a
    backslash written before "u0000" is ordinary text."""
    owner = await sign_up(app)
    invited = await owner.post("/invitations", json={"email": "pat\x00@x.example", "name": "P"})
    assert invited.status_code == 422, invited.text
    assert error_of(invited)["code"] == "nul_character"
    named = await owner.post("/contacts", json={"name": "Nu\x00ll"})
    assert named.status_code == 422, named.text
    assert (await owner.get("/contacts")).json()["items"] == []
    assert (await owner.get("/invitations")).json() == []
    kept = await owner.post("/contacts", json={"name": "C:\\u0000"})
    assert kept.status_code == 201, kept.text
    assert kept.json()["name"] == "C:\\u0000"
    await owner.aclose()


async def test_custom_attributes_with_a_list_directly_inside_a_list_are_refused(
    app: Starlette,
) -> None:
    """The store cannot keep `[[…]]`: a 422 on create and on change, nothing written; a list
    of objects that hold lists is kept as given."""
    owner = await sign_up(app)
    nested = {"sizes": [{"eu": [38, 39]}, []]}
    created = await owner.post("/contacts", json={"name": "A", "custom_attributes": nested})
    assert created.status_code == 422, created.text
    assert field_of(created) == "custom_attributes"
    kept = {"sizes": [{"eu": [38, 39]}]}
    contact = await owner.post("/contacts", json={"name": "B", "custom_attributes": kept})
    assert contact.status_code == 201, contact.text
    path = f"/contacts/{contact.json()['id']}"
    changed = await owner.patch(path, json={"custom_attributes": {"grid": [[1, 2]]}})
    assert changed.status_code == 422, changed.text
    assert (await owner.get(path)).json()["custom_attributes"] == kept
    assert len((await owner.get("/contacts")).json()["items"]) == 1
    await owner.aclose()
