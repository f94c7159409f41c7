"""The speech engine interface, its result types and the process-wide engine registry."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from speech.audio import (
    DEFAULT_MAX_SECONDS,
    SAMPLE_RATE,
    Audio,
    AudioError,
    SpeechError,
    pcm16_to_float,
)

__all__ = [
    "ENGINES",
    "EngineError",
    "PcmBuffer",
    "SpeechEngine",
    "Stream",
    "Transcript",
    "as_audio",
    "cpu_threads",
    "get_engine",
    "resolve_engine_name",
    "warm_up",
]

log = logging.getLogger(__name__)

ENGINES = ("vosk", "whisper")


class EngineError(SpeechError):
    """The engine or its model cannot be loaded (speech.engine_unavailable, speech.model_*)."""


@dataclass
class Transcript:
    """A finished recognition: dictation text plus timed segments and where the time went."""

    text: str
    segments: list[dict] = field(default_factory=list)
    engine: str = ""
    model: str = ""
    timing_ms: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0
    raw_text: str = ""
    corrections: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "segments": [
                {"start": round(s["start"], 2), "end": round(s["end"], 2), "text": s["text"]}
                for s in self.segments
            ],
            "engine": self.engine,
            "model": self.model,
            "duration_s": round(self.duration_s, 2),
            "timing_ms": {k: round(v, 1) for k, v in self.timing_ms.items()},
            "corrections": [list(c) for c in self.corrections],
        }


class Stream(Protocol):
    """One live dictation: feed 16 kHz PCM16 chunks, get partial text, then the final result."""

    partial: str

    def accept(self, pcm16: bytes) -> str | None:
        """Take a chunk of little-endian 16-bit mono 16 kHz PCM; new partial text or None."""
        ...

    def finish(self) -> Transcript:
        """Flush the remaining audio and return the final transcript."""
        ...


class SpeechEngine(Protocol):
    """A loaded recogniser. One instance serves every request of the process (thread-safe)."""

    name: str
    model: str

    def transcribe(
        self, audio: Audio | np.ndarray, *, hotwords: Iterable[str] | None = None
    ) -> Transcript:
        """Recognise a whole decoded recording (Audio, or 16 kHz mono float32 samples)."""
        ...

    def stream(self, hotwords: Iterable[str] | None = None) -> Stream:
        """Start a streaming recognition."""
        ...


def as_audio(audio: Audio | np.ndarray) -> Audio:
    """Accept decoded Audio or bare 16 kHz mono float samples."""
    if isinstance(audio, Audio):
        return audio
    return Audio.from_samples(np.asarray(audio, dtype=np.float32).reshape(-1))


def cpu_threads() -> int:
    return max(1, int(os.environ.get("WANGGE_SPEECH_THREADS") or os.cpu_count() or 1))


class PartialPublisher:
    """Stream bookkeeping both engines share: emit only changed partial text, time the first,
    build the final transcript."""

    engine: SpeechEngine
    duration_s: float
    partial: str
    first_partial_ms: float | None
    _started: float | None

    def _publish(self, partial: str) -> str | None:
        if partial and partial != self.partial:
            self.partial = partial
            if self.first_partial_ms is None:
                self.first_partial_ms = (time.perf_counter() - self._started) * 1000
            return partial
        return None

    def _final(
        self,
        pieces: list[tuple[float, float, str]],
        text: str,
        segments: list[dict],
        corrections: list[tuple[str, str]],
        timing: dict[str, float],
        *,
        separator: str = "",
    ) -> Transcript:
        """The stream's final Transcript; the time to the first partial joins its timings."""
        if self.first_partial_ms is not None:
            timing["first_partial"] = self.first_partial_ms
        return Transcript(
            text=text,
            segments=segments,
            engine=self.engine.name,
            model=self.engine.model,
            timing_ms=timing,
            duration_s=self.duration_s,
            raw_text=separator.join(p[2] for p in pieces),
            corrections=corrections,
        )


