"""Identify uploads by their magic bytes and reject files whose content is not what they claim."""

from __future__ import annotations

import codecs
import re

from ledger.errors import UnsupportedMedia

# How many leading bytes callers should pass; every signature below fits well inside this.
HEAD_SIZE = 4096

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ALLOWED_UPLOAD_TYPES: frozenset[str] = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "image/heif",
        "audio/wav",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "audio/amr-wb",
        "audio/ogg",
        "audio/webm",
        "audio/flac",
        "video/3gpp",
        "application/pdf",
    }
)

_HEIC_BRANDS = frozenset({"heic", "heix", "hevc", "heim", "heis"})
_HEIF_BRANDS = frozenset({"mif1", "msf1", "heif"})
_MP4_AUDIO_BRANDS = frozenset({"M4A", "M4B", "isom", "mp41", "mp42", "dash"})

_DOCUMENT_TYPES = frozenset({"application/pdf", "application/zip", XLSX, "text/csv"})

# Phones label voice memos as video/3gpp or video/mp4 and browsers record audio into
# WebM/Matroska, so these containers must not trip the mismatch check either way.
_AUDIO_OR_VIDEO = frozenset({"video/3gpp", "audio/mp4", "audio/webm", "video/x-matroska"})

_EXTENSION_FAMILIES = {
    "jpg": "image",
    "jpeg": "image",
    "png": "image",
    "gif": "image",
    "webp": "image",
    "heic": "image",
    "heif": "image",
    "wav": "audio",
    "mp3": "audio",
    "m4a": "audio",
    "aac": "audio",
    "amr": "audio",
    "ogg": "audio",
    "opus": "audio",
    "flac": "audio",
    "webm": "video",
    "3gp": "video",
    "mp4": "video",
    "pdf": "document",
    "xlsx": "document",
    "csv": "document",
    "txt": "document",
}

_UNSUPPORTED_MESSAGE = "不支持的文件类型，请上传照片（JPG/PNG/HEIC）、录音或 PDF"
_MISMATCH_MESSAGE = "文件内容与文件名/类型不符，请重新选择文件"

# C0 controls other than the whitespace and form feed/escape that real text files contain.
_BINARY_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def _ftyp_brands(head: bytes) -> list[str]:
    """Major brand followed by the compatible brands of a leading ISO-BMFF ``ftyp`` box."""
    box_size = int.from_bytes(head[0:4], "big")
    # Size 0 ("to end of file") and 1 (64-bit size) are legal but never used for ftyp in
    # practice; fall back to scanning whatever we were given.
    end = min(box_size, len(head)) if box_size >= 16 else len(head)
    brands = [head[8:12]]
    brands += [head[i : i + 4] for i in range(16, end - 3, 4)]
    return [b.decode("latin-1").rstrip(" \x00") for b in brands if len(b) == 4]


def _sniff_ftyp(head: bytes) -> str | None:
    brands = _ftyp_brands(head)
    if not brands:
        return None
    # Image brands win over generic ISO ones: HEIF photos also list "mif1"/"iso8" etc.
    if any(b in _HEIC_BRANDS for b in brands):
        return "image/heic"
    if any(b in _HEIF_BRANDS for b in brands):
        return "image/heif"
    if any(b.startswith(("3gp", "3g2")) for b in brands):
        return "video/3gpp"
    if any(b in _MP4_AUDIO_BRANDS for b in brands):
        return "audio/mp4"
    return None


def _ebml_doctype(head: bytes) -> bytes | None:
    """DocType string of an EBML header (0x4282 element), if it lies within ``head``."""
    start = head.find(b"\x42\x82", 4)
    while start != -1 and start + 2 < len(head):
        first = head[start + 2]
        length_bytes = 8 - first.bit_length() + 1 if first else 0
        if 1 <= length_bytes <= 8:
            raw = head[start + 2 : start + 2 + length_bytes]
            size = int.from_bytes(raw, "big") & ((1 << (7 * length_bytes)) - 1)
            value_at = start + 2 + length_bytes
            if 0 < size <= 32:
                return head[value_at : value_at + size].rstrip(b"\x00")
        start = head.find(b"\x42\x82", start + 1)
    return None


