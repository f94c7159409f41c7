"""Transcribe a recorded dictation (issue reports, visit notes) into punctuated Chinese text."""

from __future__ import annotations

import time

from flask import current_app, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.files import operations as files
from ledger.files.sniff import AUDIO_UPLOAD_TYPES, check_upload
from server.auth.permissions import require
from server.resources.speech.common import hotwords_for, max_seconds, transcript_body
from server.resources.speech.schemas import (
    AudioFileSchema,
    DictationOptionsSchema,
    TranscriptSchema,
)
from server.uploads import ingest_upload, install_upload_limit
from server.wiring import ctx, speech_engine
from speech import decode_audio

blp = Blueprint("speech", __name__, url_prefix="/api/v1/speech", description="语音听写")
install_upload_limit(blp)

NOT_AUDIO_MESSAGE = "不支持的文件类型，请上传录音文件（wav、mp3、m4a、amr、ogg、webm、flac）"


@blp.route("/transcribe", endpoint="Transcribe")
class TranscribeViews(MethodView):
    @require("speech.transcribe")
    @blp.arguments(AudioFileSchema, location="files")
    @blp.arguments(DictationOptionsSchema, location="form")
    @blp.response(200, TranscriptSchema)
    def post(self, _files, form):
        """Transcribe a recording into punctuated simplified Chinese"""
        started = time.perf_counter()
        hotwords = hotwords_for(form["area"])
        part, upload = ingest_upload("audio")
        with upload:
            check_upload(
                upload.head, part.filename, part.mimetype, AUDIO_UPLOAD_TYPES, NOT_AUDIO_MESSAGE
            )
            audio = decode_audio(
                upload.path.read_bytes(),
                max_seconds=max_seconds(),
                max_bytes=current_app.extensions["wangge_settings"].max_upload_bytes,
            )
            decoded = time.perf_counter()
            transcript = speech_engine().transcribe(audio, hotwords=hotwords)
            stored = None
            if form["keep"]:
                # Kept only once it decoded: a corrupt or hostile upload leaves nothing behind.
                stored = files.store_upload(
                    ctx(),
                    upload,
                    filename=part.filename,
                    declared_type=part.mimetype,
                    allowed=AUDIO_UPLOAD_TYPES,
                )
        transcript.timing_ms["decode"] = (decoded - started) * 1000
        transcript.timing_ms["total"] = (time.perf_counter() - started) * 1000
        body = transcript_body(
            transcript, stored.sha256 if stored else None, warnings=list(audio.warnings)
        )
        # Dictated notes name residents and their circumstances: keep them out of caches.
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response
