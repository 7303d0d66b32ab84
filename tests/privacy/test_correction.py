"""Correcting a person's data (`PATCH /contacts/{id}`) corrects every copy Tandem keeps: the
list rows of their conversations and the contact search."""

from __future__ import annotations

import uuid

from starlette.applications import Starlette

from tests.apiclient import sign_up


async def test_a_corrected_name_and_address_reach_the_rows_and_the_search(
    app: Starlette,
) -> None:
    u = uuid.uuid4().hex[:10]
    owner = await sign_up(app)
    old_email, new_email = f"maria.{u}@old.example", f"maria.{u}@new.example"
    made = await owner.post(
        "/tickets",
        json={
            "subject": "Wrong name on my invoice",
            "contact": {"email": old_email, "name": f"Mraia Wrongly{u}"},
            "message": {"text": "Please fix my name"},
        },
    )
    assert made.status_code == 201, made.text
    contact_id = made.json()["contact_id"]

    async def row_name() -> str | None:
        rows = (await owner.get("/tickets")).json()["items"]
        return next(r["contact_name"] for r in rows if r["contact_id"] == contact_id)

    async def found(q: str) -> list[str]:
        return [c["id"] for c in (await owner.get("/contacts", params={"q": q})).json()["items"]]

    assert await row_name() == f"Mraia Wrongly{u}"
    assert await found(f"wrongly{u}") == [contact_id]

    fixed = await owner.patch(
        f"/contacts/{contact_id}", json={"name": f"Maria Rightly{u}", "email": new_email}
    )
    assert fixed.status_code == 200, fixed.text

    assert await row_name() == f"Maria Rightly{u}"
    assert await found(f"rightly{u}") == [contact_id]
    assert await found(new_email) == [contact_id]
    assert await found(f"wrongly{u}") == []
    assert await found(old_email) == []
    await owner.aclose()
