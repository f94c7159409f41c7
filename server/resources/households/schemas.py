"""Request and response schemas for households."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ledger.registry.models.household import HOUSEHOLD_TYPES
from server.resources.common import PageQuerySchema


class HouseholdFieldsSchema(ma.Schema):
    household_number = ma.fields.String(validate=validate.Length(max=32), allow_none=True)
    household_type = ma.fields.String(validate=validate.OneOf(HOUSEHOLD_TYPES))
    head_person_id = ma.fields.String(validate=validate.Length(max=36), allow_none=True)
    address = ma.fields.String(validate=validate.Length(max=255), allow_none=True)
    area = ma.fields.String(validate=validate.Length(min=1, max=32))


class HouseholdCreateSchema(HouseholdFieldsSchema):
    id = ma.fields.UUID(load_default=None)
    area = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))


class HouseholdUpdateSchema(HouseholdFieldsSchema):
    pass


class MemberSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    sex = ma.fields.String(allow_none=True)
    birth_date = ma.fields.Date(allow_none=True)
    relationship_to_head = ma.fields.String(allow_none=True)


class HouseholdSchema(ma.Schema):
    id = ma.fields.String()
    household_number = ma.fields.String(allow_none=True)
    household_type = ma.fields.String()
    head_person_id = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    area = ma.fields.String()
    version = ma.fields.Integer()
    created_by = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    members = ma.fields.List(ma.fields.Nested(MemberSchema))


class HouseholdPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(HouseholdSchema))
    next_cursor = ma.fields.String(allow_none=True)


class HouseholdListQuerySchema(PageQuerySchema):
    area = ma.fields.String()
    household_number = ma.fields.String()
    address = ma.fields.String(metadata={"description": "地址包含"})