def _is_mpeg_audio_frame(head: bytes) -> bool:
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0x03
    layer = (head[1] >> 1) & 0x03
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0x03
    # Reserved values rule out random bytes that merely start with 0xFFE.
    return version != 0b01 and layer != 0b00 and bitrate != 0x0F and sample_rate != 0b11


def sniff(head: bytes) -> str | None:
    """MIME type of a file judged from its first bytes (pass ``HEAD_SIZE``); None if unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and len(head) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav"}.get(head[8:12])
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    # ADTS shares the 0xFFF sync with MPEG audio but always has layer bits 00.
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "audio/aac"
    if _is_mpeg_audio_frame(head):
        return "audio/mpeg"
    if head.startswith(b"#!AMR-WB\n"):
        return "audio/amr-wb"
    if head.startswith(b"#!AMR\n"):
        return "audio/amr"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "audio/webm" if _ebml_doctype(head) == b"webm" else "video/x-matroska"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        # Best effort: the first entry names are visible in the head of a typical xlsx.
        if b"[Content_Types].xml" in head or b"xl/" in head:
            return XLSX
        return "application/zip"
    return None


def family(mime: str | None) -> str | None:
    """Coarse kind of a MIME type: "image", "audio", "video", "document" or None."""
    if not mime:
        return None
    mime = _normalise_type(mime)
    if mime in _DOCUMENT_TYPES or mime.startswith("text/"):
        return "document"
    major = mime.split("/", 1)[0]
    return major if major in ("image", "audio", "video") else None


def _families(mime: str) -> frozenset[str]:
    """Families a detected type may legitimately be declared as."""
    if mime in _AUDIO_OR_VIDEO:
        return frozenset({"audio", "video"})
    kind = family(mime)
    return frozenset({kind}) if kind else frozenset()


def _normalise_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _extension(filename: str | None) -> str | None:
    if not filename:
        return None
    # Browsers on Windows may send a full path; only the last component matters.
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    if "." not in name:
        return None
    return name.rsplit(".", 1)[1].strip().lower() or None


def guess_declared(filename: str | None, content_type: str | None) -> str | None:
    """Family the client claims for an upload: from the extension, else its content type."""
    ext = _extension(filename)
    if ext in _EXTENSION_FAMILIES:
        return _EXTENSION_FAMILIES[ext]
    if content_type:
        declared = _normalise_type(content_type)
        if declared and declared != "application/octet-stream":
            return family(declared)
    return None


def _looks_like_text(head: bytes) -> bool:
    if not head or _BINARY_CONTROL.search(head):
        return False
    # Excel on Chinese Windows saves CSV as GBK, so UTF-8 alone would miss most of them.
    for encoding in ("utf-8", "gb18030"):
        try:
            # An incremental decoder tolerates a multi-byte character cut off by the head.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return True
    return False


def check_upload(
    head: bytes,
    filename: str | None,
    declared_type: str | None,
    allowed: frozenset[str] | set[str] = ALLOWED_UPLOAD_TYPES,
    unsupported_message: str = _UNSUPPORTED_MESSAGE,
) -> str:
    """Sniffed MIME type of an upload, or ``UnsupportedMedia`` if it is unwanted or mislabelled."""
    detected = sniff(head)
    if detected is None and _looks_like_text(head):
        is_csv = _extension(filename) == "csv" or (
            declared_type is not None and _normalise_type(declared_type) == "text/csv"
        )
        detected = "text/csv" if is_csv else "text/plain"
    declared = guess_declared(filename, declared_type)
    details = {"detected": detected, "declared": declared}
    # A mislabelled file is reported as such even when its real type is also unsupported:
    # "this is not a photo" helps the user more than "we don't take text files".
    if detected is not None and declared is not None and declared not in _families(detected):
        raise UnsupportedMedia(_MISMATCH_MESSAGE, code="files.type_mismatch", details=details)
    if detected is None or detected not in allowed:
        raise UnsupportedMedia(unsupported_message, details=details)
    return detected


# Photos the OCR endpoints decode: no GIF (animated, palette) and no PDF.
IMAGE_UPLOAD_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"}
)

# Recordings the speech endpoint decodes: what phones, mini-programs and browsers save voice in.
AUDIO_UPLOAD_TYPES = frozenset(
    {t for t in ALLOWED_UPLOAD_TYPES if t.startswith("audio/")} | {"video/3gpp", "video/x-matroska"}
)
