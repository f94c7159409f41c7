"""Request and response schemas for residents."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ledger.registry.models.person import RESIDENCE_TYPES, SEXES
from server.resources.common import PageQuerySchema


def _text(max_len: int, **kw):
    return ma.fields.String(validate=validate.Length(max=max_len), allow_none=True, **kw)


class PersonFieldsSchema(ma.Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=64))
    sex = ma.fields.String(validate=validate.OneOf(SEXES), allow_none=True)
    ethnicity = _text(16)
    birth_date = ma.fields.Date(allow_none=True)
    id_number = _text(32)
    phone = _text(32)
    registered_address = _text(255)
    current_address = _text(255)
    residence_type = ma.fields.String(validate=validate.OneOf(RESIDENCE_TYPES))
    tags = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=32)),
        validate=validate.Length(max=30),
    )
    area = ma.fields.String(validate=validate.Length(min=1, max=32))
    household_id = _text(36)
    relationship_to_head = _text(32)
    notes = _text(2000)
    scan_id = ma.fields.UUID(
        load_default=None,
        metadata={"description": "OCR 扫描记录编号：保存后证件照片归入该居民"},
    )


class PersonCreateSchema(PersonFieldsSchema):
    id = ma.fields.UUID(load_default=None)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    area = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))


class PersonUpdateSchema(PersonFieldsSchema):
    pass


class PersonSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    sex = ma.fields.String(allow_none=True)
    ethnicity = ma.fields.String(allow_none=True)
    birth_date = ma.fields.Date(allow_none=True)
    id_number = ma.fields.String(allow_none=True, metadata={"description": "默认脱敏"})
    phone = ma.fields.String(allow_none=True, metadata={"description": "默认脱敏"})
    registered_address = ma.fields.String(allow_none=True)
    current_address = ma.fields.String(allow_none=True)
    residence_type = ma.fields.String()
    tags = ma.fields.List(ma.fields.String())
    area = ma.fields.String()
    household_id = ma.fields.String(allow_none=True)
    relationship_to_head = ma.fields.String(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    created_by = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    masked = ma.fields.Boolean()


class PersonPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PersonSchema))
    next_cursor = ma.fields.String(allow_none=True)


class PersonListQuerySchema(PageQuerySchema):
    area = ma.fields.String()
    tag = ma.fields.String()
    name = ma.fields.String(metadata={"description": "姓名前缀"})
    id_number = ma.fields.String(metadata={"description": "身份证号精确匹配"})
    phone = ma.fields.String(metadata={"description": "电话精确匹配"})
    household_id = ma.fields.String()


class PersonGetQuerySchema(ma.Schema):
    reveal = ma.fields.Boolean(load_default=False)
