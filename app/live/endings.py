"""Ending someone's live access: every process closes the matching sockets at once.

Called after the session records or tokens have ended in the store (so a socket that
reconnects is refused too). The notice travels as an "ended" signal through the broker, which
each process's hub acts on (realtime/hub.py) and never forwards to a client.
"""

from __future__ import annotations

from app.auth import session_store
from app.services.ids import require_id
from realtime.broker import Broker
from realtime.events import Signal, SignalData


async def end_live_access(
    broker: Broker, ws: str, *, user: str | None = None, credential: str | None = None
) -> None:
    """Close the sockets of `user` in workspace `ws` — all of them, or only those opened with
    `credential` (a session's id, or "token:<id>")."""
    if user is None and credential is None:
        raise ValueError("name the person or the credential whose access ended")
    await broker.signal(
        Signal(ws=ws, type="ended", data=SignalData(user=user, credential=credential))
    )


async def end_sessions(
    broker: Broker, ws: str, user: str, reason: str, *, keep: str | None = None
) -> None:
    """End the person's browser sessions (all, or all but `keep`) and close their sockets:
    every socket of theirs when none is kept, else those the ended sessions opened."""
    wid, uid = require_id(ws, "workspace"), require_id(user, "user")
    ended = await session_store.end_all(wid, uid, reason, keep=keep)
    if keep is None:
        await end_live_access(broker, ws, user=user)
        return
    for session_id in ended:
        await end_live_access(broker, ws, user=user, credential=session_id)


async def refresh_live_access(broker: Broker, ws: str, user: str) -> None:
    """What `user` may see changed (role, teams): their sockets close with 1012 and the
    clients reconnect at once, authorized as they now are."""
    await broker.signal(Signal(ws=ws, type="changed", data=SignalData(user=user)))
