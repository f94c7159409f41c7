"""Ledger templates: list, define, read (any version), change (a new version) and archive."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.ledgers import templates as ops
from ledger.ledgers.errors import TemplateNotFound
from server.auth.permissions import require
from server.resources.common import etag_for, if_match_version
from server.resources.ledgers.schemas import (
    TemplateCreateSchema,
    TemplateListQuerySchema,
    TemplateListSchema,
    TemplateQuerySchema,
    TemplateSchema,
    TemplateUpdateSchema,
)
from server.wiring import ctx

blp = Blueprint("ledgers", __name__, url_prefix="/api/v1/ledgers", description="社区电子台账")


def template_view(template, version: int | None = None) -> dict:
    fields_version = version or template.version
    if not any(v.version == fields_version for v in template.versions):
        raise TemplateNotFound("该台账没有这个版本", details={"version": fields_version})
    return {
        "code": template.code,
        "name": template.name,
        "description": template.description,
        "kind": template.kind,
        "version": template.version,
        "fields_version": fields_version,
        "builtin": template.builtin,
        "archived": template.archived,
        "fields": template.fields_of(fields_version),
        "versions": [{"version": v.version, "created_at": v.created_at} for v in template.versions],
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


@blp.route("")
class TemplatesViews(MethodView):
    @require("ledgers.read")
    @blp.arguments(TemplateListQuerySchema, location="query")
    @blp.response(200, TemplateListSchema)
    def get(self, args):
        """List ledger templates"""
        return {"items": [template_view(t) for t in ops.list_templates(ctx(), **args)]}

    @require("ledgers.manage")
    @blp.arguments(TemplateCreateSchema)
    @blp.response(201, TemplateSchema)
    def post(self, data):
        """Define a new ledger (admins)"""
        template = ops.create_template(ctx(), data)
        return template_view(template), etag_for(template.version)


@blp.route("/<string:code>")
class TemplateByCodeViews(MethodView):
    @require("ledgers.read")
    @blp.arguments(TemplateQuerySchema, location="query")
    @blp.response(200, TemplateSchema)
    def get(self, args, code):
        """Get a ledger template with its fields (the current version, or ?version=N)"""
        template = ops.get_template(ctx(), code, archived=True)
        return template_view(template, args.get("version")), etag_for(template.version)

    @require("ledgers.manage")
    @blp.arguments(TemplateUpdateSchema)
    @blp.response(200, TemplateSchema)
    def patch(self, data, code):
        """Change a ledger; changed fields make a new version (send If-Match)"""
        template = ops.update_template(ctx(), code, data, if_match_version(required=True))
        return template_view(template), etag_for(template.version)

    @require("ledgers.manage")
    @blp.response(204)
    def delete(self, code):
        """Archive a ledger: hidden from lists, its entries kept (audited)"""
        ops.archive_template(ctx(), code, if_match_version(required=False))
