"""Dictation to draft: a recording or text becomes a report draft the worker confirms."""

from __future__ import annotations

import time

import marshmallow as ma
from flask import current_app, jsonify, request
from flask.views import MethodView

from ledger.reports.draft import draft_from_text
from ledger.reports.suggestions import SuggesterCache
from server.auth.permissions import require
from server.db import app_session
from server.errors import ApiError
from server.resources.reports.routes import blp
from server.resources.reports.schemas import DraftFormSchema, DraftSchema, DraftTextSchema
from server.resources.speech.common import transcribe_upload, transcript_body
from server.wiring import ctx


def suggester_cache() -> SuggesterCache:
    """One per process: retrains from closed cases in a background read session."""
    app = current_app._get_current_object()
    cache = app.extensions.get("wangge_suggester")
    if cache is None:
        cache = app.extensions.setdefault(
            "wangge_suggester", SuggesterCache(lambda: app_session(app, write=False))
        )
    return cache


def _load(schema: ma.Schema, data) -> dict:
    try:
        return schema.load(data)
    except ma.ValidationError as exc:
        raise ApiError(422, "validation_error", "提交的数据有误，请按提示修改",
                       {"fields": exc.messages}) from None  # fmt: skip


@blp.route("/draft")
class DraftViews(MethodView):
    @require("reports.create")
    @blp.response(200, DraftSchema)
    @blp.doc(requestBody={"content": {
        "application/json": {"schema": DraftTextSchema},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "audio": {"type": "string", "format": "binary"}, "lat": {"type": "number"},
            "lon": {"type": "number"}, "area": {"type": "string"},
            "keep": {"type": "boolean"}}}},
    }})  # fmt: skip
    def post(self):
        """Draft a report from a recording (multipart audio) or text: title, categories, places"""
        started = time.perf_counter()
        transcript = audio_file = None
        if request.mimetype == "multipart/form-data":
            args = _load(DraftFormSchema(), request.form)
            result, audio_file, warnings = transcribe_upload(args["area"], keep=args["keep"])
            transcript = transcript_body(result, audio_file, warnings=warnings)
            text = result.text
        else:
            args = _load(DraftTextSchema(), request.get_json())
            text = args["text"]
        c = ctx()
        draft = draft_from_text(c, text, suggester_cache().get(c.session), lat=args["lat"],
                                lon=args["lon"], area=args["area"])  # fmt: skip
        draft["audio_file"] = audio_file
        draft["transcript"] = transcript
        draft["timing_ms"]["total"] = round((time.perf_counter() - started) * 1000, 1)
        # Dictated reports name people and places: keep them out of caches.
        response = jsonify(DraftSchema().dump(draft))
        response.headers["Cache-Control"] = "no-store"
        return response
