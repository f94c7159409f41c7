"""Every API route except login, refresh, health and the docs demands a valid bearer token."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from server.auth.hooks import PUBLIC_ENDPOINTS

PUBLIC_PATHS = {
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/health",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/docs/assets/<path:filename>",
}
DUMMY = {"int": "1", "float": "1.5", "uuid": "00000000-0000-0000-0000-000000000000"}
PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>")


def _url(rule) -> str:
    """The rule with each path parameter replaced by a value its converter accepts."""
    return PARAM.sub(lambda m: DUMMY.get(m.group(1) or "", "x"), rule.rule)


def _websocket_urls(app) -> set[str]:
    return {_url(rule) for rule in app.url_map.iter_rules() if rule.websocket}


# A WebSocket handshake is a GET with these headers; anything else is refused with 426.
UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}


def _protected(app) -> list[tuple[str, str]]:
    cases = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in PUBLIC_PATHS:
            continue
        for method in sorted(rule.methods - {"OPTIONS"}):
            cases.append((method, _url(rule)))
    return cases


def _expired_token(secret: str) -> str:
    past = datetime.now(UTC) - timedelta(hours=1)
    claims = {
        "sub": "1",
        "sid": "00000000-0000-0000-0000-000000000000",
        "role": "admin",
        "typ": "access",
        "iat": past - timedelta(minutes=30),
        "exp": past,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def test_public_routes_are_exactly_the_expected_ones(app):
    public = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint in PUBLIC_ENDPOINTS
    }
    assert public == PUBLIC_PATHS


def test_there_are_protected_routes_for_every_method(app):
    cases = _protected(app)
    methods = {m for m, _ in cases}
    assert {"GET", "POST", "PATCH", "DELETE"} <= methods
    urls = {u for _, u in cases}
    assert {"/api/v1/areas", "/api/v1/users", "/api/v1/users/1", "/api/v1/audit"} <= urls
    assert "/api/v1/auth/logout" in urls and "/api/v1/auth/me" in urls


@pytest.mark.parametrize("kind", ["none", "garbage", "expired", "wrong_scheme"])
def test_every_protected_route_answers_401_envelope(app, client, base_config, kind):
    headers = {
        "none": {},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        "expired": {"Authorization": f"Bearer {_expired_token(base_config['SECRET_KEY'])}"},
        "wrong_scheme": {"Authorization": "Token abc"},
    }[kind]
    expected_code = {
        "none": "auth.required",
        "garbage": "auth.invalid_token",
        "expired": "auth.token_expired",
        "wrong_scheme": "auth.required",
    }[kind]
    failures = []
    websockets = _websocket_urls(app)
    assert websockets == {"/api/v1/speech/stream"}
    for method, url in _protected(app):
        # A body must not get a request past the token check, nor turn it into a 422.
        body = {"json": {"name": "x"}} if method in ("POST", "PATCH", "PUT") else {}
        sent = {**headers, **UPGRADE} if url in websockets else headers
        r = client.open(url, method=method, headers=sent, **body)
        if r.status_code != 401:
            failures.append((method, url, r.status_code))
            continue
        if method == "HEAD":
            continue
        payload = r.get_json()
        if (
            not isinstance(payload, dict)
            or set(payload) != {"error"}
            or set(payload["error"]) != {"code", "message", "details"}
            or payload["error"]["code"] != expected_code
            or not any("\u4e00" <= ch <= "\u9fff" for ch in payload["error"]["message"])
        ):
            failures.append((method, url, payload))
    assert failures == []


def test_public_routes_answer_without_a_token(client):
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200
    # Login and refresh are reachable: a bad body is a validation error, not "log in first".
    assert client.post("/api/v1/auth/login", json={}).status_code == 422
    assert client.post("/api/v1/auth/refresh", json={}).status_code == 422


def test_cors_preflight_needs_no_token(client):
    r = client.options("/api/v1/areas")
    assert r.status_code == 200
    assert "GET" in r.headers["Allow"] and "POST" in r.headers["Allow"]


def test_valid_token_passes_the_check(admin):
    assert admin.get("/api/v1/auth/me").status_code == 200
    assert admin.get("/api/v1/areas").status_code == 200
