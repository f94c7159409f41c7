"""Decoding what phones and mini-programs upload, and every kind of bad upload."""

from __future__ import annotations

import io
import struct
import time

import numpy as np
import pytest

from speech.audio import SAMPLE_RATE, AudioError, decode_audio
from tests.speech.media import (
    ENCODINGS,
    clips,
    encode,
    have_amr_wb_encoder,
    read_wav,
    video_bytes,
    wav_bytes,
)

FORMATS = [*ENCODINGS, "amr-wb"]
EXPECTED_FORMAT = {
    "mp3": "mp3",
    "m4a": "m4a",
    "amr-nb": "amr",
    "amr-wb": "amr",
    "ogg-opus": "ogg",
    "webm-opus": "webm",
    "3gp": "3gp",
    "flac": "flac",
    "wav": "wav",
}


@pytest.fixture(scope="module")
def clip():
    path, _ref = clips()[0]
    return read_wav(path)


def _code(exc_info) -> str:
    return exc_info.value.code


@pytest.mark.parametrize("kind", FORMATS)
def test_decodes_every_phone_format(clip, kind):
    if kind == "amr-wb" and not have_amr_wb_encoder():
        pytest.skip("libvo-amrwbenc0 (speech/APT_PACKAGES) is not installed")
    pcm, rate = clip
    audio = decode_audio(encode(pcm, rate, kind))
    assert audio.source_format == EXPECTED_FORMAT[kind]
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    # Codecs pad a frame or two at either end.
    assert abs(audio.duration_s - len(pcm) / rate) < 0.15
    # Lossy speech codecs band-limit and shift the level a little, no more.
    rms_in = float(np.sqrt(np.mean((pcm / 32768.0) ** 2)))
    rms_out = float(np.sqrt(np.mean(audio.samples**2)))
    assert 0.6 < rms_out / rms_in < 1.4
    assert np.abs(audio.samples).max() <= 1.0


def test_stereo_44k_is_mixed_down_and_resampled(clip):
    pcm, _rate = clip
    up = np.interp(np.arange(0, len(pcm), 16000 / 44100), np.arange(len(pcm)), pcm)
    stereo = np.stack([up, up], axis=1).astype(np.int16).reshape(-1)
    audio = decode_audio(wav_bytes(stereo, 44100, channels=2))
    assert audio.source_rate == 44100 and audio.source_channels == 2
    assert abs(len(audio.samples) - len(pcm)) < SAMPLE_RATE * 0.01


def test_video_container_audio_track_is_used():
    tone = (np.sin(np.arange(32000) / 16000 * 2 * np.pi * 300) * 8000).astype(np.int16)
    audio = decode_audio(video_bytes(seconds=2.0, pcm=tone))
    assert audio.had_video and audio.source_format == "mp4"
    assert abs(audio.duration_s - 2.0) < 0.15


def test_video_without_audio_is_refused():
    with pytest.raises(AudioError) as exc:
        decode_audio(video_bytes(seconds=1.0, with_audio=False))
    assert _code(exc) == "speech.no_audio_stream"
    assert exc.value.message_zh and exc.value.detail


def test_empty_upload():
    with pytest.raises(AudioError) as exc:
        decode_audio(b"")
    assert _code(exc) == "speech.empty_audio"


def test_wav_with_no_samples():
    with pytest.raises(AudioError) as exc:
        decode_audio(wav_bytes(np.zeros(0, dtype=np.int16), 16000))
    assert _code(exc) == "speech.empty_audio"


def test_fifth_of_a_second_is_too_short():
    with pytest.raises(AudioError) as exc:
        decode_audio(wav_bytes(np.zeros(3200, dtype=np.int16), 16000))
    assert _code(exc) == "speech.too_short"
    assert "0.20 s" in exc.value.detail


def test_ten_seconds_of_silence_decodes():
    audio = decode_audio(wav_bytes(np.zeros(160000, dtype=np.int16), 16000))
    assert audio.duration_s == pytest.approx(10.0)
    assert not audio.samples.any()


