"""Tests for magic-byte sniffing and the upload type/mismatch check."""

from __future__ import annotations

import io
import struct
import wave
import zipfile
import zlib

import pytest

from ledger.errors import LedgerError, UnsupportedMedia
from ledger.files.sniff import (
    ALLOWED_UPLOAD_TYPES,
    XLSX,
    check_upload,
    family,
    guess_declared,
    sniff,
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def make_png(width: int = 2, height: int = 2) -> bytes:
    """A complete, valid RGB PNG built with the stdlib only."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


# SOI + JFIF APP0 segment + start of a quantisation table: what every camera JPEG begins with.
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    b"\xff\xdb\x00\x43\x00" + bytes(range(64)) + b"\xff\xd9"
)


def make_wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 800)
    return buf.getvalue()


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    payload = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(payload)) + b"ftyp" + payload + b"\x00\x00\x00\x08free"


def make_zip(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            zf.writestr(name, "<x/>")
    return buf.getvalue()


PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
TEXT = "居民名单\n张三,3 号楼 201\n李四,5 号楼 102\n".encode()
WEBM = (
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04"
    b"\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02"
)
MKV = WEBM.replace(b"\x84webm", b"\x88matroska").replace(b"\x9f", b"\xa3", 1)


SAMPLES = {
    "png": (make_png(), "image/png"),
    "jpeg": (JPEG, "image/jpeg"),
    "gif": (b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "image/gif"),
    "webp": (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    "wav": (make_wav(), "audio/wav"),
    "heic": (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
    "heic-compatible": (ftyp(b"mif1", b"heic", b"miaf"), "image/heic"),
    "heif": (ftyp(b"mif1", b"mif1", b"miaf"), "image/heif"),
    "m4a": (ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4"),
    "mp4-isom": (ftyp(b"isom", b"isom", b"iso2", b"mp41"), "audio/mp4"),
    "dash": (ftyp(b"dash", b"iso6", b"mp41"), "audio/mp4"),
    "3gp": (ftyp(b"3gp4", b"isom", b"3gp4"), "video/3gpp"),
    "3g2": (ftyp(b"3g2a", b"3g2a"), "video/3gpp"),
    "id3": (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
    "mp3-frame": (b"\xff\xfb\x90\x44\x00\x00", "audio/mpeg"),
    "mp2-frame": (b"\xff\xf3\x48\xc4\x00", "audio/mpeg"),
    "adts": (b"\xff\xf1\x50\x80\x02\x1f\xfc", "audio/aac"),
    "adts-mpeg2": (b"\xff\xf9\x50\x80\x02\x1f\xfc", "audio/aac"),
    "amr": (b"#!AMR\n\x3c\x48", "audio/amr"),
    "amr-wb": (b"#!AMR-WB\n\x24", "audio/amr-wb"),
    "ogg": (b"OggS\x00\x02" + bytes(20), "audio/ogg"),
    "webm": (WEBM, "audio/webm"),
    "matroska": (MKV, "video/x-matroska"),
    "flac": (b"fLaC\x00\x00\x00\x22", "audio/flac"),
    "pdf": (PDF, "application/pdf"),
    "zip": (make_zip("notes/a.txt"), "application/zip"),
    "xlsx": (make_zip("[Content_Types].xml", "xl/workbook.xml"), XLSX),
}


@pytest.mark.parametrize(("data", "expected"), SAMPLES.values(), ids=SAMPLES.keys())
def test_sniff_known_types(data: bytes, expected: str) -> None:
    assert sniff(data[:4096]) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        TEXT,
        b"hello world\n",
        b"<html><body>hi</body></html>",
        b"\x00\x01\x02\x03" * 20,
        ftyp(b"qt  ", b"qt  "),  # QuickTime movie: not something we recognise
        ftyp(b"avif", b"avif", b"mif2"),
        b"\xff\xe0\x00\x00",  # 0xFFE sync but reserved layer bits
        b"\xff\xfb\xf0\x00",  # 0xFFE sync but a "bad" bitrate index
        b"RIFF\x24\x00\x00\x00AVI LIST",
    ],
)
def test_sniff_unknown_is_none(data: bytes) -> None:
    assert sniff(data) is None


@pytest.mark.parametrize("name", SAMPLES.keys())
def test_sniff_never_crashes_on_truncated_heads(name: str) -> None:
    data = SAMPLES[name][0]
    for cut in range(len(data) + 1):
        result = sniff(data[:cut])
        assert result is None or isinstance(result, str)


def test_jpeg_is_not_mistaken_for_mpeg_audio() -> None:
    # FF D8 looks like an MPEG sync to a sloppy check; the JPEG rule must win.
    assert sniff(b"\xff\xd8\xff\xdb\x00\x43") == "image/jpeg"


@pytest.mark.parametrize(
    ("mime", "expected"),
    [
        ("image/jpeg", "image"),
        ("image/heic", "image"),
        ("audio/amr", "audio"),
        ("audio/mp4", "audio"),
        ("video/3gpp", "video"),
        ("video/mp4", "video"),
        ("application/pdf", "document"),
        ("application/zip", "document"),
        (XLSX, "document"),
        ("text/csv", "document"),
        ("text/plain; charset=utf-8", "document"),
        ("application/json", None),
        ("application/octet-stream", None),
        ("", None),
        (None, None),
    ],
)
def test_family(mime: str | None, expected: str | None) -> None:
    assert family(mime) == expected


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [
        ("photo.jpg", None, "image"),
        ("IMG_0001.HEIC", "application/octet-stream", "image"),
        ("录音 2024-05-01.m4a", "audio/x-m4a", "audio"),
        ("voice.amr", None, "audio"),
        ("voice.opus", None, "audio"),
        ("clip.3gp", None, "video"),
        ("rec.mp4", None, "video"),
        ("rec.webm", None, "video"),
        ("名单.xlsx", None, "document"),
        ("名单.csv", None, "document"),
        ("scan.PDF", None, "document"),
        (r"C:\Users\张三\Desktop\photo.png", None, "image"),
        # The extension wins over a (possibly wrong) declared type.
        ("photo.jpg", "application/pdf", "image"),
        # Unknown or missing extensions fall back to the declared type.
        ("blob", "image/png; charset=binary", "image"),
        ("upload.bin", "audio/amr", "audio"),
        (None, "video/3gpp", "video"),
        (None, "application/octet-stream", None),
        ("", "", None),
        (None, None, None),
        ("archive.tar.gz", None, None),
    ],
)
def test_guess_declared(
    filename: str | None, content_type: str | None, expected: str | None
) -> None:
    assert guess_declared(filename, content_type) == expected


@pytest.mark.parametrize(
    ("data", "filename", "declared", "expected"),
    [
        (make_png(), "photo.png", "image/png", "image/png"),
        (JPEG, "IMG_1234.JPG", "image/jpeg", "image/jpeg"),
        (JPEG, None, None, "image/jpeg"),
        (make_wav(), "录音.wav", None, "audio/wav"),
        (PDF, "通知.pdf", "application/pdf", "application/pdf"),
        (ftyp(b"heic", b"mif1", b"heic"), "IMG.HEIC", None, "image/heic"),
        # Phones label voice recordings as video.
        (ftyp(b"3gp4", b"isom", b"3gp4"), "voice.3gp", "video/3gpp", "video/3gpp"),
        (ftyp(b"M4A ", b"M4A ", b"mp42"), "voice.mp4", "video/mp4", "audio/mp4"),
        (ftyp(b"3gp4", b"3gp4"), "voice.amr", None, "video/3gpp"),
        (WEBM, "rec.webm", "video/webm", "audio/webm"),
        (WEBM, "rec.ogg", "audio/ogg", "audio/webm"),
        (b"#!AMR\n\x3c", "voice", "application/octet-stream", "audio/amr"),
    ],
)
def test_check_upload_accepts(
    data: bytes, filename: str | None, declared: str | None, expected: str
) -> None:
    assert check_upload(data[:4096], filename, declared) == expected


@pytest.mark.parametrize(
    ("data", "filename", "declared"),
    [
        (TEXT, "photo.jpg", "image/jpeg"),
        (b"just some notes", None, "image/png"),
        (PDF, "song.mp3", "audio/mpeg"),
        (make_png(), "report.pdf", None),
        (make_wav(), "photo.jpeg", None),
        (JPEG, "voice.amr", None),
        (make_zip("a.txt"), "picture.png", None),
    ],
)
def test_check_upload_rejects_mismatch(
    data: bytes, filename: str | None, declared: str | None
) -> None:
    with pytest.raises(UnsupportedMedia) as info:
        check_upload(data[:4096], filename, declared)
    err = info.value
    assert isinstance(err, LedgerError)
    assert err.code == "files.type_mismatch"
    assert err.message == "文件内容与文件名/类型不符，请重新选择文件"
    assert set(err.details) == {"detected", "declared"}


@pytest.mark.parametrize(
    ("data", "filename", "declared", "detected"),
    [
        (SAMPLES["gif"][0], "anim.gif", "image/gif", "image/gif"),
        (make_zip("a.txt"), "stuff.zip", "application/zip", "application/zip"),
        (SAMPLES["xlsx"][0], "名单.xlsx", None, XLSX),
        (SAMPLES["matroska"][0], "movie.mkv", None, "video/x-matroska"),
        (TEXT, "notes.txt", "text/plain", "text/plain"),
        (TEXT, "名单.csv", None, "text/csv"),
        (b"\x00\x01\x02\x03" * 20, "photo.jpg", "image/jpeg", None),
        (b"\x00\x01\x02\x03" * 20, None, None, None),
        (b"", "empty.png", "image/png", None),
    ],
)
def test_check_upload_rejects_unsupported(
    data: bytes, filename: str | None, declared: str | None, detected: str | None
) -> None:
    with pytest.raises(UnsupportedMedia) as info:
        check_upload(data[:4096], filename, declared)
    err = info.value
    assert err.code == "files.unsupported_type"
    assert err.message == "不支持的文件类型，请上传照片（JPG/PNG/HEIC）、录音或 PDF"
    assert err.details["detected"] == detected


def test_check_upload_details_name_both_sides() -> None:
    with pytest.raises(UnsupportedMedia) as info:
        check_upload(PDF, "song.mp3", None)
    assert info.value.details == {"detected": "application/pdf", "declared": "audio"}


def test_check_upload_custom_allowed_types() -> None:
    xlsx = SAMPLES["xlsx"][0]
    assert check_upload(xlsx, "名单.xlsx", None, allowed=frozenset({XLSX})) == XLSX
    assert check_upload(TEXT, "名单.csv", "text/csv", allowed={"text/csv"}) == "text/csv"
    with pytest.raises(UnsupportedMedia):
        check_upload(make_png(), "photo.png", None, allowed=frozenset({XLSX}))


def test_allowed_upload_types() -> None:
    assert "image/gif" not in ALLOWED_UPLOAD_TYPES
    assert "application/zip" not in ALLOWED_UPLOAD_TYPES
    assert {"image/jpeg", "image/heic", "audio/amr", "video/3gpp", "application/pdf"} <= (
        ALLOWED_UPLOAD_TYPES
    )
    assert all(isinstance(t, str) and "/" in t for t in ALLOWED_UPLOAD_TYPES)
