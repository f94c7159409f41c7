"""One JSON error envelope, in Chinese, for every 4xx and 5xx the API can produce."""

from __future__ import annotations

import io
import logging
import re

import marshmallow as ma
import pytest
from marshmallow import validate

from server.errors import HTTP_DEFAULTS, translate

CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_envelope(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/json"
    body = r.get_json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == {"code", "message", "details"}
    assert isinstance(err["details"], dict)
    assert CJK.search(err["message"]), err["message"]
    if code is not None:
        assert err["code"] == code
    return err


def test_chinese_is_sent_as_utf8_not_escaped(client):
    r = client.post("/api/v1/auth/logout")
    assert "请先登录".encode() in r.data
    assert b"\\u" not in r.data


def test_every_default_message_is_chinese():
    for status, (code, message) in HTTP_DEFAULTS.items():
        assert 400 <= status < 600 and code
        assert CJK.search(message), status


@pytest.mark.parametrize("url", ["/", "/api/v1/nope", "/api/v1/areas/extra/bits", "/favicon.ico"])
def test_unknown_url_is_404_envelope(client, url):
    err = assert_envelope(client.get(url), 404, "not_found")
    assert err["message"] == "请求的地址或记录不存在"


def test_unknown_url_with_token_is_still_404(admin):
    assert_envelope(admin.get("/api/v1/nope"), 404, "not_found")
    # A path parameter of the wrong type does not match the route at all.
    assert_envelope(admin.get("/api/v1/users/not-a-number"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "url"),
    [("DELETE", "/api/v1/areas"), ("PUT", "/api/v1/health"), ("GET", "/api/v1/auth/login")],
)
def test_wrong_method_is_405_envelope_with_allow(client, admin, method, url):
    for headers in ({}, {"Authorization": f"Bearer {admin.token}"}):
        r = client.open(url, method=method, headers=headers)
        err = assert_envelope(r, 405, "method_not_allowed")
        assert err["message"] == "不支持该请求方式"
        assert r.headers["Allow"]
        assert method not in r.headers["Allow"]


def test_too_large_body_is_413_envelope(client, admin, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 20 * 1024 * 1024
    big = b"x" * (limit + 1)
    r = client.post("/api/v1/auth/login", data=big, content_type="application/json")
    err = assert_envelope(r, 413, "request_too_large")
    assert err["details"] == {"max_bytes": limit}
    r = admin.post("/api/v1/areas", data=big, content_type="application/json")
    assert_envelope(r, 413, "request_too_large")


def test_unsupported_upload_is_415_envelope(worker_a):
    r = worker_a.post(
        "/api/v1/files",
        data={"file": (io.BytesIO(b"just some notes\n" * 10), "notes.txt", "text/plain")},
        content_type="multipart/form-data",
    )
    err = assert_envelope(r, 415)
    assert err["code"] == "files.unsupported_type"


@pytest.mark.parametrize(
    "raw",
    [b'{"username": "a", "password": ', b"{'username': 'a'}", b"\xff\xfe\x00", b"nan-ish{"],
)
def test_malformed_json_is_400_bad_json(client, raw):
    r = client.post("/api/v1/auth/login", data=raw, content_type="application/json")
    err = assert_envelope(r, 400, "bad_json")
    assert err["message"] == "请求数据不是有效的 JSON，请检查格式"
    # The parser's own (English, possibly internal) message is translated.
    assert "JSON body" not in r.get_data(as_text=True)


def test_malformed_json_on_protected_route_is_400(admin):
    r = admin.post("/api/v1/areas", data=b"{oops", content_type="application/json")
    assert_envelope(r, 400, "bad_json")
    r = admin.patch(f"/api/v1/users/{admin.id}", data=b"[1,", content_type="application/json")
    assert_envelope(r, 400, "bad_json")


def test_wrong_json_shape_is_422(client):
    for payload in ([1, 2], "text", 3):
        r = client.post("/api/v1/auth/login", json=payload)
        err = assert_envelope(r, 422, "validation_error")
        assert err["details"]["fields"] == {"_schema": ["数据类型不正确"]}


def test_validation_errors_list_fields_in_chinese(admin):
    r = admin.post(
        "/api/v1/users",
        json={"username": "ab", "password": 12345, "role": "boss", "area": None, "extra": 1},
    )
    err = assert_envelope(r, 422, "validation_error")
    assert err["message"] == "提交的数据有误，请按提示修改"
    assert err["details"]["fields"] == {
        "username": ["长度应在 3 到 64 之间"],
        "password": ["应为文本"],
        "role": ["取值应为：grid_worker, community_staff, dispatcher, department_staff, admin"],
        "extra": ["不支持的字段"],
    }


def test_query_validation_errors_are_by_field(admin):
    r = admin.get("/api/v1/audit?limit=9999&since=yesterday")
    err = assert_envelope(r, 422, "validation_error")
    assert err["details"]["fields"] == {
        "limit": ["应在 1 到 500 之间"],
        "since": ["时间格式应为 ISO 8601，例如 2024-03-05T08:00:00+08:00"],
    }


class _EverythingSchema(ma.Schema):
    """Each field type and validator the API schemas use, to check every message translates."""

    s = ma.fields.String(required=True, validate=validate.Length(min=2, max=3))
    s_min = ma.fields.String(validate=validate.Length(min=5))
    s_max = ma.fields.String(validate=validate.Length(max=1))
    s_eq = ma.fields.String(validate=validate.Length(equal=4))
    s_null = ma.fields.String(allow_none=False)
    choice = ma.fields.String(validate=validate.OneOf(["a", "b"]))
    pattern = ma.fields.String(validate=validate.Regexp(r"^\d+$"))
    i = ma.fields.Integer()
    i_range = ma.fields.Integer(validate=validate.Range(min=1, max=9))
    i_min = ma.fields.Integer(validate=validate.Range(min=1))
    i_max = ma.fields.Integer(validate=validate.Range(max=9))
    b = ma.fields.Boolean()
    d = ma.fields.Date()
    dt = ma.fields.AwareDateTime()
    aware = ma.fields.AwareDateTime(default_timezone=None)
    u = ma.fields.UUID()
    items = ma.fields.List(ma.fields.String())
    nested = ma.fields.Nested(lambda: _InnerSchema())
    mapping = ma.fields.Dict()
    number = ma.fields.Float()


class _InnerSchema(ma.Schema):
    x = ma.fields.String()


def test_every_schema_message_translates_to_chinese():
    bad = {
        "s": "toolong",
        "s_min": "ab",
        "s_max": "ab",
        "s_eq": "ab",
        "s_null": None,
        "choice": "c",
        "pattern": "abc",
        "i": "one",
        "i_range": 99,
        "i_min": 0,
        "i_max": 10,
        "b": "maybe",
        "d": "2024-13-45",
        "dt": "noon",
        "aware": "2024-01-01T08:00:00",
        "u": "not-a-uuid",
        "items": "x",
        "nested": 5,
        "mapping": [1],
        "number": "many",
        "unknown_field": 1,
    }
    with pytest.raises(ma.ValidationError) as info:
        _EverythingSchema().load(bad)
    messages = info.value.messages
    assert set(messages) == set(bad)
    untranslated = {
        name: text
        for name, msgs in translate(messages).items()
        for text in (msgs if isinstance(msgs, list) else [msgs])
        if not CJK.search(str(text))
    }
    assert untranslated == {}
    with pytest.raises(ma.ValidationError) as info:
        _EverythingSchema().load({})
    assert translate(info.value.messages) == {"s": ["必填项"]}


def test_translate_keeps_unknown_messages_and_structure():
    assert translate("自定义错误") == "自定义错误"
    assert translate({"a": {"0": ["Not a valid integer."]}}) == {"a": {"0": ["应为整数"]}}
    assert translate(None) is None


@pytest.fixture
def exploding_app(base_config):
    """A separate app instance with a route that fails halfway through a write."""
    from server import create_app
    from server.db import get_session

    fresh = create_app(base_config)

    @fresh.route("/api/v1/_boom", methods=["POST"])
    def boom():
        from ledger.areas.operations import create_area

        create_area(get_session(), code="BOOM", name="爆炸区", level="district", parent_code=None)
        raise RuntimeError("secret internals at /srv/wangge/server/db.py line 42")

    yield fresh
    fresh.extensions["wangge_engine"].dispose()


def test_unhandled_error_is_500_envelope_without_traceback(exploding_app, admin, caplog):
    client = exploding_app.test_client()
    with caplog.at_level(logging.ERROR, logger="server.errors"):
        r = client.post("/api/v1/_boom", headers={"Authorization": f"Bearer {admin.token}"})
    err = assert_envelope(r, 500, "internal_error")
    assert err["details"] == {}
    text = r.get_data(as_text=True)
    for leak in ("Traceback", "RuntimeError", "secret internals", "/srv/wangge", 'File "', "line "):
        assert leak not in text
    # Operators still get the traceback in the log.
    assert any(rec.exc_info and rec.exc_info[0] is RuntimeError for rec in caplog.records)
    # The half-done write was rolled back.
    codes = [n["code"] for n in admin.get("/api/v1/areas").get_json()["items"]]
    assert "BOOM" not in codes and codes == ["D1"]


def test_500_route_still_requires_a_token(exploding_app):
    r = exploding_app.test_client().post("/api/v1/_boom")
    assert_envelope(r, 401, "auth.required")
