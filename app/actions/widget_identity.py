"""The contact a verified widget user is: found or made by their external id, with the name
and email the host site gives.

The host site proves the user id only (`hash = HMAC(widget secret, user id)`); the name and
email ride along unsigned. So the email is stored on the verified contact only when no other
contact of the workspace has it. When another contact does, it stays theirs and nothing is
linked or merged: linking would hand that contact's conversations to anyone the site lets log
in whose page names that address. The address is then kept on the verified contact as
`claimed_email`, as the pre-chat form does, so agents see it and can merge by hand."""

from __future__ import annotations

from typing import Any

from app.actions import contacts as contact_actions
from app.actions.base import Deps
from app.documents import Contact, Workspace
from app.domain.errors import Conflict
from app.schemas.widget import VerifiedUser
from app.services import contacts
from realtime.events import Actor


async def verified_contact(deps: Deps, workspace: Workspace, user: VerifiedUser) -> Contact:
    """The contact of a user whose hash was checked already."""
    ws = workspace.id
    assert ws is not None
    contact = await contact_actions.find_or_create(
        deps, ws, "external_id", user.id, actor=Actor(kind="contact"), name=user.name, verified=True
    )
    changes: dict[str, Any] = {}
    if not contact.verified:
        # An agent made this contact by hand earlier; the host site has now proven it.
        changes["verified"] = True
    email = contacts.normalize_identifier("email", user.email) if user.email else None
    attributes = dict(contact.custom_attributes)
    if email and email != contact.email:
        owner = await contacts.lookup(ws, "email", email)
        if owner is None:
            changes["email"] = email
            attributes.pop("claimed_email", None)
        else:
            attributes["claimed_email"] = email
    elif email:
        attributes.pop("claimed_email", None)
    if attributes != contact.custom_attributes:
        changes["custom_attributes"] = attributes
    if not changes:
        return contact
    system = Actor(kind="system")
    try:
        return await contact_actions.update_contact(deps, ws, str(contact.id), changes, system)
    except Conflict:
        # Another contact took the address in the meantime: it stays theirs.
        changes.pop("email", None)
        attributes["claimed_email"] = email
        changes["custom_attributes"] = attributes
        return await contact_actions.update_contact(deps, ws, str(contact.id), changes, system)
