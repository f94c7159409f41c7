"""Native sync: push mutations, pull changes, and review conflicts."""

from __future__ import annotations

from flask import g, jsonify, request
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
    WatermelonPullQuerySchema,
    WatermelonPullSchema,
    WatermelonPushQuerySchema,
    WatermelonPushResponseSchema,
    WatermelonPushSchema,
)
from server.wiring import ctx
from sync import conflicts, pull, push, watermelon

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
        # Plain JSON already (stored results are), like the pull: no schema dump of thousands.
        return jsonify({"results": results, "server_time": utcnow()})


@blp.route("/pull")
class PullViews(MethodView):
    @require("sync.pull")
    @blp.arguments(PullQuerySchema, location="query")
    @blp.response(200, PullResponseSchema)
    def get(self, args):
        """Pull what changed in your areas since your cursor"""
        # Sent as built: the page is plain JSON already, and dumping 500 changes through the
        # schema (which stays for the API docs) costs a fair part of a page.
        return jsonify(pull.pull(ctx(), args["cursor"], args["limit"]))


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


@blp.route("/watermelon")
class WatermelonViews(MethodView):
    @require("sync.pull")
    @blp.arguments(WatermelonPullQuerySchema, location="query")
    @blp.response(200, WatermelonPullSchema)
    def get(self, args):
        """WatermelonDB pull: records changed in your areas since last_pulled_at"""
        # Plain JSON already, like the native pull: the schema documents it.
        return jsonify(watermelon.pull(ctx(), args["last_pulled_at"], args["migration"]))

    @require("sync.push")
    @blp.arguments(WatermelonPushQuerySchema, location="query")
    @blp.arguments(WatermelonPushSchema)
    @blp.response(200, WatermelonPushResponseSchema)
    def post(self, query, data):
        """WatermelonDB push: all local changes at once, refused with 409 if any is stale"""
        last = data["last_pulled_at"]
        if last is None:
            last = query["last_pulled_at"]
        elif query["last_pulled_at"] is not None and query["last_pulled_at"] != last:
            raise ApiError(422, "sync.invalid", "last_pulled_at 前后不一致，请更新应用后重试")
        # Devices that name themselves get their pushes grouped in the import log.
        device = (request.headers.get("X-Device-Id") or "watermelon")[:64]
        return watermelon.push(ctx(), device, data["changes"], last, allowed)
