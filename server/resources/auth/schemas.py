"""Schemas for login and tokens."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=256))


class RefreshSchema(ma.Schema):
    refresh_token = ma.fields.String(required=True, validate=validate.Length(min=1, max=256))


class AreaRefSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    level = ma.fields.String()


class MeSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String(allow_none=True)
    role = ma.fields.String()
    area = ma.fields.Nested(AreaRefSchema, allow_none=True)
    department = ma.fields.Dict(
        allow_none=True, metadata={"description": "职能部门人员所属部门 {code, name}"}
    )


class TokenSchema(ma.Schema):
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer()
    user = ma.fields.Nested(MeSchema)
