"""What the upload and the stream share: the speaker's hot words and the transcript body."""

from __future__ import annotations

import time

from flask import current_app, g

from ledger.areas.models import Area
from ledger.areas.operations import get_area_by_code
from ledger.files import operations as files
from ledger.files.sniff import AUDIO_UPLOAD_TYPES, check_upload
from ledger.registry.placenames import place_names
from server.db import read_session
from server.uploads import ingest_upload
from server.wiring import ctx, speech_engine
from speech import Transcript, decode_audio

NOT_AUDIO_MESSAGE = "不支持的文件类型，请上传录音文件（wav、mp3、m4a、amr、ogg、webm、flac）"


def hotwords_for(area_code: str | None) -> list[str]:
    """Place names of ``area_code`` (which must be in the caller's scope), else of the caller's
    own area; none for a caller without an area."""
    # A read transaction of its own: recognition takes seconds and must not hold a lock.
    with read_session() as session:
        if area_code:
            area = get_area_by_code(session, area_code, g.scope)
        elif g.user.area_id is not None:
            area = session.get(Area, g.user.area_id)
        else:
            return []
        return place_names(session, area) if area is not None else []


def max_seconds() -> float:
    return float(current_app.extensions["wangge_settings"].speech_max_seconds)


def transcript_body(transcript: Transcript, audio_file: str | None, **extra) -> dict:
    body = transcript.as_dict()
    body["audio_file"] = audio_file
    body.update(extra)
    return body


def transcribe_upload(
    area_code: str | None, *, keep: bool, field: str = "audio"
) -> tuple[Transcript, str | None, list[str]]:
    """Decode and transcribe the uploaded recording in ``field``; with ``keep`` it is stored
    as an evidence file. Returns the transcript (timings included), the file's sha256 and
    the decoder's warnings."""
    started = time.perf_counter()
    hotwords = hotwords_for(area_code)
    part, upload = ingest_upload(field)
    with upload:
        check_upload(upload.head, part.filename, part.mimetype, AUDIO_UPLOAD_TYPES,
                     NOT_AUDIO_MESSAGE)  # fmt: skip
        audio = decode_audio(
            upload.path.read_bytes(),
            max_seconds=max_seconds(),
            max_bytes=current_app.extensions["wangge_settings"].max_upload_bytes,
        )
        decoded = time.perf_counter()
        transcript = speech_engine().transcribe(audio, hotwords=hotwords)
        stored = None
        if keep:
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
    return transcript, stored.sha256 if stored else None, list(audio.warnings)
