from app.domain.roles import Action, Role, allowed_actions, can, may_grant


def test_roles_are_ordered_and_each_action_has_a_floor() -> None:
    assert can(Role.AGENT, Action.WORK_TICKETS)
    assert not can(Role.AGENT, Action.ASSIGN_OTHERS)
    assert can(Role.SUPERVISOR, Action.VIEW_DASHBOARD)
    assert not can(Role.SUPERVISOR, Action.INVITE_MEMBERS)
    assert can(Role.ADMIN, Action.MANAGE_API_TOKENS)
    assert not can(Role.ADMIN, Action.MANAGE_WORKSPACE)
    assert set(allowed_actions(Role.OWNER)) == {a.value for a in Action}


def test_who_may_grant_which_role() -> None:
    assert may_grant(Role.OWNER, Role.OWNER)
    assert may_grant(Role.ADMIN, Role.ADMIN)
    assert not may_grant(Role.ADMIN, Role.OWNER)
    assert not may_grant(Role.SUPERVISOR, Role.AGENT)
