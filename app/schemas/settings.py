"""What the workspace settings screens send and read: opening hours, the whole workspace,
pending invitations, teams and their members, the audit log's filters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from app.domain.roles import Role
from app.schemas.auth import WorkspaceOut, WorkspacePatch
from app.schemas.common import Name

OpenTime = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
CloseTime = Annotated[str, msgspec.Meta(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]
ObjectId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{24}$")]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DayHoursIn(msgspec.Struct, forbid_unknown_fields=True):
    open: OpenTime
    close: CloseTime


class WeekHoursIn(msgspec.Struct, forbid_unknown_fields=True):
    """A whole week at once: a day left out (or null) is closed; `{}` clears the hours."""

    mon: DayHoursIn | None = None
    tue: DayHoursIn | None = None
    wed: DayHoursIn | None = None
    thu: DayHoursIn | None = None
    fri: DayHoursIn | None = None
    sat: DayHoursIn | None = None
    sun: DayHoursIn | None = None


class SettingsPatch(WorkspacePatch, forbid_unknown_fields=True):
    business_hours: WeekHoursIn | msgspec.UnsetType = msgspec.UNSET


class DayHoursOut(msgspec.Struct):
    open: str
    close: str


class WorkspaceSettingsOut(WorkspaceOut, kw_only=True):
    """The workspace as its settings screens show it: beside `/me`'s fields, the opening
    hours, the widget's texts, and the addresses a site embeds the widget from."""

    business_hours: dict[str, DayHoursOut]
    widget_reply_time: str
    widget_greeting: str
    public_url: str
    widget_script_url: str


class PendingInvitationOut(msgspec.Struct):
    id: str
    email: str
    name: str
    role: Role
    invited_by: str
    created_at: str | None
    expires_at: str | None


class TeamPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class TeamMembersIn(msgspec.Struct, forbid_unknown_fields=True):
    user_ids: Annotated[list[ObjectId], msgspec.Meta(max_length=1000)]


class TeamMembersOut(msgspec.Struct):
    id: str
    name: str
    user_ids: list[str]


class AuditQuery(msgspec.Struct, forbid_unknown_fields=True):
    actor: ObjectId | None = None  # a member's user id
    action: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]+(\.[a-z_]+)*\.?$")] | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    before: ObjectId | None = None  # the last event of the page before: the next page
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50


class AuditOut(msgspec.Struct):
    id: str
    actor_id: str | None
    action: str
    target_type: str
    target_id: str | None
    at: str | None
    data: dict[str, Any]
