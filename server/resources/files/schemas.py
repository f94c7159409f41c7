"""Schemas for uploads."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload


class UploadFormSchema(ma.Schema):
    file = Upload(required=True)


class FileSchema(ma.Schema):
    sha256 = ma.fields.String()
    size = ma.fields.Integer()
    content_type = ma.fields.String()
