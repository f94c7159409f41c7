"""Decode phone and mini-program recordings to 16 kHz mono float32 with PyAV, within limits."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_SECONDS",
    "DEFAULT_MIN_SECONDS",
    "SAMPLE_RATE",
    "Audio",
    "AudioError",
    "SpeechError",
    "decode_audio",
    "pcm16_to_float",
]

SAMPLE_RATE = 16000
DEFAULT_MAX_SECONDS = 300.0
# Five minutes of 48 kHz stereo 16-bit WAV is 55 MB; compressed phone formats are a tenth of that.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# WeChat refuses voice messages under a second; half a second still holds a word or two.
DEFAULT_MIN_SECONDS = 0.5

_STANDARD_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000)
# Codecs FFmpeg reports for still images and text it can "open"; these are not recordings at all.
_IMAGE_CODECS = frozenset(
    ("png", "mjpeg", "jpeg2000", "bmp", "gif", "webp", "tiff", "ansi", "pam", "pgm", "ppm", "pbm",
     "qoi", "jpegls", "sgi", "svg", "exr", "hdr")
)  # fmt: skip
# Leading bytes of audio containers: a file that starts like one but will not decode is corrupt,
# anything else that will not decode is simply not audio.
_AUDIO_MAGIC = (
    (0, b"RIFF", "wav"),
    (0, b"ID3", "mp3"),
    (0, b"OggS", "ogg"),
    (0, b"fLaC", "flac"),
    (0, b"#!AMR", "amr"),
    (0, b"\x1aE\xdf\xa3", "webm"),
    (0, b"FORM", "aiff"),
    (0, b"caff", "caf"),
    (4, b"ftyp", "mp4"),
)


class SpeechError(Exception):
    """A failure the client can act on: a stable code, a Chinese message and an English detail."""

    def __init__(self, code: str, message_zh: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail or message_zh}")
        self.code = code
        self.message_zh = message_zh
        self.detail = detail

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message_zh, "detail": self.detail}


class AudioError(SpeechError):
    """The upload is not audio we can recognise (empty, too short or long, corrupt, video only)."""

    @classmethod
    def too_long(cls, max_seconds: float, detail: str) -> AudioError:
        return cls("speech.too_long", f"录音太长（上限 {max_seconds / 60:g} 分钟）。", detail)


@dataclass(frozen=True)
class Audio:
    """Decoded audio: float32 mono samples at 16 kHz in [-1, 1] plus what the upload was."""

    samples: np.ndarray
    duration_s: float
    source_format: str
    source_rate: int
    source_codec: str = ""
    source_channels: int = 1
    had_video: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_samples(cls, samples: np.ndarray, source_format: str = "pcm") -> Audio:
        """Wrap 16 kHz mono samples that are already decoded (streams, tests)."""
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        return cls(samples, len(samples) / SAMPLE_RATE, source_format, SAMPLE_RATE, "pcm_f32le")


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    """Little-endian signed 16-bit PCM bytes to float32 in [-1, 1)."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _magic_format(data: bytes) -> str | None:
    for offset, magic, name in _AUDIO_MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return name
    # MPEG audio frame sync (MP3 without ID3) and ADTS AAC both start with 11 set bits.
    if len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0:
        return "mpeg-audio"
    return None


