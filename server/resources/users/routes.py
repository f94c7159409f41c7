"""User administration: create accounts, change roles and areas, deactivate."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from ledger.accounts import operations as ops
from ledger.accounts.models import User
from ledger.audit.operations import Actor
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


def checked_hash(password: str) -> str:
    """The hash of a new password, or a 422 naming what makes it too weak."""
    problems = password_problems(password)
    if problems:
        raise ApiError(422, "validation_error", "密码强度不足", {"fields": {"password": problems}})
    return hash_password(password)


def create_account(session: Session, actor: Actor, data: dict) -> User:
    """Create an account from API-shaped data (the console's form sends the same)."""
    data = dict(data)
    password_hash = checked_hash(data.pop("password"))
    return ops.create_user(session, actor, password_hash=password_hash, **data)


def change_account(session: Session, actor: Actor, user_id: int, data: dict) -> User:
    """Apply a user PATCH; new rights, credentials or a disabled account end their sessions."""
    data = dict(data)
    if "password" in data:
        data["password_hash"] = checked_hash(data.pop("password"))
    user = ops.update_user(session, actor, user_id, data)
    if {"role", "area", "password_hash"} & data.keys() or data.get("active") is False:
        # New rights or credentials take effect now, not when old tokens expire.
        revoke_user_sessions(session, user.id)
    return user


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
        return _view(create_account(get_session(), current_actor(), data))


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
        return _view(change_account(get_session(), current_actor(), user_id, data))