class PcmBuffer:
    """A stream's PCM16 chunks: whole samples only (an odd trailing byte waits for the next
    chunk), the duration limit enforced, and the audio kept as float32 when ``keep``."""

    def __init__(self, max_seconds: float = DEFAULT_MAX_SECONDS, *, keep: bool = True) -> None:
        self.max_samples = int(max_seconds * SAMPLE_RATE)
        self.keep = keep
        self._chunks: list[np.ndarray] = []
        self._carry = b""
        self.samples_total = 0
        self.dropped = 0

    def add(self, pcm16: bytes) -> bytes:
        """Append a chunk; returns its whole-sample bytes. Raises speech.too_long past the limit."""
        data = self._carry + bytes(pcm16)
        cut = len(data) - (len(data) % 2)
        self._carry = data[cut:]
        data = data[:cut]
        count = len(data) // 2
        if self.samples_total + count > self.max_samples:
            limit = self.max_samples / SAMPLE_RATE
            raise AudioError.too_long(limit, f"stream passed {limit:g} s")
        if count:
            if self.keep:
                self._chunks.append(pcm16_to_float(data))
            self.samples_total += count
        return data

    def samples(self, start: int = 0) -> np.ndarray:
        """The kept audio from absolute sample ``start`` on (not before what trim() dropped)."""
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        if not self._chunks:
            return np.zeros(0, dtype=np.float32)
        return self._chunks[0][max(0, start - self.dropped) :]

    def trim(self, before: int) -> None:
        """Forget the audio before absolute sample ``before``; a long stream stays small."""
        cut = before - self.dropped
        if cut > 0 and self._chunks:
            whole = self.samples(self.dropped)
            self._chunks = [whole[cut:].copy()]
            self.dropped += cut


def _vosk_model_is_chinese() -> bool:
    path = os.environ.get("WANGGE_VOSK_MODEL", "").strip()
    if not path:
        return False
    from speech.models import vosk_model_language

    try:
        return vosk_model_language(path) == "zh"
    except SpeechError as exc:
        log.warning("WANGGE_VOSK_MODEL is set but unusable, using Whisper: %s", exc)
        return False


def resolve_engine_name(name: str | None = None) -> str:
    """vosk or whisper: ``name``, else WANGGE_SPEECH_ENGINE, where auto (the default) means
    Vosk when WANGGE_VOSK_MODEL points at a Chinese Vosk model and Whisper otherwise."""
    name = (name or os.environ.get("WANGGE_SPEECH_ENGINE") or "auto").strip().lower()
    if name == "auto":
        return "vosk" if _vosk_model_is_chinese() else "whisper"
    if name not in ENGINES:
        raise EngineError(
            "speech.engine_unavailable",
            "语音识别引擎配置错误。",
            f"unknown speech engine {name!r}; choose auto, {', '.join(ENGINES)}",
        )
    return name


_engines: dict[tuple, SpeechEngine] = {}
_lock = threading.Lock()


def get_engine(
    name: str | None = None, *, cache_dir: str | os.PathLike | None = None
) -> SpeechEngine:
    """The process-wide engine (see resolve_engine_name), loaded on first use and then reused.

    Whisper reads WANGGE_WHISPER_MODEL (base, or a faster-whisper model directory),
    WANGGE_WHISPER_COMPUTE and WANGGE_WHISPER_BEAM, and assembles its weights into
    ``cache_dir`` (default speech.models.default_cache_dir()); Vosk reads WANGGE_VOSK_MODEL.
    """
    resolved = resolve_engine_name(name)
    if resolved == "vosk":
        key = (resolved, os.environ.get("WANGGE_VOSK_MODEL", ""))
    else:
        key = (
            resolved,
            os.environ.get("WANGGE_WHISPER_MODEL", ""),
            os.environ.get("WANGGE_WHISPER_COMPUTE", ""),
            os.environ.get("WANGGE_WHISPER_BEAM", ""),
        )
    engine = _engines.get(key)
    if engine is not None:
        return engine
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            started = time.perf_counter()
            if resolved == "vosk":
                from speech.engines.vosk import VoskEngine

                engine = VoskEngine()
            else:
                from speech.engines.whisper import WhisperEngine

                engine = WhisperEngine(cache_dir=cache_dir)
            log.info(
                "speech engine %s (%s) loaded in %.1f s",
                engine.name,
                engine.model,
                time.perf_counter() - started,
            )
            _engines[key] = engine
    return engine


def warm_up(engine: SpeechEngine) -> None:
    """Run the model once on a second of quiet noise so the first request skips graph setup."""
    noise = np.random.default_rng(0).standard_normal(SAMPLE_RATE).astype(np.float32) * 1e-3
    run = getattr(engine, "fast_text", None)
    if run is not None:
        run(noise)
    else:
        engine.transcribe(Audio.from_samples(noise))
    # The text pipeline loads OpenCC and pypinyin's dictionaries on first use (about 1 s).
    from speech.text import compose

    compose([(0.0, 1.0, "三号楼")], ["幸福里小区"])
