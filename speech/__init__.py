"""Offline dictation: decode phone recordings, recognise Mandarin, tidy the text for grid notes."""

from speech.audio import SAMPLE_RATE, Audio, AudioError, SpeechError, decode_audio
from speech.engine import (
    EngineError,
    SpeechEngine,
    Stream,
    Transcript,
    get_engine,
    resolve_engine_name,
    warm_up,
)

__all__ = [
    "SAMPLE_RATE",
    "Audio",
    "AudioError",
    "EngineError",
    "SpeechEngine",
    "SpeechError",
    "Stream",
    "Transcript",
    "decode_audio",
    "get_engine",
    "resolve_engine_name",
    "warm_up",
]
