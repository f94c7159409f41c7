"""Liveness and dependency health for load balancers and operators."""

from __future__ import annotations

import logging

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text

from server.db import get_session
from server.errors import ApiError
from server.wiring import blobs

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="健康检查")
log = logging.getLogger(__name__)


class HealthSchema(ma.Schema):
    status = ma.fields.String()
    database = ma.fields.String()
    storage = ma.fields.String()


@blp.route("", endpoint="Health")
class HealthViews(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(security=[])
    def get(self):
        """Report whether the database and file storage answer"""
        result = {"status": "ok", "database": "ok", "storage": "ok"}
        try:
            get_session().execute(text("SELECT 1"))
        except Exception:
            log.exception("health: database check failed")
            result["database"] = "error"
        try:
            blobs().check()
        except Exception:
            log.exception("health: storage check failed")
            result["storage"] = "error"
        if "error" in result.values():
            result["status"] = "error"
            raise ApiError(503, "health.degraded", "服务部分不可用，请联系管理员", result)
        return result
