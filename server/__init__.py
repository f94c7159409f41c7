"""The HTTP edge of Wangge: app factory, config, auth, routes and error mapping."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

__all__ = ["create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides WANGGE_* environment variables (tests use it)."""
    from flask_smorest import Api
    from werkzeug.middleware.proxy_fix import ProxyFix

    # Every model, and the sync engine's change tracking on every session.
    import server.models  # noqa: F401
    from server.auth.hooks import register_auth
    from server.config import load_settings
    from server.db import init_db, make_engine
    from server.errors import register_content_type_check, register_error_handlers
    from server.json import WanggeJSONProvider
    from server.resources import register_blueprints
    from server.wiring import init_services

    settings = load_settings(config)
    app = Flask(__name__)
    app.json_provider_class = WanggeJSONProvider
    app.json = WanggeJSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        # Werkzeug keeps small multipart parts in memory; larger ones spool to disk.
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        API_TITLE="Wangge 网格 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/v1/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": "网格员移动端与社区工作台的后端接口。"},
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
        },
    )
    if config:
        app.config.update({k: v for k, v in config.items() if k.isupper()})
    app.extensions["wangge_settings"] = settings
    if settings.proxy_hops:
        # Behind nginx / the load balancer, so throttling and audit see real client IPs.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    engine = make_engine(settings.database_url)
    init_db(app, engine)
    if settings.is_sqlite:
        from server.migrate import optimize

        # SQLite has no autovacuum-style ANALYZE; fresh statistics at start keep plans sane.
        optimize(engine)
    init_services(app, settings)
    api = Api(app)
    register_blueprints(api, app)
    from server.console import register_console

    register_console(app)
    register_auth(app)
    register_content_type_check(app)
    register_error_handlers(app)

    from server.cli import register_cli

    register_cli(app)
    logging.getLogger("wangge").setLevel(logging.INFO)
    return app
