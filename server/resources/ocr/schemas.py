"""Schemas for OCR requests and results."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import validate


class ImageFormSchema(ma.Schema):
    image = Upload(required=True)


class SideFormSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    side = ma.fields.String(
        validate=validate.OneOf(("front", "back")),
        load_default=None,
        metadata={"description": "front = 人像面，back = 国徽面；不填则自动判断"},
    )


class WarningSchema(ma.Schema):
    code = ma.fields.String()
    message = ma.fields.String()


class TextLineSchema(ma.Schema):
    text = ma.fields.String()
    box = ma.fields.List(ma.fields.List(ma.fields.Float()))
    confidence = ma.fields.Float()


class TextResultSchema(ma.Schema):
    lines = ma.fields.List(ma.fields.Nested(TextLineSchema))
    engine = ma.fields.String()
    timing_ms = ma.fields.Dict()


class DocumentResultSchema(ma.Schema):
    scan_id = ma.fields.String()
    document_type = ma.fields.String(allow_none=True)
    fields = ma.fields.Dict()
    field_confidence = ma.fields.Dict()
    checks = ma.fields.Dict()
    warnings = ma.fields.List(ma.fields.Nested(WarningSchema))
    person_draft = ma.fields.Dict()
    existing_person_id = ma.fields.String(allow_none=True)
    document_file = ma.fields.String(allow_none=True)
    original_file = ma.fields.String()
    portrait_file = ma.fields.String(allow_none=True)
    engine = ma.fields.String()
    timing_ms = ma.fields.Dict()
