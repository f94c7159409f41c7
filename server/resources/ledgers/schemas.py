"""Request and response schemas for ledger templates."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ledger.ledgers.fields import TYPES
from server.resources.common import PageQuerySchema


class OptionSchema(ma.Schema):
    value = ma.fields.String(required=True)
    label = ma.fields.String()


class FieldDefSchema(ma.Schema):
    """One field of a template; the domain checks it again (keys, options, sources)."""

    key = ma.fields.String(required=True, metadata={"example": "visit_date"})
    label = ma.fields.String(required=True, metadata={"example": "走访日期"})
    type = ma.fields.String(required=True, validate=validate.OneOf(TYPES))
    required = ma.fields.Boolean(load_default=False)
    # A plain string is an option whose value is its label.
    options = ma.fields.List(ma.fields.Raw(), metadata={"description": "字符串或 {value, label}"})
    help = ma.fields.String(load_default="")
    source = ma.fields.String(
        allow_none=True, metadata={"description": "从关联居民或户预填，例如 person.id_number"}
    )


class TemplateCreateSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "elderly_visits"})
    name = ma.fields.String(required=True, metadata={"example": "高龄老人走访台账"})
    description = ma.fields.String(allow_none=True)
    fields = ma.fields.List(ma.fields.Raw(), required=True,
                            metadata={"description": "字段定义，见 FieldDef"})  # fmt: skip


class TemplateUpdateSchema(ma.Schema):
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    fields = ma.fields.List(ma.fields.Raw())


class TemplateQuerySchema(ma.Schema):
    version = ma.fields.Integer(validate=validate.Range(min=1),
                                metadata={"description": "查看旧版本的字段"})  # fmt: skip


class TemplateListQuerySchema(ma.Schema):
    archived = ma.fields.Boolean(load_default=False)


class VersionSchema(ma.Schema):
    version = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()


class TemplateSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    kind = ma.fields.String(metadata={"description": "entries；registry 为由居民信息生成的台账"})
    version = ma.fields.Integer()
    fields_version = ma.fields.Integer()
    builtin = ma.fields.Boolean()
    archived = ma.fields.Boolean()
    fields = ma.fields.List(ma.fields.Nested(FieldDefSchema))
    versions = ma.fields.List(ma.fields.Nested(VersionSchema))
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class TemplateListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TemplateSchema))


class EntryCreateSchema(ma.Schema):
    id = ma.fields.UUID(load_default=None, metadata={"description": "设备生成的记录编号"})
    area = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))
    data = ma.fields.Dict(required=True, metadata={"description": "字段 key → 值"})


class EntryUpdateSchema(ma.Schema):
    area = ma.fields.String(validate=validate.Length(min=1, max=32))
    data = ma.fields.Dict(load_default=dict)


class EntryQuerySchema(ma.Schema):
    reveal = ma.fields.Boolean(
        load_default=False, metadata={"description": "完整身份证号和电话（记入审计）"}
    )


class EntrySchema(ma.Schema):
    id = ma.fields.String()
    ledger = ma.fields.String()
    area = ma.fields.String()
    data = ma.fields.Dict()
    template_version = ma.fields.Integer()
    version = ma.fields.Integer()
    created_by = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    masked = ma.fields.Boolean()


class EntryPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(EntrySchema))
    next_cursor = ma.fields.String(allow_none=True)


class EntryListQuerySchema(PageQuerySchema):
    """Also ``data.<key>=value`` for any plain field (a choice by value or label)."""

    area = ma.fields.String(metadata={"description": "网格或上级区域编码"})
    date_from = ma.fields.Date(metadata={"description": "模板第一个日期字段不早于"})
    date_to = ma.fields.Date(metadata={"description": "模板第一个日期字段不晚于"})
    q = ma.fields.String(validate=validate.Length(max=100), metadata={"description": "全文"})
    sort = ma.fields.String(
        validate=validate.Length(max=60),
        metadata={
            "description": "排序：entry_date、created_at、updated_at 或 data.<字段key>，"
            "前加 - 为倒序；默认按台账日期倒序",
            "example": "-updated_at",
        },
    )


class SummaryQuerySchema(ma.Schema):
    area = ma.fields.String(metadata={"description": "网格或上级区域编码"})


class AreaCountSchema(ma.Schema):
    area = ma.fields.String()
    name = ma.fields.String()
    count = ma.fields.Integer()


class MonthCountSchema(ma.Schema):
    month = ma.fields.String(metadata={"example": "2026-11"})
    count = ma.fields.Integer()


class SummarySchema(ma.Schema):
    ledger = ma.fields.String()
    total = ma.fields.Integer()
    by_area = ma.fields.List(ma.fields.Nested(AreaCountSchema))
    by_month = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.Nested(MonthCountSchema)),
        metadata={"description": "日期字段 key → 每月条数"},
    )
