"""Read the audit log: every reveal, export, login, role change and delete."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from ledger.audit import operations as ops
from server.auth.permissions import require
from server.db import get_session

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="审计日志")


class AuditQuerySchema(ma.Schema):
    action = ma.fields.String()
    actor = ma.fields.String()
    object_type = ma.fields.String()
    object_id = ma.fields.String()
    since = ma.fields.AwareDateTime(default_timezone=None)
    until = ma.fields.AwareDateTime(default_timezone=None)
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    # The cursor is the last id seen; ASCII digits only and within BIGINT range.
    cursor = ma.fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{1,18}\Z", error="分页游标无效，请从第一页重新加载"),
    )


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    actor = ma.fields.String(allow_none=True)
    actor_id = ma.fields.Integer(allow_none=True)
    role = ma.fields.String(allow_none=True)
    action = ma.fields.String()
    object_type = ma.fields.String(allow_none=True)
    object_id = ma.fields.String(allow_none=True)
    ip = ma.fields.String(allow_none=True)
    details = ma.fields.Dict()


class AuditPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AuditEntrySchema))
    next_cursor = ma.fields.String(allow_none=True)


@blp.route("")
class AuditViews(MethodView):
    @require("audit.read")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args):
        """List audit entries, newest first"""
        limit, cursor = args.pop("limit"), args.pop("cursor")
        before_id = int(cursor) if cursor else None
        rows = ops.list_entries(get_session(), before_id=before_id, limit=limit + 1, **args)
        next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
        return {"items": rows[:limit], "next_cursor": next_cursor}
