"""Require a bearer token on every API route except the public ones."""

from __future__ import annotations

from flask import Flask, request

from server.auth.service import authenticate
from server.db import read_session

PUBLIC_ENDPOINTS = {
    "auth.Login",
    "auth.Refresh",
    "health.Health",
    "api-docs.openapi_json",
    "api-docs.openapi_swagger_ui",
    "docs_assets",
    "static",
}


def register_auth(app: Flask) -> None:
    @app.before_request
    def _authenticate():
        endpoint = request.endpoint
        # Unknown URLs fall through to the 404 envelope; OPTIONS is answered by Flask itself.
        if endpoint is None or endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
            return None
        # Open311 clients are systems, not people: they present an API key per call instead;
        # console pages carry their own signed-cookie session.
        if endpoint.startswith(("open311.", "console.")):
            return None
        # A separate read transaction: a write request must not take the write lock for auth.
        with read_session() as session:
            authenticate(session)
        return None
