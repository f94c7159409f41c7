"""Decode uploaded photos safely into BGR arrays: format checks, size limits, EXIF orientation."""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageFile, ImageOps

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "HEIF_AVAILABLE",
    "DecodedImage",
    "ImageError",
    "decode_image",
    "downscale",
]

DEFAULT_MAX_PIXELS = 50_000_000
# Phones send 2–8 MB; anything far beyond that is not a single photo.
DEFAULT_MAX_BYTES = 40 * 1024 * 1024

try:  # iPhones shoot HEIC; the opener is optional so the library still works without it.
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_AVAILABLE = True
except ImportError:  # pragma: no cover - depends on the installation
    HEIF_AVAILABLE = False

# Pillow plugins allowed to parse uploads at all: fewer parsers, less attack surface.
# MPO is how Pillow names the multi-picture JPEGs many Android phones write.
Image.init()  # load every plugin once so the allow-list below can name them
_OPEN_FORMATS = [f for f in ("JPEG", "MPO", "PNG", "WEBP", "GIF", "HEIF") if f in Image.OPEN]

MESSAGES = {
    "ocr.empty_upload": "没有收到图片，请重新拍摄或选择照片",
    "ocr.file_too_large": "图片文件过大，请重新拍摄或压缩后上传",
    "ocr.not_an_image": "无法识别该文件，请上传证件照片（JPG、PNG 或 HEIC 格式）",
    "ocr.pdf_not_supported": "暂不支持 PDF 文件，请直接拍摄证件照片上传",
    "ocr.unsupported_image": "不支持该图片格式，请上传 JPG、PNG、WebP 或 HEIC 格式的照片",
    "ocr.animated_image": "不支持动图，请上传一张静态的证件照片",
    "ocr.truncated_image": "图片已损坏或未上传完整，请重新拍摄",
    "ocr.image_too_small": "图片太小，无法识别，请靠近证件重新拍摄",
    "ocr.image_too_large": "图片尺寸过大，请使用手机相机正常拍摄后上传",
}

# Magic numbers of files people pick by mistake, so they get a specific message.
_UNSUPPORTED_MAGIC = (
    b"II*\x00",  # TIFF
    b"MM\x00*",  # TIFF
    b"BM",  # BMP
    b"8BPS",  # Photoshop
    b"\x00\x00\x01\x00",  # ICO
)


