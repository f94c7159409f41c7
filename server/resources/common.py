"""Shared pieces of the API: pagination, If-Match versions and common schemas."""

from __future__ import annotations

import marshmallow as ma
from flask import request

from server.errors import ApiError


class CommaList(ma.fields.Field):
    """A query parameter holding several values: ``state=reported,accepted``."""

    def _deserialize(self, value, attr, data, **kwargs):
        return [v.strip() for v in str(value).split(",") if v.strip()]


class PageQuerySchema(ma.Schema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))
    cursor = ma.fields.String(load_default=None)


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    details = ma.fields.Dict()


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


def etag_for(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def if_match_version(*, required: bool) -> int | None:
    """The version the client edited, from ``If-Match: 3`` or ``If-Match: "3"``."""
    raw = request.headers.get("If-Match")
    if raw is None or not raw.strip():
        if required:
            raise ApiError(
                428,
                "precondition_required",
                "请带上记录版本号（If-Match 请求头）后再提交修改，以免覆盖他人的修改",
            )
        return None
    value = raw.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit():
        raise ApiError(
            400, "bad_if_match", "If-Match 请求头应为记录的版本号，例如 3", {"if_match": raw}
        )
    return int(value)
