"""The texts of account emails: plain functions, nothing sent here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccountMail:
    to: str
    subject: str
    text: str
    workspace_id: str | None = None  # sent through this workspace's email channel when it has one


def password_reset(to: str, workspace: str, link: str, minutes: int, ws_id: str) -> AccountMail:
    return AccountMail(
        to=to,
        subject=f"Reset your Tandem password for {workspace}",
        text=(
            f"Someone asked to reset the password of {to} in the {workspace} workspace.\n\n"
            f"Choose a new password here (the link works once, for {minutes} minutes):\n"
            f"{link}\n\n"
            "If it was not you, ignore this email: your password stays as it is.\n"
        ),
        workspace_id=ws_id,
    )


def verify_email(to: str, workspace: str, link: str, ws_id: str) -> AccountMail:
    return AccountMail(
        to=to,
        subject="Confirm your email address for Tandem",
        text=(
            f"Confirm that {to} is your address in the {workspace} workspace:\n{link}\n\n"
            "If you did not sign up for Tandem, ignore this email.\n"
        ),
        workspace_id=ws_id,
    )


def your_workspaces(to: str, found: list[tuple[str, str, str]]) -> AccountMail:
    """`found`: (workspace name, its address, its login link) for each workspace of `to`."""
    if found:
        lines = "\n".join(f"- {name} (address: {slug}): {link}" for name, slug, link in found)
        body = f"{to} belongs to these Tandem workspaces:\n\n{lines}\n"
    else:
        body = f"{to} does not belong to any Tandem workspace on this server.\n"
    return AccountMail(
        to=to,
        subject="Your Tandem workspaces",
        text=body + "\nIf you did not ask for this, ignore this email.\n",
    )
