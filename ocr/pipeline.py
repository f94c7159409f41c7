"""From photo bytes to a checked document: decode, locate, rectify, OCR, classify, parse, check."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import cv2
import numpy as np

from ocr.engine import OcrEngine, TextLine, get_engine

ID_CARD_TYPES = ("id_card_front", "id_card_back")
REGISTER_TYPES = ("household_register_home", "household_register_member")
SIDE_NAMES = {"id_card_front": "人像面", "id_card_back": "国徽面"}

MESSAGES = {
    "rotated": "照片方向已自动校正，下次请横平竖直地拍摄",
    "not_a_document": "没有识别到证件，请把证件平放在深色桌面上，对准后重新拍摄",
    "wrong_side": "拍到的是身份证{actual}，请翻面后拍摄{expected}",
}

# Lines that open each document: upright, they sit in the top half of the crop.
TOP_ANCHORS = {
    "id_card_front": ("姓名", "性别", "民族"),
    "id_card_back": ("中华人民共和国", "居民身份证"),
    "household_register_home": ("户别", "户主姓名", "户号"),
    "household_register_member": ("常住人口登记卡", "姓名", "户主或与户主关系"),
}

# Heavy matrix work already uses every core; more concurrent OCR calls per process only thrash.
_slots = threading.BoundedSemaphore(max(1, int(os.environ.get("WANGGE_OCR_CONCURRENCY", "1"))))


@dataclass
class ScanResult:
    document_type: str | None
    fields: dict[str, Any]
    field_confidence: dict[str, float]
    checks: dict[str, Any]
    warnings: list[dict[str, str]]
    crop: np.ndarray
    portrait: np.ndarray | None
    lines: list[TextLine]
    engine: str
    timing_ms: dict[str, float] = field(default_factory=dict)


def recognize(engine: OcrEngine, image: np.ndarray, *, framed: bool = False):
    with _slots:
        return engine.recognize(image, framed=framed)


def _warning(code: str, **fmt: str) -> dict[str, str]:
    message = MESSAGES.get(code, code)
    return {"code": code, "message": message.format(**fmt) if fmt else message}


def _rotate_lines_180(lines: list[TextLine], shape: tuple[int, ...]) -> list[TextLine]:
    """Map boxes into the upright crop; the recogniser already read each line the right way."""
    height, width = shape[:2]
    turned = []
    for line in lines:
        box = [[width - x, height - y] for x, y in line.box]
        # Keep the corner order TL, TR, BR, BL for the upright line.
        box = box[2:] + box[:2]
        turned.append(TextLine(text=line.text, box=box, confidence=line.confidence))
    turned.sort(key=lambda ln: (round(ln.cy / 8), ln.cx))
    return turned


def _upside_down(document_type: str | None, lines: list[TextLine], height: int) -> bool:
    anchors = TOP_ANCHORS.get(document_type or "", ())
    votes = [line.cy > height / 2 for line in lines if any(a in line.text for a in anchors)]
    return bool(votes) and sum(votes) > len(votes) / 2


def _normalise(lines: list[TextLine]) -> list[TextLine]:
    from ocr.text import normalize

    out = []
    for line in lines:
        text = normalize(line.text)
        if text:
            out.append(TextLine(text=text, box=line.box, confidence=line.confidence))
    return out


def portrait_crop(card: np.ndarray) -> np.ndarray:
    """The photo area of an upright ID card front (right third, upper three quarters)."""
    height, width = card.shape[:2]
    return card[int(height * 0.10) : int(height * 0.80), int(width * 0.62) : int(width * 0.94)]


def scan(
    data: bytes,
    *,
    expect: str,
    side: str | None = None,
    today: date | None = None,
    engine: OcrEngine | None = None,
) -> ScanResult:
    """Read a photo of an ID card (``expect="id_card"``) or a household-register page."""
    from ocr.document import Located, locate_document, rectify_mapped
    from ocr.image import decode_image, downscale
    from ocr.parsers import extract
    from ocr.quality import assess

    engine = engine or get_engine()
    today = today or date.today()
    timing: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timing[name] = round((now - since) * 1000, 1)
        return now

    decoded = decode_image(data)
    image, _scale = downscale(decoded.bgr, max_side=2000)
    t = lap("decode", started)

    is_card = expect == "id_card"
    wanted = ID_CARD_TYPES if is_card else REGISTER_TYPES
    located = locate_document(image, "card" if is_card else "page")
    if located.quad is not None:
        crop, to_crop = rectify_mapped(image, located.quad, long_side=1000 if is_card else 1400)
    else:
        crop, scale = downscale(image, max_side=1280)
        to_crop = _scaling(scale)
    t = lap("locate", t)

    read = _read(engine, crop, framed=located.quad is not None, wanted=wanted, timing=timing)
    if read.document_type is None and located.quad is not None:
        # The outline found was not the document (a pale card on pale paper can lose its
        # edges to the portrait's): read the whole photo instead.
        whole, scale = downscale(image, max_side=1280)
        again = _read(engine, whole, framed=False, wanted=wanted, timing=timing, stage="whole")
        if again.document_type is not None:
            read, to_crop = again, _scaling(scale)
            located = Located(None, 0.0, False, 0.0, "lost")
    if read.document_type == "id_card_front":
        read, located = _place_card(engine, image, read, to_crop, located, wanted, timing)
    crop, lines, document_type = read.crop, read.lines, read.document_type
    t = lap("read", t)

    warnings: list[dict[str, str]] = []
    if read.rotated:
        warnings.append(_warning("rotated"))

    fields: dict[str, Any] = {}
    confidence: dict[str, float] = {}
    checks: dict[str, Any] = {}
    if document_type is None:
        warnings.append(_warning("not_a_document"))
    else:
        if is_card and side and document_type != f"id_card_{side}":
            warnings.append(
                _warning(
                    "wrong_side",
                    actual=SIDE_NAMES[document_type],
                    expected=SIDE_NAMES[f"id_card_{side}"],
                )
            )
        extracted = extract(lines, document_type, today=today)
        fields, confidence, checks = (
            extracted.fields,
            extracted.field_confidence,
            extracted.checks,
        )
        warnings.extend({"code": code, "message": message} for code, message in extracted.warnings)
    t = lap("parse", t)

    for w in assess(image, located):
        warnings.append({"code": w.code, "message": w.message})
    lap("quality", t)
    timing["total"] = round((time.perf_counter() - started) * 1000, 1)

    portrait = portrait_crop(crop) if document_type == "id_card_front" else None
    return ScanResult(
        document_type=document_type,
        fields=fields,
        field_confidence=confidence,
        checks=checks,
        warnings=_dedupe(warnings),
        crop=crop,
        portrait=portrait,
        lines=lines,
        engine=engine.name,
        timing_ms=timing,
    )


def read_text(data: bytes, *, engine: OcrEngine | None = None) -> tuple[list[TextLine], dict]:
    """Plain text lines of any photo, for things that are not ID documents."""
    from ocr.image import decode_image, downscale

    engine = engine or get_engine()
    decoded = decode_image(data)
    image, scale = downscale(decoded.bgr, max_side=1600)
    result = recognize(engine, image)
    # Report boxes in the coordinates of the photo as uploaded.
    lines = [
        TextLine(
            text=line.text,
            box=[[x / scale, y / scale] for x, y in line.box],
            confidence=line.confidence,
        )
        for line in result.lines
    ]
    return lines, result.timing_ms


@dataclass
class _Read:
    """One document read: the crop as finally turned, its lines, and what it was taken for.

    ``transform`` maps the pixels of the crop that was passed in to those of ``crop``."""

    crop: np.ndarray
    lines: list[TextLine]
    document_type: str | None
    rotated: bool
    transform: np.ndarray


def _read(
    engine: OcrEngine,
    crop: np.ndarray,
    *,
    framed: bool,
    wanted: tuple[str, ...],
    timing: dict[str, float],
    stage: str = "",
) -> _Read:
    """OCR a crop, turn it upright (90, 180, 270 degrees) and classify it among ``wanted``."""
    from ocr.document import orient_by_text
    from ocr.image import drop_red_ink
    from ocr.parsers import classify

    # Register pages carry red seals over their values; cards have none worth the time.
    seals = wanted == REGISTER_TYPES

    def ocr(image: np.ndarray):
        return recognize(engine, drop_red_ink(image) if seals else image, framed=framed)

    prefix = f"{stage}_" if stage else ""
    started = time.perf_counter()
    transform = np.eye(3)
    result = ocr(crop)
    lines = _normalise(result.lines)
    for key, value in result.timing_ms.items():
        timing[f"{prefix}ocr_{key}"] = value
    rotated = False
    turn = orient_by_text(lines, crop.shape)
    if turn in (90, 270):
        # Sideways text cannot be read line by line: turn the crop and read it again.
        k = 1 if turn == 90 else 3
        transform = _rot90_matrix(crop.shape, k) @ transform
        crop = np.ascontiguousarray(np.rot90(crop, k=k))
        lines = _normalise(ocr(crop).lines)
        rotated = True
    # Only the kinds this endpoint expects: a poorly read page must not pass for another kind.
    document_type, _score = classify(lines, among=wanted)
    if document_type is None and lines:
        # Engines without a 180° line classifier (paddleocr) read an upside-down page as
        # noise; one more pass on the turned crop settles it.
        flipped = np.ascontiguousarray(cv2.rotate(crop, cv2.ROTATE_180))
        flipped_lines = _normalise(ocr(flipped).lines)
        flipped_type, _score = classify(flipped_lines, among=wanted)
        if flipped_type is not None:
            transform = _rot180_matrix(crop.shape) @ transform
            crop, lines, document_type, rotated = flipped, flipped_lines, flipped_type, True
    if _upside_down(document_type, lines, crop.shape[0]):
        transform = _rot180_matrix(crop.shape) @ transform
        crop = np.ascontiguousarray(cv2.rotate(crop, cv2.ROTATE_180))
        lines = _rotate_lines_180(lines, crop.shape)
        rotated = True
    timing[f"{prefix}read"] = round((time.perf_counter() - started) * 1000, 1)
    return _Read(crop, lines, document_type, rotated, transform)


def _place_card(engine, image, read, to_crop, located, wanted, timing):
    """Check the card's outline against its printed labels; re-cut the card where they disagree.

    Without an outline, or with a wrong one (a shadow edge across the card, the portrait's
    silhouette), the labels place the card, so the crop, the portrait and the quality
    warnings are about the card and not the desk. Returns the (possibly new) read and outline.
    """
    from ocr.document import card_quad_from_labels, rectify_mapped

    quad = card_quad_from_labels(read.lines)
    if quad is None:
        return read, located
    height, width = read.crop.shape[:2]
    frame = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    if located.quad is not None and np.abs(quad - frame).max() <= 0.06 * width:
        return read, located
    to_image = np.linalg.inv(read.transform @ to_crop)
    image_quad = cv2.perspectiveTransform(_grow(quad, 0.02)[None], to_image)[0]
    card, _ = rectify_mapped(image, image_quad, long_side=1000, ordered=True)
    flat = _read(engine, card, framed=True, wanted=wanted, timing=timing, stage="card")
    if flat.document_type != "id_card_front":
        return read, located
    flat.rotated |= read.rotated
    return flat, _located_from_text(image_quad, image.shape)


def _scaling(scale: float) -> np.ndarray:
    return np.diag([scale, scale, 1.0])


def _rot90_matrix(shape: tuple[int, ...], k: int) -> np.ndarray:
    """Pixel map of ``np.rot90(image, k)`` (k=1: counter-clockwise, k=3: clockwise)."""
    height, width = shape[:2]
    if k == 1:
        return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, width], [0.0, 0.0, 1.0]])
    return np.array([[0.0, -1.0, height], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def _rot180_matrix(shape: tuple[int, ...]) -> np.ndarray:
    height, width = shape[:2]
    return np.array([[-1.0, 0.0, width], [0.0, -1.0, height], [0.0, 0.0, 1.0]])


def _grow(quad: np.ndarray, margin: float) -> np.ndarray:
    """The quad pushed outwards from its centre by ``margin`` of its size."""
    centre = quad.mean(axis=0)
    return (centre + (quad - centre) * (1 + 2 * margin)).astype(np.float32)


def _located_from_text(quad: np.ndarray, shape: tuple[int, ...]):
    from ocr.document import Located, _touches_border

    height, width = shape[:2]
    area = abs(float(cv2.contourArea(quad.astype(np.float32))))
    return Located(
        quad=quad.astype(np.float32),
        area_ratio=area / float(width * height),
        touches_border=_touches_border(quad, width, height),
        confidence=0.5,
        method="text-labels",
    )


def _dedupe(warnings: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: set[str] = set()
    out = []
    for w in warnings:
        if w["code"] not in seen:
            seen.add(w["code"])
            out.append(w)
    return out


def encode_jpeg(image: np.ndarray, quality: int = 88) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()
