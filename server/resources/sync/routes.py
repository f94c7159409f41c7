"""Native sync: push mutations, pull changes, and review conflicts."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.db import utcnow
from server.auth.permissions import can, require
from server.errors import ApiError
from server.resources.sync.schemas import (
    ConflictListSchema,
    ConflictQuerySchema,
    ConflictSchema,
    PullQuerySchema,
    PullResponseSchema,
    PushResponseSchema,
    PushSchema,
    ResolveSchema,
)
from server.wiring import ctx
from sync import conflicts, pull, push

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="离线同步")


def allowed(permission: str) -> bool:
    return can(g.user.role, permission)


@blp.route("/push")
class PushViews(MethodView):
    @require("sync.push")
    @blp.arguments(PushSchema)
    @blp.response(200, PushResponseSchema)
    def post(self, data):
        """Push offline changes; each mutation is applied once, whatever the retries"""
        results = push.push(ctx(), data["device_id"], data["mutations"], allowed)
        return {"results": results, "server_time": utcnow()}


@blp.route("/pull")
class PullViews(MethodView):
    @require("sync.pull")
    @blp.arguments(PullQuerySchema, location="query")
    @blp.response(200, PullResponseSchema)
    def get(self, args):
        """Pull what changed in your areas since your cursor"""
        return pull.pull(ctx(), args["cursor"], args["limit"])


@blp.route("/conflicts")
class ConflictsViews(MethodView):
    @require("sync.conflicts")
    @blp.arguments(ConflictQuerySchema, location="query")
    @blp.response(200, ConflictListSchema)
    def get(self, args):
        """List sync conflicts in your areas for review"""
        c = ctx()
        rows = conflicts.list_conflicts(c, status=args["status"], limit=args["limit"])
        return {"items": [conflicts.conflict_view(c, row) for row in rows]}


@blp.route("/conflicts/<string:conflict_id>/resolve")
class ConflictResolveViews(MethodView):
    @require("sync.conflicts")
    @blp.arguments(ResolveSchema)
    @blp.response(200, ConflictSchema)
    def post(self, data, conflict_id):
        """Resolve a conflict: keep the server's value, take the device's, or enter your own"""
        if data["choice"] == "custom" and not data.get("fields"):
            raise ApiError(422, "sync.fields_required", "选择自定义时请填写要保存的字段")
        return conflicts.resolve(ctx(), conflict_id, data["choice"], data.get("fields"))
