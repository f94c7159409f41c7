"""The report workflow table: the closed loop, role rules and refusals."""

from __future__ import annotations

import pytest

from ledger.reports.workflow import (
    ACTIONS,
    FINAL,
    STATE_NAMES,
    STATES,
    RoleNotAllowed,
    TransitionNotAllowed,
    UnknownAction,
    allowed,
    check,
)

LOOP = [
    ("accept", "dispatcher", "accepted"),
    ("dispatch", "dispatcher", "dispatched"),
    ("start", "department_staff", "in_progress"),
    ("resolve", "department_staff", "resolved"),
    ("reopen", "grid_worker", "reopened"),
    ("start", "department_staff", "in_progress"),
    ("resolve", "department_staff", "resolved"),
    ("verify", "grid_worker", "verified"),
    ("close", "dispatcher", "closed"),
]


def test_the_closed_loop_from_report_to_close():
    state = "reported"
    for action, role, target in LOOP:
        assert check(action, state, role).target == target
        state = target
    assert check("evaluate", state, "grid_worker").target is None  # 评价 keeps it closed


@pytest.mark.parametrize("state", STATES)
def test_every_action_outside_its_states_is_refused(state):
    for name, action in ACTIONS.items():
        role = sorted(action.roles)[0]
        if state in action.sources:
            assert check(name, state, role) is action
        else:
            with pytest.raises(TransitionNotAllowed) as caught:
                check(name, state, role)
            assert caught.value.code == "reports.transition_not_allowed"
            assert STATE_NAMES[state] in caught.value.message


def test_roles_are_checked_before_states():
    with pytest.raises(RoleNotAllowed):
        check("dispatch", "closed", "grid_worker")  # wrong role and wrong state: 403 first
    with pytest.raises(RoleNotAllowed):
        check("start", "dispatched", "dispatcher")  # departments do the work
    with pytest.raises(RoleNotAllowed):
        check("verify", "resolved", "department_staff")  # nobody checks their own work
    with pytest.raises(UnknownAction):
        check("teleport", "reported", "admin")


def test_every_state_is_reachable_and_only_final_states_have_no_way_on():
    reached = {"reported"} | {a.target for a in ACTIONS.values() if a.target}
    assert reached == set(STATES)
    for state in STATES:
        moves = [a for a in ACTIONS.values() if state in a.sources and a.target]
        assert bool(moves) == (state not in FINAL), state
    assert allowed("resolved", "grid_worker") == ["verify", "reopen"]
    assert allowed("resolved", "department_staff") == []
