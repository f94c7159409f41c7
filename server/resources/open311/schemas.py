"""Open311 GeoReport v2 parameters, with the spec's field names."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.resources.common import CommaList


class RequestsQuerySchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # jurisdiction_id and vendor extensions are ignored

    api_key = ma.fields.String()
    service_request_id = CommaList()
    service_code = CommaList()
    start_date = ma.fields.AwareDateTime()
    end_date = ma.fields.AwareDateTime()
    status = CommaList(validate=validate.ContainsOnly(["open", "closed"]))


class RequestCreateSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    api_key = ma.fields.String()
    service_code = ma.fields.String(required=True)
    lat = ma.fields.Float(validate=validate.Range(min=-90, max=90))
    long = ma.fields.Float(validate=validate.Range(min=-180, max=180))
    address_string = ma.fields.String(validate=validate.Length(max=200))
    address_id = ma.fields.String()
    email = ma.fields.String()
    device_id = ma.fields.String(validate=validate.Length(max=64))
    account_id = ma.fields.String(validate=validate.Length(max=64))
    first_name = ma.fields.String(validate=validate.Length(max=32))
    last_name = ma.fields.String(validate=validate.Length(max=32))
    phone = ma.fields.String(validate=validate.Length(max=32))
    description = ma.fields.String(validate=validate.Length(max=4000))
    media_url = ma.fields.String(validate=validate.Length(max=500))
    # Our extension: the grid (网格) code, when the hotline knows it.
    area = ma.fields.String()
