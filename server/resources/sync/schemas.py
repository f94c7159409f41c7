"""Request and response shapes of the sync endpoints."""

from __future__ import annotations

import json

from marshmallow import Schema, ValidationError, validate
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


class Timestamp(ma.Integer):
    """WatermelonDB's ``last_pulled_at``: milliseconds, or null before the first sync."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value in (None, "", "null", "undefined"):
            return None
        out = super()._deserialize(value, attr, data, **kwargs)
        if out < 0:
            raise ValidationError("应为非负整数或 null")
        return out


class JsonText(ma.Field):
    """A JSON value passed as text in the query string (WatermelonDB's ``migration``)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value in (None, "", "null", "undefined"):
            return None
        try:
            return json.loads(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError("应为 JSON") from exc


class WatermelonPullQuerySchema(Schema):
    last_pulled_at = Timestamp(load_default=None, allow_none=True)
    schema_version = ma.Integer(load_default=None, allow_none=True)
    migration = JsonText(load_default=None, allow_none=True)


class WatermelonPushQuerySchema(Schema):
    last_pulled_at = Timestamp(load_default=None, allow_none=True)


class WatermelonPushSchema(Schema):
    # The change set is checked record by record in the sync engine; a malformed one as a whole
    # is refused there with sync.invalid.
    changes = ma.Dict(required=True)
    last_pulled_at = Timestamp(load_default=None, allow_none=True)


class WatermelonTableSchema(Schema):
    created = ma.List(ma.Dict())
    updated = ma.List(ma.Dict())
    deleted = ma.List(ma.String())


class WatermelonPullSchema(Schema):
    changes = ma.Dict(keys=ma.String(), values=ma.Nested(WatermelonTableSchema))
    timestamp = ma.Integer()
    experimentalStrategy = ma.String()  # WatermelonDB's own key


class WatermelonPushResponseSchema(Schema):
    experimentalRejectedIds = ma.Dict(  # WatermelonDB's own key
        keys=ma.String(), values=ma.List(ma.String())
    )
    rejected = ma.Dict()
    conflicts = ma.Dict()
    missing_files = ma.Dict()
