"""Request and response shapes of the sync endpoints."""

from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as ma

from sync.conflicts import CHOICES
from sync.pull import DEFAULT_LIMIT, MAX_LIMIT


class PushSchema(Schema):
    device_id = ma.String(required=True, validate=validate.Length(min=1, max=64))
    # Each mutation is checked on its own, so one malformed mutation is rejected alone.
    mutations = ma.List(ma.Raw(), required=True)


class PushResultSchema(Schema):
    mutation_id = ma.String(allow_none=True)
    status = ma.String()
    id = ma.String(allow_none=True)
    version = ma.Integer(allow_none=True)
    canonical_id = ma.String(allow_none=True)
    conflict_id = ma.String(allow_none=True)
    errors = ma.Dict(allow_none=True)
    missing_files = ma.List(ma.String())


class PushResponseSchema(Schema):
    results = ma.List(ma.Nested(PushResultSchema))
    server_time = ma.DateTime()


class PullQuerySchema(Schema):
    cursor = ma.String(load_default=None, validate=validate.Length(max=64))
    limit = ma.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT))


class ChangeSchema(Schema):
    entity = ma.String()
    id = ma.String()
    op = ma.String()
    version = ma.Integer(allow_none=True)
    fields = ma.Dict(allow_none=True, data_key="fields", attribute="fields")
    conflict = ma.Boolean()
    missing_files = ma.List(ma.String())


class RemapSchema(Schema):
    entity = ma.String()
    from_id = ma.String()
    to_id = ma.String()


class PullResponseSchema(Schema):
    changes = ma.List(ma.Nested(ChangeSchema))
    remaps = ma.List(ma.Nested(RemapSchema))
    cursor = ma.String()
    has_more = ma.Boolean()
    reset = ma.Boolean()


class ConflictQuerySchema(Schema):
    status = ma.String(load_default="open", validate=validate.OneOf(("open", "resolved", "all")))
    limit = ma.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class ConflictSchema(Schema):
    id = ma.String()
    entity = ma.String()
    record_id = ma.String()
    kind = ma.String()
    status = ma.String()
    device_id = ma.String(allow_none=True)
    base_version = ma.Integer(allow_none=True)
    server_version = ma.Integer(allow_none=True)
    client = ma.Dict()
    server = ma.Dict()
    resolution = ma.String(allow_none=True)
    created_at = ma.DateTime()
    resolved_at = ma.DateTime(allow_none=True)
    record_version = ma.Integer(allow_none=True)


class ConflictListSchema(Schema):
    items = ma.List(ma.Nested(ConflictSchema))


class ResolveSchema(Schema):
    choice = ma.String(required=True, validate=validate.OneOf(CHOICES))
    fields = ma.Dict(load_default=None)
