"""Token login with throttling, single-use refresh tokens, and logout."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from server.auth import service
from server.db import get_session
from server.resources.auth.schemas import LoginSchema, MeSchema, RefreshSchema, TokenSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="登录与令牌")


def user_view(user) -> dict:
    from ledger.reports.models import Department
    from server.db import get_session

    area = user.area
    department = get_session().get(Department, user.department_id) if user.department_id else None
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "area": {"code": area.code, "name": area.name, "level": area.level} if area else None,
        "department": {"code": department.code, "name": department.name} if department else None,
    }


def _tokens(user, pair) -> dict:
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
        "user": user_view(user),
    }


@blp.route("/login", endpoint="Login")
class LoginView(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.doc(security=[])
    def post(self, data):
        """Log in with username and password"""
        user, pair = service.login(get_session(), data["username"], data["password"])
        return _tokens(user, pair), {"Cache-Control": "no-store"}


@blp.route("/refresh", endpoint="Refresh")
class RefreshView(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokenSchema)
    @blp.doc(security=[])
    def post(self, data):
        """Exchange a refresh token for new tokens (each refresh token works once)"""
        user, pair = service.refresh(get_session(), data["refresh_token"])
        return _tokens(user, pair), {"Cache-Control": "no-store"}


@blp.route("/logout", endpoint="Logout")
class LogoutView(MethodView):
    @blp.response(204)
    def post(self):
        """Log out: revokes this session's refresh token and access tokens"""
        service.logout(get_session(), g.auth_session_id)


@blp.route("/me", endpoint="Me")
class MeView(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """The logged-in user, role and area"""
        return user_view(g.user)
