from starlette.applications import Starlette

from tests.apiclient import sign_up


async def test_signup_then_me(app: Starlette) -> None:
    owner = await sign_up(app)
    me = await owner.get("/me")
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "owner"
