"""The report workflow as data: states, the actions that move between them and the roles
that may take each action. The server enforces it; nothing here knows HTTP or the database.

上报 reported → 立案 accepted (or 不予立案 rejected / duplicate) → 派遣 dispatched → 处置
in_progress → resolved → 核查 verified → 结案 closed; a failed check reopens the case to its
department, and the reporter (or a 12345 caller) evaluates a closed case.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import Conflict, Forbidden

STATES = ("reported", "accepted", "rejected", "duplicate", "dispatched", "in_progress",
          "resolved", "verified", "reopened", "closed")  # fmt: skip
STATE_NAMES = {
    "reported": "已上报", "accepted": "已立案", "rejected": "不予立案", "duplicate": "重复上报",
    "dispatched": "已派遣", "in_progress": "处置中", "resolved": "已处置", "verified": "已核查",
    "reopened": "核查未通过", "closed": "已结案",
}  # fmt: skip
# States in which a case is finished: no deadline runs and Open311 shows "closed".
FINAL = frozenset({"rejected", "duplicate", "closed"})


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change (evaluate)
    roles: frozenset[str]
    # What the call must carry.
    needs_comment: bool = False
    needs_department: bool = False
    needs_duplicate_of: bool = False
    needs_photos: bool = False
    needs_satisfied: bool = False


_DISPATCHERS = frozenset({"dispatcher", "admin"})
_DEPARTMENTS = frozenset({"department_staff", "admin"})
_FIELD = frozenset({"grid_worker", "community_staff", "admin"})

ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("accept", "立案", frozenset({"reported"}), "accepted", _DISPATCHERS),
    Action("reject", "不予立案", frozenset({"reported"}), "rejected", _DISPATCHERS,
           needs_comment=True),
    Action("mark_duplicate", "标记重复", frozenset({"reported", "accepted"}), "duplicate",
           _DISPATCHERS, needs_duplicate_of=True),
    Action("dispatch", "派遣", frozenset({"accepted", "dispatched"}), "dispatched", _DISPATCHERS,
           needs_department=True),
    Action("start", "开始处置", frozenset({"dispatched", "reopened"}), "in_progress",
           _DEPARTMENTS),
    Action("resolve", "处置完成", frozenset({"in_progress"}), "resolved", _DEPARTMENTS,
           needs_photos=True),
    Action("verify", "核查通过", frozenset({"resolved"}), "verified", _FIELD, needs_photos=True),
    Action("reopen", "核查未通过", frozenset({"resolved"}), "reopened", _FIELD,
           needs_comment=True),
    Action("close", "结案", frozenset({"verified"}), "closed", _DISPATCHERS),
    Action("evaluate", "评价", frozenset({"closed"}), None,
           frozenset({"grid_worker", "community_staff", "dispatcher", "admin"}),
           needs_satisfied=True),
)}  # fmt: skip


class TransitionNotAllowed(Conflict):
    code = "reports.transition_not_allowed"
    message = "当前状态下不能执行此操作"


class RoleNotAllowed(Forbidden):
    code = "reports.role_not_allowed"
    message = "您的角色不能执行此操作"


class UnknownAction(Conflict):
    kind = "invalid"
    code = "reports.unknown_action"
    message = "不支持的操作"


def check(action_name: str, state: str, role: str | None) -> Action:
    """The action if ``role`` may take it from ``state``; the role is checked first, so a
    caller never learns what state a case it may not touch is in."""
    action = ACTIONS.get(action_name)
    if action is None:
        raise UnknownAction(details={"action": action_name, "allowed": sorted(ACTIONS)})
    if role not in action.roles:
        raise RoleNotAllowed(f"您的角色不能执行“{action.label}”", details={"action": action_name})
    if state not in action.sources:
        raise TransitionNotAllowed(
            f"案件{STATE_NAMES.get(state, state)}，不能执行“{action.label}”",
            details={"action": action_name, "state": state, "allowed": allowed(state, role)},
        )
    return action


def allowed(state: str, role: str | None) -> list[str]:
    """The actions ``role`` may take on a case in ``state`` (what the app shows as buttons)."""
    return [a.name for a in ACTIONS.values() if state in a.sources and role in a.roles]
