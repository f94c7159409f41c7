"""Upload decoding: formats, EXIF orientation, downscaling and every kind of bad input."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFile

from ocr.image import HEIF_AVAILABLE, ImageError, decode_image, downscale, drop_red_ink


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _halves(w: int = 200, h: int = 100) -> Image.Image:
    """Left half red, right half blue: orientation shows in where the colours end up."""
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:, : w // 2] = (255, 0, 0)
    arr[:, w // 2 :] = (0, 0, 255)
    return Image.fromarray(arr)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size; its pixel data is nowhere near that."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _code(data: bytes, **kw) -> str:
    with pytest.raises(ImageError) as info:
        decode_image(data, **kw)
    err = info.value
    assert err.message and any("\u4e00" <= ch <= "\u9fff" for ch in err.message)
    return err.code


def test_jpeg_png_webp_decode_to_bgr():
    im = _halves()
    for fmt, kw in (("JPEG", {"quality": 95}), ("PNG", {}), ("WEBP", {"lossless": True})):
        out = decode_image(_encode(im, fmt, **kw))
        assert out.format == fmt
        assert out.bgr.shape == (100, 200, 3) and out.bgr.dtype == np.uint8
        assert out.bgr.flags["C_CONTIGUOUS"]
        # BGR order: the red left half has its high value in channel 2.
        assert out.bgr[50, 10, 2] > 200 and out.bgr[50, 10, 0] < 60
        assert out.bgr[50, 190, 0] > 200 and out.bgr[50, 190, 2] < 60
        assert out.original_size == (200, 100) and not out.exif_transposed


def test_transparent_png_is_put_on_white():
    im = Image.new("RGBA", (100, 80), (0, 0, 0, 0))
    out = decode_image(_encode(im, "PNG"))
    assert (out.bgr == 255).all()


def test_grey_and_palette_images_become_three_channels():
    assert decode_image(_encode(Image.new("L", (90, 90), 128), "PNG")).bgr.shape == (90, 90, 3)
    assert decode_image(_encode(Image.new("P", (90, 90), 3), "PNG")).bgr.shape == (90, 90, 3)


def test_heic_from_iphone():
    if not HEIF_AVAILABLE:
        pytest.skip("pillow-heif is not installed, so HEIC cannot be decoded here")
    try:
        data = _encode(_halves(), "HEIF", quality=90)
    except (OSError, KeyError, ValueError) as exc:  # an encoder-less libheif build
        pytest.skip(f"this pillow-heif build cannot encode HEIC to make a test file: {exc}")
    out = decode_image(data)
    assert out.format == "HEIF"
    assert out.bgr.shape == (100, 200, 3)
    assert out.bgr[50, 10, 2] > 200 and out.bgr[50, 190, 0] > 200


def test_exif_orientation_6_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways; display rotated 90 degrees clockwise
    out = decode_image(_encode(_halves(), "JPEG", quality=95, exif=exif))
    assert out.exif_transposed
    assert out.original_size == (200, 100)
    assert out.bgr.shape == (200, 100, 3)
    # Turning clockwise brings the left (red) half to the top.
    assert out.bgr[10, 50, 2] > 200 and out.bgr[10, 50, 0] < 60
    assert out.bgr[190, 50, 0] > 200 and out.bgr[190, 50, 2] < 60


def test_multi_picture_jpeg_decodes_as_jpeg():
    frames = [_halves(), Image.new("RGB", (200, 100), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, "MPO", save_all=True, append_images=frames[1:])
    out = decode_image(buf.getvalue())
    assert out.format == "JPEG" and out.bgr.shape == (100, 200, 3)


def test_draft_decoding_shrinks_large_jpegs():
    data = _encode(_halves(2400, 1800), "JPEG", quality=80)
    out = decode_image(data, draft_side=1000)
    assert out.original_size == (2400, 1800)
    assert 1000 <= max(out.bgr.shape[:2]) < 2400


def test_not_an_image():
    assert _code(b"hello, this is a text file\n" * 10) == "ocr.not_an_image"


def test_empty_upload():
    assert _code(b"") == "ocr.empty_upload"


def test_truncated_jpeg():
    data = _encode(
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)),
        "JPEG",
    )
    assert _code(data[: len(data) // 2]) == "ocr.truncated_image"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_one_pixel_image():
    assert _code(_encode(Image.new("RGB", (1, 1)), "PNG")) == "ocr.image_too_small"


def test_decompression_bomb_is_refused_from_the_header():
    data = _png_claiming(30000, 30000)
    assert len(data) < 200
    tracemalloc.start()
    started = time.perf_counter()
    try:
        assert _code(data) == "ocr.image_too_large"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 5_000_000  # no pixel buffer (2.7 GB) was ever allocated


def test_header_over_our_own_limit_below_pillows():
    # 8000 x 8000 = 64 MP passes Pillow's own check but not max_pixels.
    assert _code(_png_claiming(8000, 8000)) == "ocr.image_too_large"
    assert _code(_encode(Image.new("RGB", (300, 300)), "PNG"), max_pixels=10_000) == (
        "ocr.image_too_large"
    )


def test_animated_images():
    frames = [Image.new("RGB", (100, 100), c) for c in ((255, 0, 0), (0, 255, 0))]
    for fmt in ("GIF", "WEBP", "PNG"):
        buf = io.BytesIO()
        frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=100)
        assert _code(buf.getvalue()) == "ocr.animated_image", fmt


def test_single_frame_gif_is_fine():
    assert decode_image(_encode(Image.new("RGB", (100, 100), (9, 9, 9)), "GIF")).format == "GIF"


def test_pdf():
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    assert _code(pdf) == "ocr.pdf_not_supported"


def test_other_formats_are_unsupported():
    assert _code(_encode(Image.new("RGB", (100, 100)), "TIFF")) == "ocr.unsupported_image"
    assert _code(_encode(Image.new("RGB", (100, 100)), "BMP")) == "ocr.unsupported_image"
    assert _code(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>') == (
        "ocr.unsupported_image"
    )


def test_file_size_limit():
    assert _code(b"\xff\xd8" + b"\0" * 2000, max_bytes=1000) == "ocr.file_too_large"


def test_downscale_phone_photo():
    big = np.zeros((3000, 4000, 3), np.uint8)
    big[:, 2000:] = 255
    small, scale = downscale(big)
    assert small.shape == (1500, 2000, 3) and scale == 0.5
    # INTER_AREA averages: the boundary column is a blend, the rest keeps its value.
    assert small[0, 0, 0] == 0 and small[0, -1, 0] == 255


def test_downscale_leaves_small_images_alone():
    img = np.zeros((600, 800, 3), np.uint8)
    out, scale = downscale(img, max_side=2000)
    assert out is img and scale == 1.0
    out, scale = downscale(np.zeros((1000, 500, 3), np.uint8), max_side=400)
    assert out.shape == (400, 200, 3) and scale == pytest.approx(0.4)


def _stamped_page(paper=(214, 226, 236)):
    """A warm-lit page: black strokes, and a red seal ring crossing one of them as a
    translucent dye does (multiplied, so the stroke under it stays dark)."""
    page = np.empty((200, 300, 3), np.uint8)
    page[:] = paper
    page[90:110, 20:280] = (30, 30, 35)  # a black stroke across the page
    ink = np.zeros((200, 300), np.uint8)
    cv2.circle(ink, (150, 100), 60, 255, 8)
    alpha = ink[..., None] / 255.0 * 0.85
    red = np.array([48, 38, 205], np.float32) / 255.0  # BGR
    stamped = page * (1 - alpha * (1 - red))
    return page, np.clip(stamped + 0.5, 0, 255).astype(np.uint8), ink > 0


def test_drop_red_ink_fades_a_seal_and_keeps_black_print_under_it():
    page, stamped, ring = _stamped_page()
    out = drop_red_ink(stamped)
    grey = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY).astype(int)
    paper_grey = int(cv2.cvtColor(page[:1, :1], cv2.COLOR_BGR2GRAY)[0, 0])
    seal_only = ring.copy()
    seal_only[85:115] = False
    # The seal was far darker than the paper; now it is within a few grey levels of it.
    before = cv2.cvtColor(stamped, cv2.COLOR_BGR2GRAY).astype(int)
    assert paper_grey - before[seal_only].mean() > 40
    assert abs(grey[seal_only].mean() - paper_grey) < 8
    # The stroke stays black where the ring crosses it, and everywhere else.
    assert grey[95:105, 20:280].max() < 60
    # Pixels away from the seal are untouched.
    assert np.array_equal(out[:40, :40], stamped[:40, :40])


def test_drop_red_ink_leaves_a_page_without_red_alone():
    page, _, _ = _stamped_page(paper=(150, 200, 235))  # strong warm cast, no seal
    assert drop_red_ink(page) is page
