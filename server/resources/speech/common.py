"""What the upload and the stream share: the speaker's hot words and the transcript body."""

from __future__ import annotations

from flask import current_app, g

from ledger.areas.models import Area
from ledger.areas.operations import get_area_by_code
from ledger.registry.placenames import place_names
from server.db import read_session
from speech import Transcript


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
