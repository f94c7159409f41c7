"""User administration: create accounts, change roles and areas, deactivate."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.accounts import operations as ops
from server.auth.passwords import hash_password, password_problems
from server.auth.permissions import require
from server.auth.service import current_actor, revoke_user_sessions
from server.db import get_session
from server.errors import ApiError
from server.resources.auth.routes import user_view
from server.resources.users.schemas import (
    UserCreateSchema,
    UserListQuerySchema,
    UserListSchema,
    UserSchema,
    UserUpdateSchema,
)

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="用户（管理员）")


def _view(user) -> dict:
    return {**user_view(user), "active": user.active, "created_at": user.created_at}


def _checked_hash(password: str) -> str:
    problems = password_problems(password)
    if problems:
        raise ApiError(422, "validation_error", "密码强度不足", {"fields": {"password": problems}})
    return hash_password(password)


@blp.route("")
class UsersViews(MethodView):
    @require("users.manage")
    @blp.arguments(UserListQuerySchema, location="query")
    @blp.response(200, UserListSchema)
    def get(self, args):
        """List user accounts"""
        return {"items": [_view(u) for u in ops.list_users(get_session(), **args)]}

    @require("users.manage")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a user account with a role and an area"""
        password_hash = _checked_hash(data.pop("password"))
        user = ops.create_user(get_session(), current_actor(), password_hash=password_hash, **data)
        return _view(user)


@blp.route("/<int:user_id>")
class UserByIdViews(MethodView):
    @require("users.manage")
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """Get one user account"""
        return _view(ops.get_user(get_session(), user_id))

    @require("users.manage")
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Change a user's role, area, status or password (audited)"""
        session = get_session()
        if "password" in data:
            data["password_hash"] = _checked_hash(data.pop("password"))
        user = ops.update_user(session, current_actor(), user_id, data)
        if {"role", "area", "password_hash"} & data.keys() or data.get("active") is False:
            # New rights or credentials take effect now, not when old tokens expire.
            revoke_user_sessions(session, user.id)
        return _view(user)
