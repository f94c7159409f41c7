"""Transcribe a recorded dictation (issue reports, visit notes) into punctuated Chinese text."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from server.auth.permissions import require
from server.resources.speech.common import transcribe_upload, transcript_body
from server.resources.speech.schemas import (
    AudioFileSchema,
    DictationOptionsSchema,
    TranscriptSchema,
)
from server.uploads import install_upload_limit

blp = Blueprint("speech", __name__, url_prefix="/api/v1/speech", description="语音听写")
install_upload_limit(blp)


@blp.route("/transcribe", endpoint="Transcribe")
class TranscribeViews(MethodView):
    @require("speech.transcribe")
    @blp.arguments(AudioFileSchema, location="files")
    @blp.arguments(DictationOptionsSchema, location="form")
    @blp.response(200, TranscriptSchema)
    def post(self, _files, form):
        """Transcribe a recording into punctuated simplified Chinese"""
        transcript, stored, warnings = transcribe_upload(form["area"], keep=form["keep"])
        body = transcript_body(transcript, stored, warnings=warnings)
        # Dictated notes name residents and their circumstances: keep them out of caches.
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response