class ImageError(Exception):
    """An upload that cannot be used as a photo; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.message = MESSAGES[code]
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass
class DecodedImage:
    """A decoded photo, upright per EXIF, as contiguous BGR uint8."""

    bgr: np.ndarray
    format: str
    original_size: tuple[int, int]  # (width, height) as stored in the file, before EXIF rotation
    exif_transposed: bool


def _sniff(data: bytes) -> None:
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF"):
        raise ImageError("ocr.pdf_not_supported")
    if data.startswith(_UNSUPPORTED_MAGIC):
        raise ImageError("ocr.unsupported_image", "format outside the allow-list")
    lowered = head[:256].lower()
    if lowered.startswith((b"<?xml", b"<svg")) and b"<svg" in lowered:
        raise ImageError("ocr.unsupported_image", "svg")
    # HEIF without pillow-heif: say which format rather than "not an image".
    brand = data[8:12] if data[4:8] == b"ftyp" else b""
    if not HEIF_AVAILABLE and brand in (b"heic", b"heix", b"mif1", b"msf1", b"heim"):
        raise ImageError("ocr.unsupported_image", "HEIF decoder not installed")


def _frame_count(im: Image.Image) -> int:
    return int(getattr(im, "n_frames", 1) or 1)


def _to_rgb(im: Image.Image) -> Image.Image:
    transparent = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    if transparent:
        # Screenshots with alpha would turn black where transparent; put them on white.
        rgba = im.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit PNGs: scale to 8 bits instead of clipping everything to white.
        arr = np.clip(np.asarray(im, dtype=np.int64) >> 8, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    return im.convert("RGB") if im.mode != "RGB" else im


def decode_image(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = 64,
    max_bytes: int = DEFAULT_MAX_BYTES,
    draft_side: int | None = None,
) -> DecodedImage:
    """Decode an uploaded photo, checking the header's dimensions before any pixel is loaded.

    ``draft_side``: if set, JPEGs are decoded with DCT scaling (1/2, 1/4, 1/8) to a long side
    of at least this many pixels — several times faster for 12-megapixel phone photos when the
    caller will downscale anyway. Raises ``ImageError`` for anything that is not a usable photo.
    """
    if not data:
        raise ImageError("ocr.empty_upload")
    if len(data) > max_bytes:
        raise ImageError("ocr.file_too_large", f"{len(data)} bytes")
    _sniff(data)
    # Image.open reads the header only. Pillow refuses more than 2 * MAX_IMAGE_PIXELS itself;
    # below that our own max_pixels check applies. (No warnings.catch_warnings here: it
    # changes process-wide state and is not thread-safe under a threaded server.)
    try:
        im = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except Image.DecompressionBombError as exc:
        raise ImageError("ocr.image_too_large", str(exc)) from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageError("ocr.not_an_image") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # The header itself is damaged (a cut-off PNG signature, a bad chunk, ...).
        raise ImageError("ocr.truncated_image", str(exc)) from exc
    with im:
        return _decode_opened(im, max_pixels, min_side, draft_side)


def _decode_opened(
    im: Image.Image, max_pixels: int, min_side: int, draft_side: int | None
) -> DecodedImage:
    fmt = "JPEG" if im.format == "MPO" else str(im.format)
    width, height = im.size
    # Both checks use the header only: a bomb is refused before a pixel buffer exists.
    if width * height > max_pixels:
        raise ImageError("ocr.image_too_large", f"{width}x{height}")
    if min(width, height) < min_side:
        raise ImageError("ocr.image_too_small", f"{width}x{height}")
    # Multi-picture JPEGs (depth maps, previews) and HEIF containers hold extra images that
    # are not animation; GIF, WebP and APNG with several frames are.
    if fmt in ("GIF", "WEBP", "PNG") and _frame_count(im) > 1:
        raise ImageError("ocr.animated_image", f"{_frame_count(im)} frames")
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # pragma: no cover - someone changed a global
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on; truncation would pass")
    if draft_side and fmt == "JPEG" and max(width, height) > draft_side:
        scale = draft_side / max(width, height)
        im.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
    try:
        im.load()
        orientation = _orientation(im)
        upright = ImageOps.exif_transpose(im) if orientation not in (0, 1) else im
        rgb = _to_rgb(upright)
        arr = np.asarray(rgb)
    except Image.DecompressionBombError as exc:
        raise ImageError("ocr.image_too_large", str(exc)) from exc
    except MemoryError as exc:
        raise ImageError("ocr.image_too_large", "out of memory") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        # Pillow reports truncated and corrupt data as any of these, depending on the codec.
        raise ImageError("ocr.truncated_image", str(exc)) from exc
    if arr.ndim != 3 or arr.shape[2] != 3:  # pragma: no cover - _to_rgb guarantees RGB
        raise ImageError("ocr.unsupported_image", f"mode {rgb.mode}")
    bgr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    return DecodedImage(
        bgr=bgr,
        format=fmt,
        original_size=(width, height),
        exif_transposed=orientation not in (0, 1),
    )


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
        return int(value) if int(value) in range(1, 9) else 1
    except (OSError, SyntaxError, ValueError, TypeError, KeyError):
        # Broken EXIF should not cost the photo: keep it as stored.
        return 1


def downscale(bgr: np.ndarray, max_side: int = 2000) -> tuple[np.ndarray, float]:
    """Shrink so the long side is at most ``max_side``; returns the image and the scale used.

    INTER_AREA averages source pixels, so thin strokes survive instead of aliasing away.
    """
    h, w = bgr.shape[:2]
    long_side = max(h, w)
    if long_side <= max_side:
        return bgr, 1.0
    scale = max_side / long_side
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), scale


def drop_red_ink(bgr: np.ndarray, margin: int = 24) -> np.ndarray:
    """The photo with red ink (seals, chops) faded into the paper and black print kept.

    Household-register seals are stamped across the values they certify, and the text
    detector loses black characters under red ones. Black print is dark in the red channel
    while a seal is light there, so red pixels take their red value, lifted by how red they
    are up to the paper around them, in the paper's tint. Redness is judged after white
    balance, or warm lamp light would count the whole page as red ink."""
    paper = np.percentile(bgr[::4, ::4].reshape(-1, 3), 90, axis=0).clip(1, None)
    gain = paper.max() / paper
    levels = np.arange(256, dtype=np.float32)
    b, g, r = (
        cv2.LUT(channel, np.clip(levels * level_gain, 0, 255).astype(np.uint8))
        for channel, level_gain in zip(cv2.split(bgr), gain, strict=True)
    )
    redness = cv2.subtract(r, cv2.max(g, b))
    red = (redness > margin).astype(np.uint8)
    if not red.any():
        return bgr
    # JPEG keeps colour at half resolution, so a seal's stroke edges are barely red: widen the
    # mask. In the red channel paper and seal are both light, so the edges fade too.
    red = cv2.dilate(red, np.ones((5, 5), np.uint8)).astype(bool)
    paper_near = cv2.dilate(cv2.max(cv2.max(b, g), r), np.ones((9, 9), np.uint8))
    lifted = cv2.min(cv2.add(r, redness), paper_near)
    out = bgr.copy()
    # Back from the balanced grey to the photo's own paper tint, so the seal leaves no patch.
    out[red] = np.clip(lifted[red][:, None] / gain[None, :], 0, 255).astype(np.uint8)
    return out
