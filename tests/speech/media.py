"""Test helpers: encode clips into phone formats with PyAV, synthesize speech, score CER."""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import io
import shutil
import struct
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
SPEECH_DATA = SHARED / "testdata" / "speech"

# (container format, codec, sample rate, extra codec options) for each upload format phones make.
ENCODINGS = {
    "mp3": ("mp3", "libmp3lame", 16000, {}),
    "m4a": ("ipod", "aac", 16000, {}),
    "amr-nb": ("amr", "libopencore_amrnb", 8000, {}),
    "ogg-opus": ("ogg", "libopus", 16000, {}),
    "webm-opus": ("webm", "libopus", 48000, {}),
    "3gp": ("3gp", "libopencore_amrnb", 8000, {}),
    "flac": ("flac", "flac", 16000, {}),
    "wav": ("wav", "pcm_s16le", 16000, {}),
}


def clips() -> list[tuple[Path, str]]:
    """(wav path, reference transcript) for every shared clip."""
    rows = []
    with open(SPEECH_DATA / "transcripts.tsv", encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if row and not row[0].startswith("#"):
                rows.append((SPEECH_DATA / row[0], row[1]))
    return rows


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        if w.getnchannels() > 1:
            pcm = pcm.reshape(-1, w.getnchannels()).mean(axis=1).astype(np.int16)
        return pcm, w.getframerate()


def wav_bytes(pcm: np.ndarray, rate: int, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(pcm, dtype="<i2").tobytes())
    return buf.getvalue()


def encode(pcm: np.ndarray, rate: int, kind: str) -> bytes:
    """Encode mono int16 PCM into one of ENCODINGS with PyAV (AMR-WB: see encode_amr_wb)."""
    import av

    if kind == "amr-wb":
        return encode_amr_wb(pcm, rate)
    fmt, codec, out_rate, options = ENCODINGS[kind]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=out_rate, options=options)
        stream.layout = "mono"
        if codec == "libopencore_amrnb":
            stream.bit_rate = 12200
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout="mono", rate=out_rate
        )
        frame_size = 4096
        pts = 0
        for start in range(0, len(pcm), frame_size):
            chunk = np.ascontiguousarray(pcm[start : start + frame_size], dtype=np.int16)
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = pts
            frame.time_base = Fraction(1, rate)
            pts += len(chunk)
            for f in resampler.resample(frame):
                for packet in stream.encode(f):
                    out.mux(packet)
        for f in resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def encode_amr_wb(pcm: np.ndarray, rate: int) -> bytes:
    """AMR-WB (RFC 4867 storage format) via libvo-amrwbenc: PyAV's wheel has no AMR-WB encoder."""
    from speech.audio import SAMPLE_RATE

    name = ctypes.util.find_library("vo-amrwbenc") or "libvo-amrwbenc.so.0"
    lib = ctypes.CDLL(name)
    lib.E_IF_init.restype = ctypes.c_void_p
    lib.E_IF_encode.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_short),
        ctypes.POINTER(ctypes.c_ubyte),
        ctypes.c_int,
    ]
    lib.E_IF_exit.argtypes = [ctypes.c_void_p]
    if rate != SAMPLE_RATE:
        raise ValueError("encode_amr_wb needs 16 kHz input")
    state = lib.E_IF_init()
    out = bytearray(b"#!AMR-WB\n")
    buf = (ctypes.c_ubyte * 500)()
    mode = 8  # 23.85 kbit/s, what Android's AMR-WB recorder uses at its best setting
    samples = np.ascontiguousarray(pcm, dtype=np.int16)
    pad = (-len(samples)) % 320
    samples = np.concatenate([samples, np.zeros(pad, dtype=np.int16)])
    try:
        for start in range(0, len(samples), 320):
            frame = np.ascontiguousarray(samples[start : start + 320])
            n = lib.E_IF_encode(
                state, mode, frame.ctypes.data_as(ctypes.POINTER(ctypes.c_short)), buf, 0
            )
            out += bytes(buf[:n])
    finally:
        lib.E_IF_exit(state)
    return bytes(out)


def have_amr_wb_encoder() -> bool:
    return (
        bool(ctypes.util.find_library("vo-amrwbenc"))
        or Path("/usr/lib/x86_64-linux-gnu/libvo-amrwbenc.so.0").exists()
    )


def video_bytes(
    seconds: float = 2.0, with_audio: bool = True, pcm: np.ndarray | None = None
) -> bytes:
    """A small mp4 with an H.264 (or MPEG-4) video track and optionally an AAC voice track."""
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        try:
            video = out.add_stream("libx264", rate=10)
        except (av.error.FFmpegError, ValueError):
            video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = None
        if with_audio:
            audio = out.add_stream("aac", rate=16000)
            audio.layout = "mono"
        for i in range(int(seconds * 10)):
            img = np.full((48, 64, 3), (i * 20) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if audio is not None:
            if pcm is None:
                pcm = np.sin(np.arange(int(seconds * 16000)) / 16000 * 2 * np.pi * 440) * 8000
                pcm = pcm.astype(np.int16)
            resampler = av.AudioResampler(format="fltp", layout="mono", rate=16000)
            pts = 0
            for start in range(0, len(pcm), 1024):
                chunk = np.ascontiguousarray(pcm[start : start + 1024]).reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
                frame.sample_rate = 16000
                frame.pts = pts
                pts += chunk.shape[1]
                for f in resampler.resample(frame):
                    for packet in audio.encode(f):
                        out.mux(packet)
            for packet in audio.encode(None):
                out.mux(packet)
    return buf.getvalue()


def espeak(text: str, voice: str) -> tuple[np.ndarray, int]:
    """Synthesize ``text`` with espeak-ng (apt package espeak-ng); returns int16 PCM and rate."""
    exe = shutil.which("espeak-ng")
    if not exe:
        raise FileNotFoundError("espeak-ng")
    out = subprocess.run(
        [exe, "-v", voice, "-s", "140", "--stdout", text], capture_output=True, check=True
    ).stdout
    with wave.open(io.BytesIO(_fix_stream_wav(out))) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


def _fix_stream_wav(data: bytes) -> bytes:
    # espeak-ng --stdout writes 0xFFFFFFFF sizes because it cannot seek; wave needs real ones.
    data = bytearray(data)
    struct.pack_into("<I", data, 4, len(data) - 8)
    pos = 12
    while pos + 8 <= len(data):
        cid = bytes(data[pos : pos + 4])
        (size,) = struct.unpack_from("<I", data, pos + 4)
        if cid == b"data":
            struct.pack_into("<I", data, pos + 4, len(data) - pos - 8)
            break
        pos += 8 + size
    return bytes(data)
