"""Schemas for the area tree."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ledger.areas.models import LEVELS


class AreaCreateSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    level = ma.fields.String(required=True, validate=validate.OneOf(LEVELS))
    parent_code = ma.fields.String(load_default=None, allow_none=True)


class AreaNodeSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    level = ma.fields.String()
    parent_code = ma.fields.String(allow_none=True)
    children = ma.fields.List(ma.fields.Nested(lambda: AreaNodeSchema()))


class AreaTreeSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AreaNodeSchema))


class AreaUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=100))
    # GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection in WGS84; null clears it.
    boundary = ma.fields.Dict(allow_none=True)


class AreaDetailSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    level = ma.fields.String()
    parent_code = ma.fields.String(allow_none=True)
    boundary = ma.fields.Dict(allow_none=True)


class BoundaryCollectionSchema(ma.Schema):
    type = ma.fields.String()
    features = ma.fields.List(ma.fields.Dict())
