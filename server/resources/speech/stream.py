"""Live dictation over a WebSocket: PCM16 chunks in, partial text out, the final text at eof."""

from __future__ import annotations

import io
import json
import logging
import time
import wave

from flask import Blueprint, Response, current_app, request
from marshmallow import ValidationError
from simple_websocket import ConnectionClosed, Server

from ledger.files import operations as files
from server.auth.permissions import require
from server.db import write_session
from server.errors import ApiError, translate
from server.resources.speech.common import hotwords_for, max_seconds, transcript_body
from server.resources.speech.schemas import StreamOptionsSchema
from server.wiring import ctx, speech_engine
from speech import SAMPLE_RATE, AudioError, EngineError, SpeechError

log = logging.getLogger(__name__)

bp = Blueprint("speech_stream", __name__, url_prefix="/api/v1/speech")

# One message may carry at most this much audio (30 s); phones send 100–500 ms chunks.
MAX_MESSAGE_BYTES = 30 * SAMPLE_RATE * 2
# WebSocket close codes (RFC 6455).
NORMAL, POLICY, TOO_BIG, SERVER_ERROR = 1000, 1008, 1009, 1011


class StreamError(Exception):
    """Ends a stream with an error message the client can act on, then a close frame."""

    def __init__(self, code: str, message: str, close_code: int = POLICY) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.close_code = close_code


class _ClosedResponse(Response):
    """What the WSGI server gets once the socket has been taken over and closed."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def __call__(self, environ, start_response):
        if self.mode == "gunicorn":
            # gunicorn's workers take StopIteration as "the app owns the socket; drop it".
            raise StopIteration()
        return super().__call__(environ, start_response)


def _options() -> dict:
    try:
        return StreamOptionsSchema().load(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(
            422, "validation_error", "请求参数有误", {"fields": translate(exc.messages)}
        ) from None


def _wav(pcm: bytes) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
    return out.getvalue()


class DictationSession:
    """One connection: feed the engine's stream, publish partials, finish on eof."""

    def __init__(self, ws: Server, hotwords: list[str], keep: bool, idle_seconds: float) -> None:
        self.ws = ws
        self.keep = keep
        self.idle_seconds = idle_seconds
        self.limit_bytes = int(max_seconds() * SAMPLE_RATE * 2)
        self.stream = speech_engine().stream(hotwords, max_seconds=max_seconds())
        self.pcm = bytearray()
        self.received = 0

    def send(self, message: dict) -> None:
        self.ws.send(json.dumps(message, ensure_ascii=False))

    def _check_backlog(self) -> None:
        # The socket reader queues whatever arrives while a decode runs; audio beyond the
        # duration limit is refused as it arrives instead of piling up in memory.
        queued = sum(len(m) for m in self.ws.input_buffer if isinstance(m, bytes))
        if self.received + queued > self.limit_bytes + MAX_MESSAGE_BYTES:
            raise AudioError.too_long(max_seconds(), "audio queued past the limit")

    def run(self) -> None:
        while True:
            message = self.ws.receive(timeout=self.idle_seconds)
            if message is None:
                raise StreamError(
                    "speech.stream_idle",
                    f"超过 {self.idle_seconds:g} 秒没有收到音频，连接已关闭，请重新开始录音。",
                )
            if isinstance(message, bytes):
                self.received += len(message)
                self._check_backlog()
                partial = self.stream.accept(message)
                if self.keep:
                    self.pcm += message
                if partial is not None:
                    self.send({"partial": partial})
                continue
            try:
                control = json.loads(message)
            except ValueError:
                control = None
            if not isinstance(control, dict) or control.get("eof") is not True:
                raise StreamError(
                    "speech.bad_message",
                    "无法识别的消息：请发送 16 kHz 16 位单声道 PCM 二进制数据，"
                    '结束时发送 {"eof": true}。',
                )
            self.finish()
            return

    def finish(self) -> None:
        transcript = self.stream.finish()
        audio_file = None
        if self.keep and len(self.pcm) >= 2:
            # Committed before the reply: a client that got audio_file can attach it at once.
            with write_session() as session:
                stored = files.store_bytes(ctx(session), _wav(bytes(self.pcm)), "audio/wav")
                audio_file = stored.sha256
        body = transcript_body(transcript, audio_file)
        body["final"] = body.pop("text")
        self.send(body)


@bp.route("/stream", endpoint="Stream", websocket=True)
@require("speech.transcribe")
def stream():
    """Live dictation: binary PCM16 chunks in, partial and final text out"""
    # Everything that can be refused is refused before the handshake, as a plain HTTP error.
    options = _options()
    settings = current_app.extensions["wangge_settings"]
    hotwords = hotwords_for(options["area"])
    speech_engine()
    ws = Server.accept(request.environ, max_message_size=MAX_MESSAGE_BYTES)
    started = time.perf_counter()
    try:
        DictationSession(ws, hotwords, options["keep"], settings.speech_idle_seconds).run()
        ws.close(NORMAL)
    except ConnectionClosed:
        log.info("speech stream closed by the client after %.1f s", time.perf_counter() - started)
    except StreamError as exc:
        _close_with_error(ws, exc.code, exc.message, exc.close_code)
    except SpeechError as exc:
        if isinstance(exc, EngineError):
            close_code = SERVER_ERROR
        else:
            close_code = TOO_BIG if exc.code == "speech.too_long" else POLICY
        _close_with_error(ws, exc.code, exc.message_zh, close_code)
    except Exception:
        log.exception("speech stream failed")
        _close_with_error(ws, "internal_error", "服务器内部错误，请稍后重试。", SERVER_ERROR)
    return _ClosedResponse(ws.mode)


def _close_with_error(ws: Server, code: str, message: str, close_code: int) -> None:
    try:
        ws.send(json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False))
        ws.close(close_code, code)
    except ConnectionClosed:
        pass
