"""A workspace's life after its owner cancels it: read-only, restorable for a window, purged.

    active ── cancel (owner, password) ──▶ cancelled ── purge_after passes ──▶ purged
       ▲                                      │          (the worker: app/services/
       └────────── restore (owner) ───────────┘           workspace_purge.py)

A cancelled workspace keeps everything: members log in, read and export it, and nothing of it
changes. Every write an agent or an API token asks for is refused in one place, where the
API dispatches unsafe methods (app/api/endpoint.py), with `409 workspace_cancelled` naming
when it will be purged; the widget, the inbound webhooks and the live socket's signals refuse
it at their own doors (see `refusal_for_visitors` and `refusal_for_provider`). The window is
`TANDEM_PURGE_AFTER_DAYS` (90 by default). Once the purge has begun nothing brings it back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from starlette.requests import Request

from app.auth.passwords import verify_password
from app.auth.principal import Principal
from app.auth.throttle import LoginThrottle
from app.doclock import DocumentLocks
from app.documents import User, Workspace
from app.documents.common import utcnow
from app.domain.errors import Conflict, DomainError, Forbidden, NotFound
from app.jobs.model import to_ms
from app.jobs.timers import Timers
from app.schemas.common import iso
from app.services.audit import record
from app.services.ids import require_id

log = logging.getLogger("tandem.lifecycle")

PURGE_JOB = "workspace.purge"
STATE = {"cancelled_at": 1, "purge_after": 1, "purging_since": 1}


class WorkspaceCancelled(DomainError):
    """A write to a cancelled (read-only) workspace."""

    status = 409
    code = "workspace_cancelled"


@dataclass(frozen=True)
class Lifecycle:
    cancelled_at: datetime | None = None
    purge_after: datetime | None = None
    purging: bool = False

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    def details(self) -> dict[str, str | None]:
        return {
            "cancelled_at": iso(self.cancelled_at),
            "purge_after": iso(self.purge_after),
        }

    def refusal(self) -> WorkspaceCancelled:
        when = iso(self.purge_after) or "soon"
        return WorkspaceCancelled(
            f"this workspace was cancelled and is read-only; its data will be deleted after "
            f"{when} unless its owner restores it",
            details=self.details(),
        )


def lifecycle_of(workspace: Workspace) -> Lifecycle:
    return Lifecycle(
        workspace.cancelled_at, workspace.purge_after, workspace.purging_since is not None
    )


def _from_raw(raw: dict[str, Any] | None) -> Lifecycle:
    if raw is None:
        return Lifecycle()
    return Lifecycle(
        raw.get("cancelled_at"), raw.get("purge_after"), raw.get("purging_since") is not None
    )


async def read_lifecycle(workspace_id: str | ObjectId) -> Lifecycle:
    """The workspace's state: one lookup by `_id` of three fields."""
    oid = workspace_id if isinstance(workspace_id, ObjectId) else _oid(workspace_id)
    if oid is None:
        return Lifecycle()
    raw = await Workspace.get_pymongo_collection().find_one({"_id": oid}, STATE)
    return _from_raw(raw)


def _oid(value: str) -> ObjectId | None:
    return ObjectId(value) if ObjectId.is_valid(value) else None


async def require_writable(workspace_id: str) -> None:
    """Refuse (409 workspace_cancelled) a write to a cancelled workspace."""
    state = await read_lifecycle(workspace_id)
    if state.cancelled:
        raise state.refusal()


def refusal_for_visitors(workspace: Workspace) -> Forbidden | None:
    """The widget of a cancelled workspace shows nothing: 403 is what widget.js takes as "this
    site may not show chat", so it leaves the page and says why in the console."""
    if workspace.cancelled_at is None:
        return None
    return Forbidden("this workspace was cancelled: its chat is closed", code="workspace_cancelled")


def refusal_for_provider(workspace: Workspace, provider: str, status: int) -> DomainError | None:
    """What an inbound channel webhook of a cancelled workspace is answered: an error, never a
    2xx, so the message stays with the provider instead of being dropped here. Postmark keeps
    an email it was refused 403 among its failed inbound messages, where it can be retried by
    hand after a restore, and does not retry it for hours; Meta retries whatever is not
    answered 2xx for up to 7 days, so a restore within a week receives what came meanwhile."""
    if workspace.cancelled_at is None:
        return None
    log.warning(
        "%s webhook for cancelled workspace %s refused with %d; the provider keeps the message",
        provider,
        workspace.id,
        status,
    )
    error = lifecycle_of(workspace).refusal()
    error.status = status  # the answer this provider acts on as described above
    return error


async def cancel(
    *,
    principal: Principal,
    password: str,
    request: Request,
    throttle: LoginThrottle,
    locks: DocumentLocks,
    timers: Timers | None,
    days: int,
) -> Lifecycle:
    """Cancel the workspace (its owner, who confirms with their password): read-only from now,
    purged after `days` days unless restored."""
    ws = require_id(principal.workspace_id, "workspace")
    workspace = await Workspace.get(ws)
    user = await User.get(require_id(principal.user_id, "user"))
    if workspace is None or user is None:
        raise NotFound("no such workspace")
    # Counted with the logins: the same password, guessed the same way.
    await throttle.attempt(workspace.slug, user.email, request)
    if not await asyncio.to_thread(verify_password, user.password_hash, password):
        raise Forbidden("the password is not right", code="wrong_password")
    await throttle.succeeded(workspace.slug, user.email, request)
    now = utcnow()
    purge_after = now + timedelta(days=max(0, days))
    async with locks.hold(f"workspaces:{ws}"):
        raw = await Workspace.get_pymongo_collection().find_one_and_update(
            {"_id": ws, "cancelled_at": None},
            {"$set": {"cancelled_at": now, "purge_after": purge_after}},
            return_document=ReturnDocument.AFTER,
        )
    if raw is None:
        raise (await read_lifecycle(ws)).refusal()
    if timers is not None:
        # On time, whatever else the worker does; the hourly sweep catches a timer Redis lost.
        # The timer names no workspace: the job purges every workspace that is due.
        due_ms = to_ms(purge_after)
        await timers.schedule(PURGE_JOB, {}, purge_after, key=f"{PURGE_JOB}:{due_ms}")
    state = _from_raw(raw)
    await record(
        ws, principal.user_id, "workspace.cancelled", "workspace", str(ws), **state.details()
    )
    log.info("workspace %s cancelled; purged after %s", ws, iso(purge_after))
    return state


async def restore(*, principal: Principal, locks: DocumentLocks) -> Lifecycle:
    """Undo a cancel, until the purge begins."""
    ws = require_id(principal.workspace_id, "workspace")
    async with locks.hold(f"workspaces:{ws}"):
        before = await read_lifecycle(ws)
        if not before.cancelled:
            raise Conflict("this workspace is not cancelled", code="not_cancelled")
        if before.purging:
            raise Conflict(
                "this workspace's data is being deleted; it can no longer be restored",
                code="purge_started",
            )
        await Workspace.get_pymongo_collection().update_one(
            {"_id": ws, "purging_since": None},
            {"$set": {"cancelled_at": None, "purge_after": None}},
        )
    await record(
        ws, principal.user_id, "workspace.restored", "workspace", str(ws), **before.details()
    )
    log.info("workspace %s restored", ws)
    return Lifecycle()
