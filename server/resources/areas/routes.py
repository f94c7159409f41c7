"""The area tree the caller may see, and area creation for admins."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.areas import operations as ops
from server.auth.permissions import require
from server.resources.areas.schemas import AreaCreateSchema, AreaNodeSchema, AreaTreeSchema
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
