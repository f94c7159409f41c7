"""Vosk backend: Kaldi models from Alphacephei, native streaming, punctuation from word pauses."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable

import numpy as np

from speech.audio import DEFAULT_MAX_SECONDS, SAMPLE_RATE, Audio
from speech.engine import EngineError, PartialPublisher, PcmBuffer, Transcript, as_audio
from speech.models import vosk_model_language, vosk_model_path, vosk_supports_runtime_vocabulary
from speech.text import HotwordCorrector, compose, join_words, punctuate_words, tidy

__all__ = ["VoskEngine", "VoskStream"]

log = logging.getLogger(__name__)

# Vosk reacts to each chunk; a quarter second keeps partials lively without per-call overhead.
_CHUNK_SAMPLES = SAMPLE_RATE // 4


def _piece(result: dict) -> tuple[float, float, str, list[dict]] | None:
    words = [w for w in result.get("result") or () if w.get("word") not in (None, "", "[unk]")]
    if not words:
        return None
    text = punctuate_words(words, final=False)
    return float(words[0]["start"]), float(words[-1]["end"]), text, words


class VoskEngine:
    """A Vosk model from WANGGE_VOSK_MODEL. Hot words correct the text by pinyin; a closed
    ``grammar`` (runtime vocabulary) is used only when asked for and the model supports it."""

    name = "vosk"

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        try:
            import vosk
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise EngineError(
                "speech.engine_unavailable", "语音识别组件未安装。", "the vosk package is missing"
            ) from exc
        vosk.SetLogLevel(-1)
        self.path = vosk_model_path(path)
        started = time.perf_counter()
        try:
            self._model = vosk.Model(str(self.path))
        except Exception as exc:  # vosk raises a bare Exception on a bad model
            raise EngineError(
                "speech.model_corrupt", "Vosk 语音模型无法加载。", f"{self.path}: {exc}"
            ) from exc
        self.load_ms = (time.perf_counter() - started) * 1000
        self.model = self.path.name
        self.language = vosk_model_language(self.path)
        self.runtime_vocabulary = vosk_supports_runtime_vocabulary(self.path)

    def in_vocabulary(self, word: str) -> bool:
        return self._model.vosk_model_find_word(word) != -1

    def vocabulary_phrase(self, phrase: str) -> str | None:
        """``phrase`` as space-separated model words, or None when a part is not in the vocabulary.

        Chinese models know segmented words, not whole place names, so a name is split by
        greedy longest match (幸福里小区 → 幸福 里 小区).
        """
        phrase = phrase.strip()
        if not phrase:
            return None
        if " " in phrase:
            words = phrase.split()
            return phrase if all(self.in_vocabulary(w) for w in words) else None
        if self.in_vocabulary(phrase):
            return phrase
        out = []
        i = 0
        while i < len(phrase):
            for j in range(min(len(phrase), i + 8), i, -1):
                if self.in_vocabulary(phrase[i:j]):
                    out.append(phrase[i:j])
                    i = j
                    break
            else:
                return None
        return " ".join(out)

    def _recognizer(self, grammar: Iterable[str] | None):
        import vosk

        if grammar is None:
            rec = vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
        else:
            if not self.runtime_vocabulary:
                raise EngineError(
                    "speech.engine_unavailable",
                    "当前语音模型不支持限定词表。",
                    f"{self.model} has a static graph; only lookahead models take a grammar",
                )
            phrases = []
            for phrase in grammar:
                words = self.vocabulary_phrase(phrase)
                if words is None:
                    log.info("grammar phrase %r is not in the %s vocabulary", phrase, self.model)
                else:
                    phrases.append(words)
            # [unk] lets speech outside the list come out as nothing rather than a wrong name;
            # not every model has it.
            if self.in_vocabulary("[unk]"):
                phrases.append("[unk]")
            rec = vosk.KaldiRecognizer(
                self._model, SAMPLE_RATE, json.dumps(phrases, ensure_ascii=False)
            )
        rec.SetWords(True)
        return rec

    def transcribe(
        self,
        audio: Audio | np.ndarray,
        *,
        hotwords: Iterable[str] | None = None,
        grammar: Iterable[str] | None = None,
    ) -> Transcript:
        audio = as_audio(audio)
        stream = self.stream(hotwords, grammar=grammar, max_seconds=audio.duration_s + 1)
        started = time.perf_counter()
        pcm = (np.clip(audio.samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        step = _CHUNK_SAMPLES * 2 * 8
        for i in range(0, len(pcm), step):
            stream.feed(pcm[i : i + step])
        result = stream.finish()
        result.timing_ms = {"recognize": (time.perf_counter() - started) * 1000}
        return result

    def stream(
        self,
        hotwords: Iterable[str] | None = None,
        *,
        grammar: Iterable[str] | None = None,
        max_seconds: float = DEFAULT_MAX_SECONDS,
    ) -> VoskStream:
        return VoskStream(self, hotwords, grammar=grammar, max_seconds=max_seconds)


class VoskStream(PartialPublisher):
    """Vosk's own streaming: partial hypotheses per chunk, an utterance at each endpoint."""

    def __init__(
        self,
        engine: VoskEngine,
        hotwords: Iterable[str] | None = None,
        *,
        grammar: Iterable[str] | None = None,
        max_seconds: float = DEFAULT_MAX_SECONDS,
    ) -> None:
        self.engine = engine
        hotwords = list(hotwords or ())
        self._corrector = HotwordCorrector(hotwords) if hotwords else None
        self._rec = engine._recognizer(grammar)
        self._buffer = PcmBuffer(max_seconds, keep=False)
        self._pieces: list[tuple[float, float, str]] = []
        self._words: list[list[dict]] = []
        self._started: float | None = None
        self.partial = ""
        self.first_partial_ms: float | None = None

    @property
    def duration_s(self) -> float:
        return self._buffer.samples_total / SAMPLE_RATE

    def _take(self, result: dict) -> None:
        piece = _piece(result)
        if piece:
            self._pieces.append(piece[:3])
            self._words.append(piece[3])

    def feed(self, pcm16: bytes) -> bool:
        """Feed audio without building a partial; True when an utterance just ended."""
        data = self._buffer.add(pcm16)
        if not data:
            return False
        if self._rec.AcceptWaveform(data):
            self._take(json.loads(self._rec.Result()))
            return True
        return False

    def accept(self, pcm16: bytes) -> str | None:
        if self._started is None:
            self._started = time.perf_counter()
        ended = self.feed(pcm16)
        head = compose(self._pieces, self._corrector)[0] if self._pieces else ""
        if ended:
            partial = head
        else:
            words = json.loads(self._rec.PartialResult()).get("partial", "").split()
            tail = join_words(w for w in words if w != "[unk]")
            partial = head + (tidy(tail, self._corrector, final=False)[0] if tail else "")
        return self._publish(partial)

    def finish(self) -> Transcript:
        started = time.perf_counter()
        self._take(json.loads(self._rec.FinalResult()))
        text, segments, corrections = compose(self._pieces, self._corrector)
        words_at = {piece[0]: words for piece, words in zip(self._pieces, self._words, strict=True)}
        for segment in segments:
            segment["words"] = words_at.get(segment["start"], [])
        timing = {"final_decode": (time.perf_counter() - started) * 1000}
        return self._final(self._pieces, text, segments, corrections, timing, separator=" ")
