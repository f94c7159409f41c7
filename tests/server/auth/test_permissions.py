"""Roles are checked in one place: the table in server/auth/permissions.py."""

from __future__ import annotations

import inspect

import pytest

from server.auth import permissions
from server.auth.hooks import PUBLIC_ENDPOINTS

# Any logged-in user may see who they are and log out; everything else names a permission.
ANY_LOGGED_IN = {("auth.Logout", "post"), ("auth.Me", "get")}
_REQUIRE_CODE = permissions.require("areas.read")(lambda: None).__code__


def _declared_permission(func) -> str | None:
    """The permission given to ``require`` somewhere in the view's decorator chain."""
    while func is not None:
        if getattr(func, "__code__", None) is _REQUIRE_CODE:
            return inspect.getclosurevars(func).nonlocals["permission"]
        func = getattr(func, "__wrapped__", None)
    return None


def _views(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            # Plain function views (the WebSocket) carry their decorators themselves.
            func = getattr(view_class, method.lower()) if view_class else view
            yield rule.endpoint, method.lower(), func


def test_every_protected_view_declares_a_permission(app):
    seen = {}
    for endpoint, method, func in _views(app):
        seen[(endpoint, method)] = _declared_permission(func)
    undeclared = {key for key, perm in seen.items() if perm is None}
    assert undeclared == ANY_LOGGED_IN
    assert {p for p in seen.values() if p} <= set(permissions.PERMISSIONS)
    assert seen[("areas.AreasViews", "post")] == "areas.manage"
    assert seen[("areas.AreasViews", "get")] == "areas.read"
    assert seen[("users.UsersViews", "post")] == "users.manage"
    assert seen[("users.UserByIdViews", "patch")] == "users.manage"
    assert seen[("audit.AuditViews", "get")] == "audit.read"


@pytest.mark.parametrize(
    ("permission", "roles"),
    [
        ("areas.read", permissions.ALL_ROLES),
        ("people.read", {"grid_worker", "community_staff", "dispatcher", "admin"}),
        ("reports.transition", permissions.ALL_ROLES),
        ("reports.contact", {"dispatcher", "admin"}),
        ("areas.manage", {"admin"}),
        ("users.manage", {"admin"}),
        ("audit.read", {"admin"}),
    ],
)
def test_role_table(permission, roles):
    assert {r for r in permissions.ALL_ROLES if permissions.can(r, permission)} == roles
    assert not permissions.can(None, permission)


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(KeyError):
        permissions.require("areas.destroy")


def test_roles_match_the_account_model():
    from ledger.accounts.models import ROLE_NAMES, ROLES

    assert set(ROLES) == permissions.ALL_ROLES == set(ROLE_NAMES)


@pytest.mark.parametrize("role", ["grid_worker", "community_staff", "dispatcher"])
def test_non_admins_get_403_envelope_on_admin_routes(make_user, tree, role):
    area = {"grid_worker": "G1", "community_staff": "C1", "dispatcher": "S1"}[role]
    user = make_user(role, area)
    calls = [
        user.get("/api/v1/users"),
        user.post("/api/v1/users", json={"username": "x"}),
        user.get("/api/v1/users/1"),
        user.patch("/api/v1/users/1", json={"role": "admin"}),
        user.post("/api/v1/areas", json={"code": "Z"}),
        user.get("/api/v1/audit"),
    ]
    for r in calls:
        assert r.status_code == 403, r.get_json()
        err = r.get_json()["error"]
        assert err["code"] == "auth.forbidden"
        assert err["message"] == "您的角色无权执行此操作"
    # The forbidden calls changed nothing: the caller is still a plain user.
    assert user.get("/api/v1/auth/me").get_json()["role"] == role