def _check_wav_header(data: bytes) -> tuple[bytes, list[str]]:
    """Validate a RIFF/WAVE fmt chunk and settle a sample rate the header contradicts itself on.

    A PCM WAV header states the rate twice: nSamplesPerSec and nAvgBytesPerSec (= rate × block
    align). Hand-written encoders in mini-programs get one of them wrong. When they disagree
    and the byte rate implies a standard rate, that rate is used (it is derived from the data
    layout actually written); otherwise the sample-rate field is, as FFmpeg does. Either way a
    warning says so. When both agree the header is trusted, as every player does: a file
    labelled consistently but wrongly cannot be told from a real one by its bytes.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data, []
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        if chunk_id == b"fmt ":
            if size < 16 or pos + 24 > len(data):
                raise AudioError(
                    "speech.corrupt_audio",
                    "音频文件已损坏，无法读取。",
                    "WAV fmt chunk is truncated",
                )
            fmt_tag, channels, rate, byte_rate, block_align, bits = struct.unpack_from(
                "<HHIIHH", data, pos + 8
            )
            break
        pos += 8 + size + (size & 1)
    else:
        return data, []

    if channels == 0:
        raise AudioError(
            "speech.corrupt_audio", "音频文件已损坏，无法读取。", "WAV header declares 0 channels"
        )
    implied = byte_rate // block_align if block_align and byte_rate % block_align == 0 else 0
    linear_pcm = fmt_tag in (1, 3, 0xFFFE) and block_align == channels * bits // 8
    if linear_pcm and implied in _STANDARD_RATES and implied != rate:
        patched = bytearray(data)
        struct.pack_into("<I", patched, pos + 12, implied)
        return bytes(patched), [
            f"WAV header sample rate {rate} Hz contradicts its byte rate; used {implied} Hz"
        ]
    if not 1000 <= rate <= 384000:
        raise AudioError(
            "speech.corrupt_audio",
            "音频文件头声明的采样率无效。",
            f"WAV header declares an impossible sample rate of {rate} Hz",
        )
    if linear_pcm and implied != rate:
        return data, [
            f"WAV header byte rate implies {implied} Hz but the sample rate field says {rate} Hz; "
            "used the sample rate field"
        ]
    return data, []


def _describe_format(container, data: bytes) -> str:
    name = container.format.name or ""
    if name.startswith("mov,mp4"):
        brand = data[8:12] if data[4:8] == b"ftyp" else b""
        if brand.startswith(b"3g"):
            return "3gp"
        if brand.startswith(b"M4A"):
            return "m4a"
        return "mp4"
    if name.startswith("matroska"):
        return "webm" if b"webm" in data[:64] else "mkv"
    return name.split(",")[0]


def _open_failure(data: bytes, exc: Exception) -> AudioError:
    magic = _magic_format(data)
    if magic:
        return AudioError(
            "speech.corrupt_audio",
            "音频文件已损坏，无法读取。",
            f"looks like {magic} but FFmpeg cannot read it: {exc}",
        )
    return AudioError(
        "speech.not_audio",
        "文件不是可识别的音频格式。",
        f"FFmpeg does not recognise the data as audio: {exc}",
    )


def decode_audio(
    data: bytes,
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    min_seconds: float = DEFAULT_MIN_SECONDS,
) -> Audio:
    """Decode any container FFmpeg reads to 16 kHz mono float32, enforcing size and duration.

    The duration limit is enforced on decoded samples, not on the header, so an hour-long
    upload stops after ``max_seconds`` of audio with memory bounded by that limit. Video
    containers (mp4, 3gp, webm) are accepted and their first audio track is used: phones and
    mini-programs save voice in the same containers; video frames are never decoded.
    """
    import av

    if not data:
        raise AudioError("speech.empty_audio", "音频文件是空的。", "the upload has 0 bytes")
    if len(data) > max_bytes:
        raise AudioError(
            "speech.too_large",
            f"音频文件太大（上限 {max_bytes // (1024 * 1024)} MB）。",
            f"{_mb(len(data))} exceeds the {_mb(max_bytes)} limit",
        )
    data, warnings = _check_wav_header(data)

    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, ValueError, OSError, UnicodeDecodeError) as exc:
        raise _open_failure(data, exc) from exc

    with container:
        source_format = _describe_format(container, data)
        if not container.streams.audio:
            video = [s for s in container.streams.video]
            image_like = not video or any(
                (s.codec_context.name or "") in _IMAGE_CODECS for s in video
            )
            if (
                image_like
                or container.format.name in ("image2", "tty")
                or (container.format.name or "").endswith("_pipe")
            ):
                raise AudioError(
                    "speech.not_audio",
                    "文件不是音频。",
                    f"{source_format} data without an audio stream",
                )
            raise AudioError(
                "speech.no_audio_stream",
                "视频文件中没有声音。",
                f"{source_format} container has video but no audio stream",
            )
        stream = container.streams.audio[0]
        codec = stream.codec_context.name or ""
        source_rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        source_channels = int(stream.codec_context.channels or 0)
        had_video = bool(container.streams.video)

        max_samples = int(max_seconds * SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        total = 0
        bad_packets = 0
        resampler = None
        setup = None

        def take(frames) -> None:
            nonlocal total
            for out in frames:
                arr = out.to_ndarray().reshape(-1)
                if arr.size:
                    chunks.append(arr)
                    total += arr.size
            if total > max_samples:
                raise AudioError.too_long(
                    max_seconds,
                    f"audio runs past the {max_seconds:g} s limit; decoding stopped there",
                )

        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    # One damaged packet should not cost the whole dictation.
                    bad_packets += 1
                    if bad_packets > 100 and total == 0:
                        break
                    continue
                for frame in frames:
                    key = (frame.format.name, frame.layout.name, frame.sample_rate)
                    if key != setup:
                        # AAC with SBR and some MP3s change rate or layout mid-stream.
                        if resampler is not None:
                            take(resampler.resample(None))
                        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
                        setup = key
                    frame.pts = None
                    take(resampler.resample(frame))
            if resampler is not None:
                take(resampler.resample(None))
        except AudioError:
            raise
        except (av.error.FFmpegError, ValueError) as exc:
            if total == 0:
                raise _open_failure(data, exc) from exc
            warnings.append(f"decoding stopped early: {exc}")

    if bad_packets:
        warnings.append(f"{bad_packets} damaged packet(s) skipped")
    if total == 0:
        if bad_packets:
            raise AudioError(
                "speech.corrupt_audio",
                "音频文件已损坏，无法读取。",
                f"{source_format}/{codec}: no packet could be decoded",
            )
        raise AudioError(
            "speech.empty_audio", "录音里没有声音数据。", f"{source_format}/{codec} has no samples"
        )
    samples = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    samples = np.nan_to_num(samples.astype(np.float32, copy=False), copy=False)
    np.clip(samples, -1.0, 1.0, out=samples)
    duration = total / SAMPLE_RATE
    if duration < min_seconds:
        raise AudioError(
            "speech.too_short",
            "说话时间太短。",
            f"{duration:.2f} s of audio is under the {min_seconds:g} s minimum",
        )
    return Audio(
        samples=samples,
        duration_s=duration,
        source_format=source_format,
        source_rate=source_rate,
        source_codec=codec,
        source_channels=source_channels,
        had_video=had_video,
        warnings=tuple(warnings),
    )
