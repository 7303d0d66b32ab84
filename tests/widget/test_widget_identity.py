"""A verified widget user's email: kept on their contact, never taken from another contact."""

from starlette.applications import Starlette

from app.auth.visitor_tokens import identity_hash
from tests.widget.test_widget_api import site_client, start, widget_workspace


def user(secret: str, user_id: str, **fields: str) -> dict[str, str]:
    return {"id": user_id, "hash": identity_hash(secret, user_id), **fields}


async def test_a_verified_users_email_is_stored_on_their_contact(app: Starlette) -> None:
    owner, ws, secret = await widget_workspace(app)
    site = site_client(app)
    session = await start(
        site, ws, user=user(secret, "u-100", name="Grace", email="Grace@Corp.Example")
    )
    assert session["visitor"]["email"] == "grace@corp.example"
    contact_id = session["visitor"]["contact_id"]
    contact = (await owner.get(f"/contacts/{contact_id}")).json()
    assert (contact["name"], contact["email"], contact["external_id"], contact["verified"]) == (
        "Grace",
        "grace@corp.example",
        "u-100",
        True,
    )
    # Agents find her by the address, so an email from her lands on the same contact.
    found = await owner.get("/contacts/lookup", params={"email": "grace@corp.example"})
    assert found.json()["id"] == contact_id

    # The site changes her address: the next verified session carries the new one.
    moved = await start(site_client(app), ws, user=user(secret, "u-100", email="g@new.example"))
    assert moved["visitor"]["contact_id"] == contact_id
    contact = (await owner.get(f"/contacts/{contact_id}")).json()
    assert contact["email"] == "g@new.example"
    await site.aclose()
    await owner.aclose()


async def test_a_verified_user_never_takes_another_contacts_email(app: Starlette) -> None:
    owner, ws, secret = await widget_workspace(app)
    customer = await owner.post("/contacts", json={"name": "Ceo", "email": "ceo@bank.example"})
    assert customer.status_code == 201, customer.text
    ceo = customer.json()

    # A real, verified user of the site whose page claims the CEO's address: the hash proves
    # the user id only, so the address stays with its contact and nothing is linked.
    site = site_client(app)
    session = await start(site, ws, user=user(secret, "u-7", email="ceo@bank.example"))
    assert session["visitor"]["contact_id"] != ceo["id"]
    assert session["visitor"]["email"] is None
    mine = (await owner.get(f"/contacts/{session['visitor']['contact_id']}")).json()
    assert mine["email"] is None
    assert mine["custom_attributes"]["claimed_email"] == "ceo@bank.example"
    theirs = (await owner.get(f"/contacts/{ceo['id']}")).json()
    assert (theirs["email"], theirs["external_id"]) == ("ceo@bank.example", None)
    # And the verified visitor sees nothing of the CEO's conversations.
    convo = (await site.get("/conversation")).json()
    assert convo["conversation_id"] is None

    bad = await site_client(app).post(
        "/session", json={"workspace": ws, "user": user(secret, "u-8", email="not an address")}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_field"
    assert "user.email" in bad.text
    await site.aclose()
    await owner.aclose()
