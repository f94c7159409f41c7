"""The committed fixture set: coverage, size budget, valid truth, and that it regenerates."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocr.synthetic.generate import FIXTURE_PLAN, KINDS, _fixture_sample
from tests.ocr.synthetic.truth_checks import check_truth

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ocr"


def _truths() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.json"))]


def test_six_of_each_kind():
    counts = Counter(t["document_type"] for t in _truths())
    assert counts == {kind: len(FIXTURE_PLAN) for kind in KINDS}
    assert len(FIXTURE_PLAN) == 6


def test_size_budget():
    images = sorted(FIXTURES.glob("*.jpg"))
    assert len(images) == 24
    assert all(p.stat().st_size <= 250 * 1024 for p in images), [
        (p.name, p.stat().st_size) for p in images if p.stat().st_size > 250 * 1024
    ]
    total = sum(p.stat().st_size for p in FIXTURES.iterdir() if p.is_file())
    assert total <= 5 * 1024 * 1024


def test_truth_is_valid_and_matches_the_image():
    for truth in _truths():
        check_truth(truth)
        path = FIXTURES / truth["image"]
        with Image.open(path) as img:
            assert img.format == "JPEG"
            assert list(img.size) == truth["image_size"]


def test_required_conditions_are_covered():
    photos = [t for t in _truths() if not t["degradations"]["clean"]]
    degs = [t["degradations"] for t in photos]
    assert any(t["degradations"]["clean"] for t in _truths())
    assert any(d["upside_down"] for d in degs)
    assert any(10 <= abs(d["rotation_deg"]) <= 15 for d in degs)
    assert any(d["scale_in_frame"] <= 0.35 for d in degs)
    assert any(d["photocopy"] for d in degs)
    assert any(d["glare"] for d in degs)
    assert any(d["shadow"] for d in degs)
    assert any(d["blur_sigma"] > 0 for d in degs)
    assert any(not t["legible"] for t in photos)
    assert any(t["meta"].get("expired") for t in _truths() if t["document_type"] == "id_card_back")
    qualities = [d["jpeg_quality"] for d in degs]
    assert min(qualities) <= 60 and max(qualities) >= 75


def test_photocopies_are_grey():
    truth = next(t for t in _truths() if t["degradations"].get("photocopy"))
    with Image.open(FIXTURES / truth["image"]) as img:
        rgb = np.asarray(img.convert("RGB"), np.float32)
    corners = np.array(truth["corners"])
    x0, y0 = corners.min(axis=0).astype(int)
    x1, y1 = corners.max(axis=0).astype(int)
    doc = rgb[y0:y1, x0:x1]
    # Only the camera's white balance tints a copy, so channels stay close together.
    assert np.abs(doc[..., 0] - doc[..., 2]).mean() < 12


@pytest.mark.parametrize(("index", "kind"), [(3, "id_card_back"), (5, "household_register_home")])
def test_fixtures_regenerate(index, kind):
    """The documented command reproduces the committed truth exactly and the image closely."""
    sample = _fixture_sample(index, kind)
    committed = json.loads((FIXTURES / f"{sample.stem}.json").read_text(encoding="utf-8"))
    fresh = json.loads(json.dumps({"image": f"{sample.stem}.jpg", **sample.truth}))
    assert fresh == committed
    with Image.open(FIXTURES / f"{sample.stem}.jpg") as img:
        old = np.asarray(img.convert("L"), np.float32)
    new = np.asarray(Image.open(io.BytesIO(sample.jpeg_bytes())).convert("L"), np.float32)
    assert np.abs(old - new).mean() < 1.0
