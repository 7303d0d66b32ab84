"""AI settings of a workspace (owner): switching AI and its live suggestions on or off, and
the model that writes drafts and summaries — its endpoint, name, key, prices and the monthly
spending cap. Off means no suggestions are made and no request leaves Tandem for any model.
The key is write-only: answers say whether one is set, never what it is."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from app.ai.endpoint_guard import normalise_hosts, refusal
from app.ai.ledger import month_spent
from app.api.endpoint import Api, Call
from app.documents import Workspace
from app.domain.errors import Invalid
from app.domain.roles import Action
from app.services.ids import require_id
from app.services.workspaces import get_workspace

api = Api()

BaseUrl = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/]+(/\S*)?$", max_length=500)]
ModelName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ApiKey = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Amount = Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]


class AiSettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool | None = None
    suggestions: bool | None = None
    base_url: BaseUrl | None = None
    model: ModelName | None = None
    # A new key; null removes the one kept (model calls stop until another is set).
    api_key: ApiKey | msgspec.UnsetType | None = msgspec.UNSET
    monthly_credit_cap: Amount | None = None
    price_per_1k_input: Amount | None = None
    price_per_1k_output: Amount | None = None


class AiSettingsOut(msgspec.Struct):
    enabled: bool
    suggestions: bool
    base_url: str
    model: str
    api_key_set: bool
    monthly_credit_cap: float
    price_per_1k_input: float
    price_per_1k_output: float
    spent_this_month: float


async def _out(call: Call) -> AiSettingsOut:
    workspace = await get_workspace(call.agent.workspace_id)
    ai = workspace.ai
    assert workspace.id is not None
    return AiSettingsOut(
        enabled=ai.enabled,
        suggestions=ai.suggestions,
        base_url=ai.base_url,
        model=ai.model,
        api_key_set=bool(ai.api_key),
        monthly_credit_cap=ai.monthly_credit_cap,
        price_per_1k_input=ai.price_per_1k_input,
        price_per_1k_output=ai.price_per_1k_output,
        spent_this_month=round(await month_spent(workspace.id), 6),
    )


@api.op("GET", "/ai/settings", summary="Whether AI is on here", tag="ai", response=AiSettingsOut)
async def ai_settings(call: Call) -> AiSettingsOut:
    call.agent.require(Action.WORK_TICKETS)
    return await _out(call)


@api.op(
    "PATCH",
    "/ai/settings",
    summary="Switch AI or its live suggestions on or off; set the model, its key (write-only), "
    "prices and monthly cap (owner)",
    tag="ai",
    body=AiSettingsIn,
    response=AiSettingsOut,
    errors=(403, 422),
)
async def change_ai_settings(call: Call) -> AiSettingsOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    body: AiSettingsIn = call.body
    given: dict[str, Any] = {
        name: getattr(body, name)
        for name in (
            "enabled",
            "suggestions",
            "base_url",
            "model",
            "monthly_credit_cap",
            "price_per_1k_input",
            "price_per_1k_output",
        )
        if getattr(body, name) is not None
    }
    if "base_url" in given:
        given["base_url"] = given["base_url"].rstrip("/")
        hosts = normalise_hosts(call.runtime.settings.ai_private_hosts)
        refused = await refusal(given["base_url"], hosts)
        if refused is not None:
            raise Invalid(
                f"that model endpoint is not allowed: {refused}",
                code="endpoint_not_allowed",
                field="base_url",
            )
    if body.api_key is not msgspec.UNSET:
        given["api_key"] = body.api_key
    if given:
        ws = require_id(call.agent.workspace_id, "workspace")
        changes = {f"ai.{name}": value for name, value in given.items()}
        await Workspace.get_pymongo_collection().update_one({"_id": ws}, {"$set": changes})
    return await _out(call)
