"""Reports: file, list, read, move through the loop (one call per transition), timeline."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.reports import reports as ops
from ledger.reports.stats import report_stats
from ledger.reports.transitions import transition
from server.auth.permissions import can, require
from server.errors import ApiError
from server.resources.common import etag_for, if_match_version
from server.resources.reports.schemas import (
    ReportCreateSchema,
    ReportDetailSchema,
    ReportListQuerySchema,
    ReportPageSchema,
    ReportQuerySchema,
    ReportUpdateSchema,
    StatsQuerySchema,
    StatsSchema,
    TimelineSchema,
    TransitionSchema,
)
from server.uploads import install_upload_limit
from server.wiring import ctx

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="事件上报与处置闭环")
# A dictated draft uploads its recording here.
install_upload_limit(blp)


@blp.route("")
class ReportsViews(MethodView):
    @require("reports.read")
    @blp.arguments(ReportListQuerySchema, location="query")
    @blp.response(200, ReportPageSchema)
    def get(self, args):
        """List reports in your areas (department staff: dispatched to you), newest first"""
        keys = ("state", "category", "area", "department", "source", "overdue")
        filters = ops.ReportFilter(**{k: args.get(k) for k in keys}, mine=args["mine"])
        c = ctx()
        items, next_cursor = ops.list_reports(
            c, filters, limit=args["limit"], cursor=args["cursor"]
        )
        return {"items": [ops.report_view(c, r) for r in items], "next_cursor": next_cursor}

    @require("reports.create")
    @blp.arguments(ReportCreateSchema)
    @blp.response(201, ReportDetailSchema)
    def post(self, data):
        """File a report; the answer lists possible duplicates nearby"""
        if data.get("id") is not None:
            data["id"] = str(data["id"])
        c = ctx()
        report = ops.create_report(c, data)
        return ops.detail_view(c, report), etag_for(report.version)


@blp.route("/stats")
class StatsViews(MethodView):
    @require("reports.stats")
    @blp.arguments(StatsQuerySchema, location="query")
    @blp.response(200, StatsSchema)
    def get(self, args):
        """Dashboard figures: counts, overdue, median time to close, on-time rate, hotspots"""
        return report_stats(ctx(), area=args.get("area"), day_from=args.get("day_from"),
                            day_to=args.get("day_to"))  # fmt: skip


@blp.route("/<string:report_id>")
class ReportByIdViews(MethodView):
    @require("reports.read")
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ReportDetailSchema)
    def get(self, args, report_id):
        """Get one report with its next actions; reveal=1 shows a caller's full phone (audited)"""
        c = ctx()
        report = ops.get_report(c, report_id)
        contact = None
        if args["reveal"]:
            if not can(g.user.role, "reports.contact"):
                raise ApiError(403, "auth.forbidden", "您的角色无权查看来电人完整电话",
                               {"permission": "reports.contact"})  # fmt: skip
            contact = ops.reveal_contact(c, report)
        return ops.detail_view(c, report, contact=contact), etag_for(report.version)

    @require("reports.create")
    @blp.arguments(ReportUpdateSchema)
    @blp.response(200, ReportDetailSchema)
    def patch(self, data, report_id):
        """The reporter corrects a report until it is taken up; send If-Match"""
        c = ctx()
        report = ops.update_report(c, report_id, data, if_match_version(required=True))
        return ops.detail_view(c, report), etag_for(report.version)


@blp.route("/<string:report_id>/transitions")
class TransitionsViews(MethodView):
    @require("reports.transition")
    @blp.arguments(TransitionSchema)
    @blp.response(200, ReportDetailSchema)
    def post(self, data, report_id):
        """Take one step of the loop (accept, dispatch, resolve, verify, close, evaluate …)"""
        c = ctx()
        report = transition(c, report_id, data, if_match_version(required=False))
        return ops.detail_view(c, report), etag_for(report.version)


@blp.route("/<string:report_id>/timeline")
class TimelineViews(MethodView):
    @require("reports.read")
    @blp.response(200, TimelineSchema)
    def get(self, report_id):
        """Who did what and when: every step of the report, oldest first"""
        return {"items": ops.timeline(ctx(), report_id)}
