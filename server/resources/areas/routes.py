"""The area tree the caller may see, area boundaries for maps, and area management for admins."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.areas import operations as ops
from server.auth.permissions import require
from server.resources.areas.schemas import (
    AreaCreateSchema,
    AreaDetailSchema,
    AreaNodeSchema,
    AreaTreeSchema,
    AreaUpdateSchema,
    BoundaryCollectionSchema,
)
from server.wiring import ctx

blp = Blueprint("areas", __name__, url_prefix="/api/v1/areas", description="区域（网格）")


@blp.route("")
class AreasViews(MethodView):
    @require("areas.read")
    @blp.response(200, AreaTreeSchema)
    def get(self):
        """The area tree you may see"""
        c = ctx()
        return {"items": ops.area_tree(c.session, c.scope)}

    @require("areas.manage")
    @blp.arguments(AreaCreateSchema)
    @blp.response(201, AreaNodeSchema)
    def post(self, data):
        """Create an area under its parent (admins)"""
        c = ctx()
        area = ops.create_area(c.session, **data)
        return {
            "code": area.code,
            "name": area.name,
            "level": area.level,
            "parent_code": data["parent_code"] or None,
            "children": [],
        }


@blp.route("/boundaries")
class BoundariesViews(MethodView):
    @require("areas.read")
    @blp.response(200, BoundaryCollectionSchema)
    def get(self):
        """Boundaries of the areas you may see, as one GeoJSON FeatureCollection"""
        c = ctx()
        return ops.boundary_collection(c.session, c.scope)


@blp.route("/<string:code>")
class AreaByCodeViews(MethodView):
    @require("areas.read")
    @blp.response(200, AreaDetailSchema)
    def get(self, code):
        """One area you may see, with its boundary"""
        c = ctx()
        return ops.area_view(c.session, ops.get_area_by_code(c.session, code, c.scope))

    @require("areas.manage")
    @blp.arguments(AreaUpdateSchema)
    @blp.response(200, AreaDetailSchema)
    def patch(self, data, code):
        """Rename an area or set its GeoJSON boundary (admins; audited)"""
        c = ctx()
        area = ops.update_area(c.session, c.actor, code, **data)
        return ops.area_view(c.session, area)
