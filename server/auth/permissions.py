"""Which role may do what: the single table every view checks against."""

from __future__ import annotations

from functools import wraps

from flask import g

from server.errors import ApiError

ALL_ROLES = frozenset({"grid_worker", "community_staff", "dispatcher", "department_staff", "admin"})
# Department staff only work the cases dispatched to them: no register, no ledgers, no sync.
COMMUNITY_ROLES = ALL_ROLES - {"department_staff"}
REGISTRY_EDITORS = frozenset({"grid_worker", "community_staff", "admin"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "areas.read": ALL_ROLES,
    "areas.manage": frozenset({"admin"}),
    "users.manage": frozenset({"admin"}),
    "audit.read": frozenset({"admin"}),
    "people.read": COMMUNITY_ROLES,
    "people.write": REGISTRY_EDITORS,
    # Removing a resident from the register is a review decision, not a field edit.
    "people.delete": frozenset({"community_staff", "admin"}),
    # Full ID numbers are for those who verify residents in person; dispatchers route reports.
    "people.reveal": REGISTRY_EDITORS,
    "households.read": COMMUNITY_ROLES,
    "households.write": REGISTRY_EDITORS,
    "households.delete": frozenset({"community_staff", "admin"}),
    "ledgers.read": COMMUNITY_ROLES,
    # Templates are the office's forms: admins define them.
    "ledgers.manage": frozenset({"admin"}),
    "ledgers.write": REGISTRY_EDITORS,
    "ledgers.delete": frozenset({"community_staff", "admin"}),
    "ledgers.export": frozenset({"community_staff", "admin"}),
    # Importing a spreadsheet writes many entries at once: an office task, not a field one.
    "ledgers.import": frozenset({"community_staff", "admin"}),
    "files.upload": ALL_ROLES,
    "files.read": ALL_ROLES,
    "speech.transcribe": ALL_ROLES,
    # What a push may change is checked per record against the entries above.
    "sync.push": COMMUNITY_ROLES,
    "sync.pull": COMMUNITY_ROLES,
    "sync.conflicts": frozenset({"community_staff", "admin"}),
    "reports.read": ALL_ROLES,
    "reports.create": COMMUNITY_ROLES,
    # Which action each role may take is the workflow's table (ledger/reports/workflow.py).
    "reports.transition": ALL_ROLES,
    # A hotline caller's full phone is for calling back: dispatchers, not the field.
    "reports.contact": frozenset({"dispatcher", "admin"}),
    "reports.stats": frozenset({"community_staff", "dispatcher", "admin"}),
    "departments.read": ALL_ROLES,
    "departments.manage": frozenset({"admin"}),
    "report_categories.manage": frozenset({"admin"}),
    "routing.read": frozenset({"dispatcher", "admin"}),
    "routing.manage": frozenset({"admin"}),
}


def can(role: str | None, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def check(permission: str) -> None:
    user = g.get("user")
    if user is None:
        raise ApiError(401, "auth.required", "请先登录")
    if not can(user.role, permission):
        raise ApiError(403, "auth.forbidden", "您的角色无权执行此操作", {"permission": permission})


def require(permission: str):
    """Decorator for views: the caller's role must hold ``permission``."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            check(permission)
            return view(*args, **kwargs)

        return wrapper

    return decorator
