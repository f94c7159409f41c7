"""Shared fixtures for the speech tests: one Whisper engine per session, decoded shared clips."""

from __future__ import annotations

import pytest

from speech.audio import decode_audio
from tests.speech.media import clips


@pytest.fixture(scope="session")
def whisper_engine(tmp_path_factory):
    """The process-wide Whisper engine, its model assembled into a temporary cache dir."""
    from speech.engine import get_engine

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANGGE_SPEECH_MODEL_DIR", str(tmp_path_factory.mktemp("speech-models")))
        for name in ("WANGGE_WHISPER_MODEL", "WANGGE_WHISPER_COMPUTE", "WANGGE_WHISPER_BEAM"):
            mp.delenv(name, raising=False)
        yield get_engine("whisper")


@pytest.fixture(scope="session")
def shared_clips():
    """{file name: (Audio, reference transcript)} for every shared Mandarin clip."""
    return {path.name: (decode_audio(path.read_bytes()), ref) for path, ref in clips()}
