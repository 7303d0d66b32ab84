"""An agent of workspace A sees nothing of workspace B: every B id answers 404, as if unknown."""

from starlette.applications import Starlette

from tests.apiclient import sign_up


async def test_foreign_workspace_ids_are_not_found(app: Starlette) -> None:
    a = await sign_up(app, name="Alice A")
    b = await sign_up(app, name="Bob B")
    b_contact = (await b.post("/contacts", json={"email": "secret@b.example"})).json()
    b_ticket = (
        await b.post(
            "/tickets",
            json={
                "subject": "B's private matter",
                "contact": {"id": b_contact["id"]},
                "message": {"text": "confidential"},
            },
        )
    ).json()
    b_canned = (await b.post("/canned-responses", json={"shortcut": "hi", "body": "Hello"})).json()
    b_team = (await b.post("/teams", json={"name": "B team"})).json()
    b_me = (await b.get("/me")).json()
    b_token = (await b.post("/api-tokens", json={"name": "zapier"})).json()

    attempts = [
        ("GET", f"/tickets/{b_ticket['id']}", None),
        ("PATCH", f"/tickets/{b_ticket['id']}", {"version": 1, "status": "resolved"}),
        ("POST", f"/tickets/{b_ticket['id']}/messages", {"text": "hijack"}),
        ("GET", f"/contacts/{b_contact['id']}", None),
        ("PATCH", f"/contacts/{b_contact['id']}", {"name": "pwned"}),
        ("DELETE", f"/contacts/{b_contact['id']}", None),
        ("PATCH", f"/canned-responses/{b_canned['id']}", {"body": "pwned"}),
        ("DELETE", f"/canned-responses/{b_canned['id']}", None),
        ("PATCH", f"/members/{b_me['user_id']}", {"role": "agent"}),
        ("DELETE", f"/api-tokens/{b_token['id']}", None),
    ]
    for method, path, body in attempts:
        response = await a.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] in ("not_found",), response.text

    # Nor do lists, lookups, filters or foreign references leak anything.
    assert (await a.get("/tickets")).json()["items"] == []
    assert (await a.get("/contacts", params={"q": "secret"})).json()["items"] == []
    assert (
        await a.get("/contacts/lookup", params={"email": "secret@b.example"})
    ).status_code == 404
    assert (await a.get("/tickets", params={"contact": b_contact["id"]})).json()["items"] == []
    assert (await a.get("/canned-responses")).json() == []
    assert [m["user_id"] for m in (await a.get("/members")).json()] == [a.user_id]
    with_b_contact = await a.post(
        "/tickets", json={"subject": "x", "contact": {"id": b_contact["id"]}}
    )
    assert with_b_contact.status_code == 404
    with_b_team = await a.post("/tickets", json={"subject": "x", "team_id": b_team["id"]})
    assert with_b_team.status_code == 422
    with_b_assignee = await a.post(
        "/tickets", json={"subject": "x", "assignee_id": b_me["user_id"]}
    )
    assert with_b_assignee.status_code == 422

    # B's data is untouched by all of the above.
    after = (await b.get(f"/tickets/{b_ticket['id']}")).json()
    assert after["ticket"]["status"] == "open"
    assert [m["text"] for m in after["messages"]] == ["confidential"]
    assert (await b.get(f"/contacts/{b_contact['id']}")).json()["name"] is None
    assert (await b.get("/canned-responses")).json()[0]["body"] == "Hello"
    await a.aclose()
    await b.aclose()


async def test_api_token_acts_only_in_its_workspace(app: Starlette) -> None:
    a = await sign_up(app)
    b = await sign_up(app)
    b_ticket = (await b.post("/tickets", json={"subject": "B only"})).json()
    token = (await a.post("/api-tokens", json={"name": "integration"})).json()["token"]
    a.http.cookies.clear()
    headers = {"Authorization": f"Bearer {token}"}
    created = await a.post("/tickets", json={"subject": "From the CRM"}, headers=headers)
    assert created.status_code == 201  # bearer calls need no CSRF token
    assert (await a.get(f"/tickets/{b_ticket['id']}", headers=headers)).status_code == 404
    listed = (await a.get("/tickets", headers=headers)).json()["items"]
    assert [t["subject"] for t in listed] == ["From the CRM"]
    await a.aclose()
    await b.aclose()
