"""The AI ledger: one `AiUsage` row per model call, and the checks made before one.

A call is refused, and nothing is sent, when AI is switched off in the workspace, when no key
is set, or when this month's spending has reached the workspace's cap. Spending is the sum of
the month's rows: the provider's cost when it reports one, otherwise the tokens at the
workspace's prices. A call cut short (the agent stopped it, the stream broke) is still charged
by the provider for what it generated, so its row estimates tokens from the text's length.

Two calls started at the same moment both pass the check, so a month can end slightly over its
cap, by at most the calls then in flight.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from beanie import PydanticObjectId

from app.ai.client import Usage
from app.documents.ai import AiAction, AiOutcome, AiUsage
from app.documents.common import utcnow
from app.documents.workspace import AiSettings
from app.domain.errors import Conflict, DomainError, Forbidden

log = logging.getLogger("tandem.ai")

CHARS_PER_TOKEN = 4  # the usual rough ratio, for estimates only


class CreditsExhausted(DomainError):
    status = 402
    code = "credits_exhausted"


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def month_spent(ws: PydanticObjectId, now: datetime | None = None) -> float:
    """What the workspace's model calls have cost since the first of this month (UTC)."""
    since = month_start(now or utcnow())
    cursor = await AiUsage.get_pymongo_collection().aggregate(
        [
            {"$match": {"workspace_id": ws, "at": {"$gte": since}}},
            {"$group": {"_id": None, "cost": {"$sum": "$cost"}}},
        ]
    )
    rows = await cursor.to_list()
    return float(rows[0]["cost"]) if rows else 0.0


async def check_allowed(ws: PydanticObjectId, ai: AiSettings) -> str:
    """The key to call the model with; refuses when AI is off, no key is set, or this month's
    spending has reached the cap."""
    if not ai.enabled:
        raise Forbidden(
            "AI is switched off in this workspace; an owner can switch it on", code="ai_disabled"
        )
    if not ai.api_key:
        raise Conflict(
            "no API key is set for the model provider; an owner can add one in the AI settings",
            code="ai_not_configured",
        )
    spent = await month_spent(ws)
    if spent >= ai.monthly_credit_cap:
        raise CreditsExhausted(
            f"this month's AI budget ({ai.monthly_credit_cap:g}) is used up; it renews on the "
            "first of next month, or an owner can raise the cap",
            details={"spent": round(spent, 6), "cap": ai.monthly_credit_cap},
        )
    return ai.api_key


def estimate_tokens(chars: int) -> int:
    return (chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


@dataclass
class Meter:
    """What one call has used so far, kept as it streams, so a call cut short is still
    counted."""

    sent_chars: int
    received_chars: int = 0
    usage: Usage | None = None
    # Refused by the provider before it generated anything (a bad key, no credits): free.
    refused: bool = False

    def add(self, text: str) -> None:
        self.received_chars += len(text)

    def figures(self, ai: AiSettings) -> tuple[int, int, float, bool]:
        """Input tokens, output tokens, cost, and whether they are estimated."""
        if self.refused:
            return 0, 0, 0.0, False
        usage = self.usage
        estimated = usage is None or not usage.reported
        if usage is None or not usage.reported:
            usage = Usage(
                input_tokens=estimate_tokens(self.sent_chars),
                output_tokens=estimate_tokens(self.received_chars),
            )
        cost = usage.cost
        if cost is None:
            cost = (
                usage.input_tokens * ai.price_per_1k_input
                + usage.output_tokens * ai.price_per_1k_output
            ) / 1000
        return usage.input_tokens, usage.output_tokens, cost, estimated


async def record(
    ws: PydanticObjectId,
    user_id: str,
    action: AiAction,
    ai: AiSettings,
    meter: Meter,
    outcome: AiOutcome,
    error_code: str | None = None,
) -> AiUsage:
    """The call's row. Nothing of its content is written: only counts and the outcome."""
    input_tokens, output_tokens, cost, estimated = meter.figures(ai)
    row = AiUsage(
        workspace_id=ws,
        user_id=user_id,
        action=action,
        model=ai.model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost=cost,
        estimated=estimated,
        outcome=outcome,
        error_code=error_code,
    )
    await row.insert()
    return row
