"""Contacts, canned responses, teams, tokens and the published API description."""

from starlette.applications import Starlette

from tests.apiclient import new_client, sign_up


async def test_contacts_crud_and_identifier_uniqueness(app: Starlette) -> None:
    owner = await sign_up(app)
    made = await owner.post(
        "/contacts",
        json={
            "name": "Dora",
            "email": "Dora@Example.com",
            "phone": "+1 (555) 010-9999",
            "custom_attributes": {"plan": "pro"},
        },
    )
    assert made.status_code == 201, made.text
    contact = made.json()
    assert contact["email"] == "dora@example.com"
    assert contact["phone"] == "+15550109999"
    clash = await owner.post("/contacts", json={"email": "DORA@example.com"})
    assert clash.status_code == 409
    assert clash.json()["error"]["details"]["field"] == "email"

    by_phone = await owner.get("/contacts/lookup", params={"phone": "+1 555 010 9999"})
    assert by_phone.json()["id"] == contact["id"]
    changed = await owner.patch(
        f"/contacts/{contact['id']}",
        json={
            "email": None,
            "whatsapp_id": "15550109999",
            "custom_attributes": {"plan": "team"},
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["email"] is None
    assert changed.json()["custom_attributes"] == {"plan": "team"}
    # The freed email can now belong to someone else.
    assert (await owner.post("/contacts", json={"email": "dora@example.com"})).status_code == 201
    found = (await owner.get("/contacts", params={"q": "dor"})).json()["items"]
    assert len(found) == 2

    with_ticket = await owner.post(
        "/tickets", json={"subject": "x", "contact": {"id": contact["id"]}}
    )
    assert with_ticket.status_code == 201
    refused = await owner.delete(f"/contacts/{contact['id']}")
    assert refused.status_code == 409
    assert (await owner.get(f"/contacts/{contact['id']}")).status_code == 200
    await owner.aclose()


async def test_canned_responses_teams_and_tokens(app: Starlette) -> None:
    owner = await sign_up(app)
    canned = await owner.post("/canned-responses", json={"shortcut": "refund", "body": "Refunded."})
    assert canned.status_code == 201
    dup = await owner.post("/canned-responses", json={"shortcut": "refund", "body": "again"})
    assert dup.status_code == 409
    assert dup.json()["error"]["code"] == "duplicate"
    assert dup.json()["error"]["details"] == {"field": "shortcut"}
    edited = await owner.patch(f"/canned-responses/{canned.json()['id']}", json={"body": "Done."})
    assert edited.json()["body"] == "Done."
    assert [c["shortcut"] for c in (await owner.get("/canned-responses")).json()] == ["refund"]
    assert (await owner.delete(f"/canned-responses/{canned.json()['id']}")).status_code == 204
    assert (await owner.get("/canned-responses")).json() == []

    team = (await owner.post("/teams", json={"name": "Billing"})).json()
    joined = await owner.patch(f"/members/{owner.user_id}", json={"team_ids": [team["id"]]})
    assert joined.json()["team_ids"] == [team["id"]]
    ticket = await owner.post("/tickets", json={"subject": "Invoice", "team_id": team["id"]})
    assert (await owner.get("/tickets", params={"team": team["id"]})).json()["items"][0]["id"] == (
        ticket.json()["id"]
    )

    token = (await owner.post("/api-tokens", json={"name": "crm"})).json()
    assert token["token"].startswith("tdm_")
    bearer = {"Authorization": f"Bearer {token['token']}"}
    integration = new_client(app)
    assert (await integration.get("/me", headers=bearer)).status_code == 200
    assert (await owner.delete(f"/api-tokens/{token['id']}")).status_code == 204
    assert (await integration.get("/me", headers=bearer)).status_code == 401
    await integration.aclose()
    await owner.aclose()


async def test_openapi_describes_every_operation(app: Starlette) -> None:
    owner = await sign_up(app)
    spec = (await owner.http.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    patch = spec["paths"]["/api/v1/tickets/{ticket_id}"]["patch"]
    body_ref = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert "version" in schema["required"]
    assert "409" in patch["responses"]
    listed = spec["paths"]["/api/v1/tickets"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"status", "assignee", "cursor", "text"}
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            assert op["responses"], (method, path)
    # Streamed answers say they are server-sent events, and which events come.
    draft = spec["paths"]["/api/v1/tickets/{ticket_id}/ai/draft"]["post"]["responses"]
    events = draft["200"]["content"]["text/event-stream"]["schema"]["description"]
    assert all(f"event: {name}" in events for name in ("delta", "done", "error"))
    assert "application/json" in draft["402"]["content"]  # a refusal comes before any event
    await owner.aclose()