def test_an_hour_stops_at_the_limit_quickly():
    # An hour of 8 kHz 8-bit WAV is 29 MB: under the size limit, so the duration limit must act.
    rng = np.random.default_rng(1)
    data = rng.integers(118, 138, size=3600 * 8000, dtype=np.uint8).tobytes()
    header = io.BytesIO()
    header.write(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE")
    header.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8))
    header.write(b"data" + struct.pack("<I", len(data)))
    started = time.perf_counter()
    with pytest.raises(AudioError) as exc:
        decode_audio(header.getvalue() + data, max_seconds=300)
    assert _code(exc) == "speech.too_long"
    assert "300 s" in exc.value.detail
    # Decoding 5 of the 60 minutes; the rest is never touched.
    assert time.perf_counter() - started < 20


def test_size_limit():
    with pytest.raises(AudioError) as exc:
        decode_audio(b"\0" * 2048, max_bytes=1024)
    assert _code(exc) == "speech.too_large"


def test_corrupted_wav_header(clip):
    pcm, rate = clip
    data = bytearray(wav_bytes(pcm, rate))
    data[20:36] = b"\xff" * 16  # the fmt chunk: format tag, channels, rates
    with pytest.raises(AudioError) as exc:
        decode_audio(bytes(data))
    assert _code(exc) == "speech.corrupt_audio"


def test_upload_cut_off_midway_keeps_what_arrived(clip):
    pcm, rate = clip
    data = encode(pcm, rate, "mp3")
    audio = decode_audio(data[: len(data) // 2])
    assert 1.0 < audio.duration_s < len(pcm) / rate * 0.75


def test_garbage_behind_an_audio_signature():
    rng = np.random.default_rng(2)
    with pytest.raises(AudioError) as exc:
        decode_audio(b"#!AMR\n" + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    assert _code(exc) in ("speech.corrupt_audio", "speech.empty_audio")


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" * 50,
        '{"note": "网格员走访记录"}'.encode() * 40,
    ],
    ids=["pdf", "json"],
)
def test_documents_are_not_audio(data):
    with pytest.raises(AudioError) as exc:
        decode_audio(data)
    assert _code(exc) == "speech.not_audio"


def test_image_is_not_audio():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, format="PNG")
    with pytest.raises(AudioError) as exc:
        decode_audio(buf.getvalue())
    assert _code(exc) == "speech.not_audio"


def _wav_with_rates(pcm: np.ndarray, rate: int, byte_rate: int) -> bytes:
    data = bytearray(wav_bytes(pcm, 16000))
    struct.pack_into("<II", data, 24, rate, byte_rate)
    return bytes(data)


def test_wrong_sample_rate_field_is_repaired_from_byte_rate(clip):
    pcm, _rate = clip
    # A hand-written header: 16 kHz samples, byte rate right, sample rate field says 8000.
    audio = decode_audio(_wav_with_rates(pcm, 8000, 32000))
    assert audio.source_rate == 16000
    assert audio.duration_s == pytest.approx(len(pcm) / 16000, abs=0.01)
    assert any("contradicts" in w for w in audio.warnings)


def test_impossible_sample_rate_is_corrupt(clip):
    pcm, _rate = clip
    with pytest.raises(AudioError) as exc:
        decode_audio(_wav_with_rates(pcm, 0, 0))
    assert _code(exc) == "speech.corrupt_audio"


def test_consistent_but_wrong_header_is_trusted(clip):
    # Both fields say 8 kHz: indistinguishable from a real 8 kHz file, so it plays slow, as in
    # every player. Recorded in the result so a caller can see what was assumed.
    pcm, _rate = clip
    audio = decode_audio(_wav_with_rates(pcm, 8000, 16000))
    assert audio.source_rate == 8000
    assert audio.duration_s == pytest.approx(2 * len(pcm) / 16000, abs=0.01)


def test_error_payload_is_stable():
    with pytest.raises(AudioError) as exc:
        decode_audio(b"")
    assert exc.value.as_dict() == {
        "code": "speech.empty_audio",
        "message": "音频文件是空的。",
        "detail": "the upload has 0 bytes",
    }
