"""Ledger entries: create, list with filters, read (masked or revealed), edit and delete."""

from __future__ import annotations

from flask import g, request
from flask.views import MethodView

from ledger.ledgers import entries as ops
from server.auth.permissions import can, require
from server.errors import ApiError
from server.resources.common import etag_for, if_match_version
from server.resources.ledgers.routes import blp
from server.resources.ledgers.schemas import (
    EntryCreateSchema,
    EntryListQuerySchema,
    EntryPageSchema,
    EntryQuerySchema,
    EntrySchema,
    EntryUpdateSchema,
    SummaryQuerySchema,
    SummarySchema,
)
from server.wiring import ctx

_LIST_ARGS = ("limit", "cursor", "area", "date_from", "date_to", "q", "sort")


@blp.route("/<string:code>/entries")
class EntriesViews(MethodView):
    @require("ledgers.read")
    @blp.arguments(EntryListQuerySchema, location="query")
    @blp.response(200, EntryPageSchema)
    def get(self, args, code):
        """List a ledger's entries in your areas, newest first (or ?sort=), with filters"""
        # 实有人口台账 lists the register's residents (filters: area, q as a name prefix).
        # Field filters have open-ended names, so they are read beside the schema's arguments.
        values = {k[5:]: v for k, v in request.args.items() if k.startswith("data.") and k[5:]}
        unknown = [k for k in request.args if k not in _LIST_ARGS and not k.startswith("data.")]
        if unknown:
            hint = ["未知参数；按字段筛选请用 data.<字段key>"]
            raise ApiError(422, "validation_error", "不支持的查询参数",
                           {"fields": {k: hint for k in unknown}})  # fmt: skip
        filters = ops.EntryFilter(
            area=args.get("area"),
            date_from=args.get("date_from"),
            date_to=args.get("date_to"),
            q=args.get("q"),
            values=values,
        )
        items, next_cursor = ops.list_views(
            ctx(),
            code,
            filters,
            limit=args["limit"],
            cursor=args["cursor"],
            sort=ops.EntrySort.parse(args.get("sort")),
        )
        return {"items": items, "next_cursor": next_cursor}

    @require("ledgers.write")
    @blp.arguments(EntryCreateSchema)
    @blp.response(201, EntrySchema)
    def post(self, data, code):
        """Add an entry; fields with a source fill from the linked resident or household"""
        if data.get("id") is not None:
            data["id"] = str(data["id"])
        c = ctx()
        template, entry = ops.create_entry(c, code, data)
        return ops.entry_view(c, template, entry), etag_for(entry.version)


@blp.route("/<string:code>/entries/<string:entry_id>")
class EntryByIdViews(MethodView):
    @require("ledgers.read")
    @blp.arguments(EntryQuerySchema, location="query")
    @blp.response(200, EntrySchema)
    def get(self, args, code, entry_id):
        """Get one entry; reveal=1 shows ID numbers and phones in full (audited)"""
        c = ctx()
        if args["reveal"]:
            if not can(g.user.role, "people.reveal"):
                raise ApiError(403, "auth.forbidden", "您的角色无权查看完整证件号码",
                               {"permission": "people.reveal"})  # fmt: skip
            view = ops.reveal_entry(c, code, entry_id)
            return view, etag_for(view["version"])
        template, entry = ops.get_entry(c, code, entry_id)
        return ops.entry_view(c, template, entry), etag_for(entry.version)

    @require("ledgers.write")
    @blp.arguments(EntryUpdateSchema)
    @blp.response(200, EntrySchema)
    def patch(self, data, code, entry_id):
        """Edit an entry's values or grid; send If-Match with the version you edited"""
        c = ctx()
        template, entry = ops.update_entry(c, code, entry_id, data,
                                           if_match_version(required=True))  # fmt: skip
        return ops.entry_view(c, template, entry), etag_for(entry.version)

    @require("ledgers.delete")
    @blp.response(204)
    def delete(self, code, entry_id):
        """Delete an entry (audited)"""
        ops.delete_entry(ctx(), code, entry_id, if_match_version(required=False))


@blp.route("/<string:code>/summary")
class SummaryViews(MethodView):
    @require("ledgers.read")
    @blp.arguments(SummaryQuerySchema, location="query")
    @blp.response(200, SummarySchema)
    def get(self, args, code):
        """Count a ledger's entries in your areas: in all, by grid and by month"""
        return ops.summary(ctx(), code, args.get("area"))
