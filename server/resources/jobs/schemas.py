"""Request and response schemas for export and import jobs."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import validate

from ledger.ledgers.exports.operations import FORMATS
from ledger.ledgers.imports.operations import MODES as IMPORT_MODES


class ExportRequestSchema(ma.Schema):
    format = ma.fields.String(required=True, validate=validate.OneOf(FORMATS))
    filters = ma.fields.Dict(
        keys=ma.fields.String(),
        load_default=dict,
        metadata={
            "description": "area、date_from、date_to、q，以及任意字段 key 的取值",
            "example": {
                "area": "330106001001001",
                "date_from": "2026-01-01",
                "purpose": "困难帮扶",
            },
        },
    )
    fields = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "导出哪些字段（含模板旧版本的字段），默认当前版本全部字段"},
    )
    labels = ma.fields.Boolean(
        load_default=True,
        metadata={
            "description": "true：中文表头、选项显示名称；false：字段 key 与选项编码（供系统对接）"
        },
    )
    reveal = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "导出完整身份证号和电话（需有查看权限，并记入审计日志）"},
    )


class JobErrorSchema(ma.Schema):
    code = ma.fields.String()
    message = ma.fields.String()
    details = ma.fields.Dict()


class JobStartedSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String()


class JobSchema(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    status = ma.fields.String(metadata={"description": "queued | running | done | failed"})
    progress = ma.fields.Float(metadata={"description": "0..1"})
    rows = ma.fields.Integer()
    error = ma.fields.Nested(JobErrorSchema, allow_none=True)
    created_at = ma.fields.DateTime()
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)


class ExportJobSchema(JobSchema):
    ledger = ma.fields.String()
    format = ma.fields.String()
    filename = ma.fields.String(allow_none=True)
    download_url = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "完成后的下载地址：对象存储时为限时签名链接，"
            "本地存储时为需登录的下载接口"
        },
    )


class ImportFormSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "Excel（.xlsx）或 CSV 文件"})


class ImportQuerySchema(ma.Schema):
    mode = ma.fields.String(
        load_default="all_or_nothing",
        validate=validate.OneOf(IMPORT_MODES),
        metadata={"description": "all_or_nothing：有错则全部不导入；valid_rows：只导入无误的行"},
    )
    area = ma.fields.String(
        load_default=None, metadata={"description": "表中没有“所属网格”列时，导入到此网格"}
    )
    dry_run = ma.fields.Boolean(load_default=False, metadata={"description": "只检查，不导入"})
    force = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "同一文件已导入过时仍然导入（默认拒绝重复导入）"},
    )


class ImportJobSchema(JobSchema):
    ledger = ma.fields.String()
    report = ma.fields.Dict(
        allow_none=True,
        metadata={
            "description": "逐行报告：total_rows、imported、rejected、errors（行号与字段）、"
            "corrections（自动更正）、columns（表头映射）"
        },
    )
