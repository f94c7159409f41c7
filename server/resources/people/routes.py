"""Residents: register, read (masked or revealed), edit with If-Match, delete and list."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.registry import people as ops
from server.auth.permissions import check, require
from server.resources.common import etag_for, if_match_version
from server.resources.people.schemas import (
    PersonCreateSchema,
    PersonGetQuerySchema,
    PersonListQuerySchema,
    PersonPageSchema,
    PersonSchema,
    PersonUpdateSchema,
)
from server.wiring import ctx

blp = Blueprint("people", __name__, url_prefix="/api/v1/people", description="实有人口")


@blp.route("")
class PeopleViews(MethodView):
    @require("people.read")
    @blp.arguments(PersonListQuerySchema, location="query")
    @blp.response(200, PersonPageSchema)
    def get(self, args):
        """List residents in your areas, newest first"""
        c = ctx()
        limit, cursor = args.pop("limit"), args.pop("cursor")
        rows, next_cursor = ops.list_people(c, ops.PeopleFilter(**args), limit=limit, cursor=cursor)
        # person_view already yields the documented shape; a second schema pass costs ~2 ms.
        return jsonify({"items": [ops.person_view(c, p) for p in rows], "next_cursor": next_cursor})

    @require("people.write")
    @blp.arguments(PersonCreateSchema)
    @blp.response(201, PersonSchema)
    def post(self, data):
        """Register a resident"""
        c = ctx()
        if data.get("id") is not None:
            data["id"] = str(data["id"])
        person = ops.create_person(c, data)
        return ops.person_view(c, person), etag_for(person.version)


@blp.route("/<string:person_id>")
class PersonByIdViews(MethodView):
    @require("people.read")
    @blp.arguments(PersonGetQuerySchema, location="query")
    @blp.response(200, PersonSchema)
    def get(self, args, person_id):
        """Get one resident; ?reveal=1 shows the full ID number and phone (audited)"""
        c = ctx()
        if args["reveal"]:
            check("people.reveal")
            view = ops.reveal_person(c, person_id)
        else:
            view = ops.person_view(c, ops.get_person(c, person_id))
        return view, {**etag_for(view["version"]), "Cache-Control": "no-store"}

    @require("people.write")
    @blp.arguments(PersonUpdateSchema)
    @blp.response(200, PersonSchema)
    def patch(self, data, person_id):
        """Edit a resident; send If-Match with the version you edited"""
        c = ctx()
        person = ops.update_person(c, person_id, data, if_match_version(required=True))
        return ops.person_view(c, person), etag_for(person.version)

    @require("people.delete")
    @blp.response(204)
    def delete(self, person_id):
        """Delete a resident (audited)"""
        ops.delete_person(ctx(), person_id, if_match_version(required=False))
