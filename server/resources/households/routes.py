"""Households: register, read with members, edit with If-Match, delete and list."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.registry import households as ops
from server.auth.permissions import require
from server.resources.common import etag_for, if_match_version
from server.resources.households.schemas import (
    HouseholdCreateSchema,
    HouseholdListQuerySchema,
    HouseholdPageSchema,
    HouseholdSchema,
    HouseholdUpdateSchema,
)
from server.wiring import ctx

blp = Blueprint("households", __name__, url_prefix="/api/v1/households", description="户籍户")


def _with_members(c, household):
    return ops.household_view(c, household, members=ops.household_members(c, household))


@blp.route("")
class HouseholdsViews(MethodView):
    @require("households.read")
    @blp.arguments(HouseholdListQuerySchema, location="query")
    @blp.response(200, HouseholdPageSchema)
    def get(self, args):
        """List households in your areas, newest first"""
        c = ctx()
        rows, next_cursor = ops.list_households(c, **args)
        return {"items": [ops.household_view(c, h) for h in rows], "next_cursor": next_cursor}

    @require("households.write")
    @blp.arguments(HouseholdCreateSchema)
    @blp.response(201, HouseholdSchema)
    def post(self, data):
        """Register a household"""
        c = ctx()
        if data.get("id") is not None:
            data["id"] = str(data["id"])
        household = ops.create_household(c, data)
        return _with_members(c, household), etag_for(household.version)


@blp.route("/<string:household_id>")
class HouseholdByIdViews(MethodView):
    @require("households.read")
    @blp.response(200, HouseholdSchema)
    def get(self, household_id):
        """Get one household with its members"""
        c = ctx()
        household = ops.get_household(c, household_id)
        return _with_members(c, household), etag_for(household.version)

    @require("households.write")
    @blp.arguments(HouseholdUpdateSchema)
    @blp.response(200, HouseholdSchema)
    def patch(self, data, household_id):
        """Edit a household; send If-Match with the version you edited"""
        c = ctx()
        household = ops.update_household(c, household_id, data, if_match_version(required=True))
        return _with_members(c, household), etag_for(household.version)

    @require("households.delete")
    @blp.response(204)
    def delete(self, household_id):
        """Delete an empty household (audited)"""
        ops.delete_household(ctx(), household_id, if_match_version(required=False))
