"""Blueprint registration: one sub-package per resource, each with routes and schemas."""

from __future__ import annotations

from flask import Flask, send_from_directory
from flask_smorest import Api


def register_blueprints(api: Api, app: Flask) -> None:
    from server.resources.areas.routes import blp as areas
    from server.resources.audit.routes import blp as audit
    from server.resources.auth.routes import blp as auth
    from server.resources.files.routes import blp as files
    from server.resources.health.routes import blp as health
    from server.resources.households.routes import blp as households
    from server.resources.jobs.imports import blp as imports
    from server.resources.jobs.routes import blp as exports
    from server.resources.ledgers import entries as _ledger_entries  # noqa: F401  (routes)
    from server.resources.ledgers.routes import blp as ledgers
    from server.resources.ocr.routes import blp as ocr
    from server.resources.open311.routes import blp as open311
    from server.resources.people.routes import blp as people
    from server.resources.reports import draft as _report_draft  # noqa: F401  (routes)
    from server.resources.reports.catalog import categories_blp, departments_blp, rules_blp
    from server.resources.reports.routes import blp as reports
    from server.resources.speech.routes import blp as speech
    from server.resources.speech.stream import bp as speech_stream
    from server.resources.sync.routes import blp as sync
    from server.resources.users.routes import blp as users

    for blp in (health, auth, areas, users, people, households, ledgers, exports, imports,
                reports, departments_blp, categories_blp, rules_blp, files, ocr, speech, sync,
                audit, open311):  # fmt: skip
        api.register_blueprint(blp)
    # The WebSocket is a plain Flask blueprint: OpenAPI cannot describe it (see the README).
    app.register_blueprint(speech_stream)

    import swagger_ui_bundle

    # The docs page must work on a county intranet with no internet: serve Swagger UI ourselves.
    @app.route("/api/v1/docs/assets/<path:filename>", endpoint="docs_assets")
    def docs_assets(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
