"""What every channel's delivery job shares: reading the reply to send, and the failures
the job queue retries."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.documents import Message
from realtime.events import DeliveryStatus

# A reply's job is enqueued just before the reply is written, so that a crash in between
# loses nothing: a job may run before the write lands. Its first runs wait for it; after
# this many, the write never happened and the job ends.
WAIT_FOR_WRITE_ATTEMPTS = 3


class TransientDelivery(RuntimeError):
    """The provider could not take the message now; the job is retried."""


class NotWrittenYet(RuntimeError):
    """The reply's write has not landed (yet); the job is retried a few times."""


async def queued_reply(
    ws: PydanticObjectId, message_id: PydanticObjectId, attempt: int
) -> Message | None:
    """The reply to send, if it is still `queued`. None when it was sent or failed already,
    or when its write never happened; `NotWrittenYet` while it may still land."""
    raw = await Message.get_pymongo_collection().find_one({"_id": message_id, "workspace_id": ws})
    if raw is None:
        if attempt < WAIT_FOR_WRITE_ATTEMPTS:
            raise NotWrittenYet(f"message {message_id} is not written yet")
        return None
    message: Message = Message.model_validate(raw)
    if message.delivery_status is not DeliveryStatus.QUEUED:
        return None
    return message
