"""Schemas for user accounts."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ledger.accounts.models import ROLES
from server.resources.auth.schemas import MeSchema


class UserCreateSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=validate.Length(min=3, max=64))
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=256))
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES))
    area = ma.fields.String(load_default=None, allow_none=True)
    department = ma.fields.String(load_default=None, allow_none=True)
    display_name = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=64)
    )


class UserUpdateSchema(ma.Schema):
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    area = ma.fields.String(allow_none=True)
    department = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    password = ma.fields.String(validate=validate.Length(min=1, max=256))
    display_name = ma.fields.String(allow_none=True, validate=validate.Length(max=64))


class UserSchema(MeSchema):
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()


class UserListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(UserSchema))


class UserListQuerySchema(ma.Schema):
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    area = ma.fields.String()
