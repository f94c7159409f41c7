"""The generator: determinism, truth schema, text where the boxes say, corners that rectify."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from ocr.synthetic import generate
from ocr.synthetic.generate import KINDS, make_sample
from tests.ocr.synthetic.truth_checks import check_truth

# Small photos keep the suite quick; geometry and truth do not depend on the size.
SMALL = {"output_size": (800, 600)}


def _grey(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), np.float32)


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_bytes_and_truth(kind):
    a = make_sample(11, 3, kind, overrides=SMALL)
    b = make_sample(11, 3, kind, overrides=SMALL)
    assert a.jpeg_bytes() == b.jpeg_bytes()
    assert a.truth == b.truth
    c = make_sample(12, 3, kind, overrides=SMALL)
    assert c.truth["fields"] != a.truth["fields"]


def test_kinds_of_one_index_describe_the_same_person():
    front = make_sample(5, 0, "id_card_front", clean=True).truth["fields"]
    member = make_sample(5, 0, "household_register_member", clean=True).truth["fields"]
    assert member["id_number"] == front["id_number"]
    assert member["name"] == front["name"]


def test_cli_writes_images_and_truth(tmp_path):
    code = generate.main(
        [
            "--out",
            str(tmp_path),
            "--count",
            "2",
            "--seed",
            "4",
            "--kinds",
            "id_card_back,household_register_home",
            "--clean",
        ]
    )
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "0000_household_register_home.jpg",
        "0000_household_register_home.json",
        "0000_id_card_back.jpg",
        "0000_id_card_back.json",
        "0001_household_register_home.jpg",
        "0001_household_register_home.json",
        "0001_id_card_back.jpg",
        "0001_id_card_back.json",
    ]
    truth = json.loads((tmp_path / "0001_id_card_back.json").read_text(encoding="utf-8"))
    assert truth["image"] == "0001_id_card_back.jpg"
    with Image.open(tmp_path / truth["image"]) as img:
        assert list(img.size) == truth["image_size"]


def test_cli_rejects_unknown_kinds(tmp_path):
    with pytest.raises(SystemExit):
        generate.main(["--out", str(tmp_path), "--kinds", "passport"])


@pytest.mark.parametrize("kind", KINDS)
def test_truth_is_consistent(kind):
    for index in range(3):
        check_truth(make_sample(21, index, kind, overrides=SMALL).truth)


@pytest.mark.parametrize("kind", KINDS)
def test_text_is_inside_its_boxes(kind):
    """On a clean render, every field box holds dark ink and a blank strip does not."""
    sample = make_sample(8, 1, kind, clean=True)
    grey = _grey(sample.image)
    h, w = grey.shape
    ink_threshold = 110
    for key, (x0, y0, x1, y1) in sample.truth["field_boxes"].items():
        crop = grey[int(y0 * h) : int(y1 * h) + 1, int(x0 * w) : int(x1 * w) + 1]
        assert (crop < ink_threshold).mean() > 0.08, key
    # The strip along the bottom edge of every layout is left unprinted.
    blank = grey[int(0.975 * h) :, int(0.2 * w) : int(0.8 * w)]
    assert (blank < ink_threshold).mean() < 0.01
    # Every non-empty field has a box.
    printed = {k for k, v in sample.truth["fields"].items() if v not in (None, False)}
    printed -= {"valid_until"} if sample.truth["fields"].get("long_term") else set()
    assert printed <= set(sample.truth["field_boxes"]) | {"long_term"}


def _rectify(image: Image.Image, corners, size) -> np.ndarray:
    w, h = size
    src = np.float32(corners)
    dst = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(_grey(image), matrix, (w, h))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a = cv2.GaussianBlur(a, (0, 0), 2) - a.mean()
    b = cv2.GaussianBlur(b, (0, 0), 2) - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


@pytest.mark.parametrize("kind", KINDS)
def test_corners_map_back_onto_the_clean_render(kind):
    """Warping the photo by its truth corners recovers the flat document, right way up."""
    clean = make_sample(9, 2, kind, clean=True)
    photo = make_sample(
        9,
        2,
        kind,
        overrides={
            "output_size": (1200, 900),
            "upside_down": True,
            "rotation_deg": 11.0,
            "perspective": 0.06,
            "glare": None,
            "shadow": None,
            "photocopy": False,
            "blur_sigma": 0.5,
            "motion_blur": None,
            "jpeg_quality": 80,
            "page_bend": 0.0,
        },
    )
    size = (clean.image.width // 2, clean.image.height // 2)
    reference = cv2.resize(_grey(clean.image), size, interpolation=cv2.INTER_AREA)
    rectified = _rectify(photo.image, photo.truth["corners"], size)
    assert _correlation(rectified, reference) > 0.6
    upside = np.ascontiguousarray(rectified[::-1, ::-1])
    assert _correlation(upside, reference) < 0.3


def test_tiny_documents_are_marked_illegible():
    sample = make_sample(
        2,
        0,
        "household_register_member",
        overrides={"output_size": (800, 600), "scale_in_frame": 0.2},
    )
    assert sample.truth["legible"] is False
    big = make_sample(
        2,
        0,
        "id_card_front",
        overrides={
            "output_size": (1600, 1200),
            "scale_in_frame": 0.7,
            "blur_sigma": 0.0,
            "motion_blur": None,
            "glare": None,
            "jpeg_quality": 85,
        },
    )
    assert big.truth["legible"] is True


def test_degradations_are_recorded():
    sample = make_sample(
        3,
        4,
        "id_card_back",
        overrides={
            "output_size": (800, 600),
            "photocopy": True,
            "jpeg_quality": 40,
            "blur_sigma": 1.5,
            "upside_down": True,
        },
    )
    d = sample.truth["degradations"]
    assert d["photocopy"] is True and d["jpeg_quality"] == 40 and d["upside_down"] is True
    assert d["blur_sigma"] == 1.5
    assert sample.jpeg_quality == 40
