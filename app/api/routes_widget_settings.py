"""The owner's side of the widget: its identity-verification secret and settings."""

from __future__ import annotations

from app.actions import workspace as workspace_actions
from app.api.endpoint import Api, Call
from app.documents import Workspace
from app.domain.roles import Action
from app.schemas.widget import WidgetSettingsOut
from app.services import workspaces

api = Api()


def settings_out(workspace: Workspace) -> WidgetSettingsOut:
    return WidgetSettingsOut(
        workspace_id=str(workspace.id),
        allowed_origins=list(workspace.allowed_origins),
        reply_time=workspace.widget_reply_time,
        greeting=workspace.widget_greeting,
        secret=workspace.widget_secret,
    )


@api.op(
    "GET",
    "/workspace/widget",
    summary="The widget's settings and identity-verification secret (owner)",
    tag="workspace",
    response=WidgetSettingsOut,
    errors=(403,),
)
async def widget_settings(call: Call) -> WidgetSettingsOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    return settings_out(await workspaces.get_workspace(call.agent.workspace_id))


@api.op(
    "POST",
    "/workspace/widget/secret",
    secret=True,
    summary="Replace the identity-verification secret; hashes made with the old one stop working",
    tag="workspace",
    response=WidgetSettingsOut,
    errors=(403,),
)
async def rotate_widget_secret(call: Call) -> WidgetSettingsOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    workspace = await workspace_actions.rotate_widget_secret(
        call.agent.workspace_id, call.agent.user_id
    )
    return settings_out(workspace)
