"""The thread's timeline lines a ticket change writes: "Ana set the status to pending"."""

from __future__ import annotations

from realtime.events import Actor, Status


def who(actor: Actor) -> str:
    if actor.name:
        return actor.name
    return {"system": "Tandem", "automation": "An automation", "channel": "The channel"}.get(
        actor.kind, "Someone"
    )


def change_lines(
    actor: Actor,
    changed: list[str] | set[str],
    *,
    status: Status,
    assignee_id: str | None,
    assignee_name: str | None,
) -> list[str]:
    lines = []
    name = who(actor)
    if "status" in changed:
        lines.append(f"{name} set the status to {status.value}")
    if "assignee_id" in changed:
        if assignee_id is None:
            lines.append(f"{name} unassigned this ticket")
        elif assignee_id == actor.id:
            lines.append(f"{name} took this ticket")
        else:
            lines.append(f"{name} assigned this ticket to {assignee_name or 'someone'}")
    return lines
