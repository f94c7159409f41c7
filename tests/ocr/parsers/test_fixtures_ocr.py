"""Real OCR on the committed fixture photos: classification and per-field exact-match rates.

Until ``ocr/document.py`` lands, each photo is cropped with its ground-truth corners (a perfect
document locator); the upside-down ID card photos are also read uncropped, as the engine sees
them (a register page that small in an uncropped photo is beyond the engine).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr.parsers import FIELDS, classify, extract

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ocr"
ID_WARNINGS = {"checksum_failed", "id_number_corrected", "id_number_missing"}

# Per-field exact-match share over the legible fixtures of each kind, set a little below what the
# parsers reach with rapidocr 3.10.0 (PP-OCRv6 small) so a regression fails but engine noise
# does not.
# Reached when written: front 35/36, back 24/24, home 27/30, member 89/105.
MIN_FIELD_RATE = {
    "id_card_front": 0.9,
    "id_card_back": 0.95,
    "household_register_home": 0.83,
    "household_register_member": 0.78,
}


def crop(image: np.ndarray, corners: list[list[float]]) -> np.ndarray:
    """Warp the document's corners to an upright rectangle, as the locator will."""
    src = np.array(corners, np.float32)
    width = int(max(np.linalg.norm(src[1] - src[0]), np.linalg.norm(src[2] - src[3])))
    height = int(max(np.linalg.norm(src[3] - src[0]), np.linalg.norm(src[2] - src[1])))
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(
        image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )


@pytest.fixture(scope="module")
def readings():
    """(truth, OCR lines of the cropped document, OCR lines of the whole photo or None)."""
    engine = pytest.importorskip("ocr.engine").get_engine()
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        truth = json.loads(path.read_text(encoding="utf-8"))
        image = cv2.imread(str(FIXTURES / truth["image"]))
        cropped = engine.recognize(crop(image, truth["corners"]), framed=True).lines
        whole = None
        if truth["degradations"].get("upside_down") and truth["document_type"].startswith("id_"):
            whole = engine.recognize(image).lines
        out.append((truth, cropped, whole))
    return out


def _rates(readings, use_whole: bool = False):
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    wrong_silent = []
    for truth, cropped, whole in readings:
        lines = whole if use_whole else cropped
        if lines is None or not truth["legible"]:
            continue
        kind = truth["document_type"]
        result = extract(lines, kind, today=date.fromisoformat(truth["meta"]["as_of"]))
        for key in FIELDS[kind]:
            hits[kind][0] += result.fields.get(key) == truth["fields"].get(key)
            hits[kind][1] += 1
        number = result.fields.get("id_number")
        wrong = number is not None and number != truth["fields"].get("id_number", number)
        if wrong and not {code for code, _ in result.warnings} & ID_WARNINGS:
            wrong_silent.append(truth["image"])
    return {kind: ok / total for kind, (ok, total) in hits.items()}, wrong_silent


def test_classify_every_legible_fixture(readings):
    for truth, cropped, _ in readings:
        if truth["legible"]:
            kind, score = classify(cropped)
            assert kind == truth["document_type"], truth["image"]
            assert score > 0


def test_field_exact_match_rates(readings):
    rates, _ = _rates(readings)
    assert set(rates) == set(MIN_FIELD_RATE)
    for kind, rate in rates.items():
        assert rate >= MIN_FIELD_RATE[kind], (kind, round(rate, 3))


def test_no_wrong_id_number_without_a_warning(readings):
    assert _rates(readings)[1] == []
    assert _rates(readings, use_whole=True)[1] == []


def test_upside_down_photos_read_uncropped(readings):
    whole = [(t, w) for t, _, w in readings if w is not None and t["legible"]]
    assert len(whole) == 2
    for truth, lines in whole:
        kind = truth["document_type"]
        result = extract(lines, kind, today=date.fromisoformat(truth["meta"]["as_of"]))
        right = sum(result.fields.get(k) == truth["fields"].get(k) for k in FIELDS[kind])
        assert right >= 0.7 * len(FIELDS[kind]), (truth["image"], result.fields)
