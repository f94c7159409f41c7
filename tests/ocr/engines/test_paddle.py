"""The paddleocr engine: offline model lookup always; recognition when paddle is installed.

``WANGGE_TEST_PADDLE=1`` (the CI step that installs requirements-paddle.txt) turns a missing
paddle into a failure instead of a skip.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from ocr.engine import OcrEngineError, get_engine
from ocr.engines import paddle
from tests.ocr.engines import checks

REQUIRED = os.environ.get("WANGGE_TEST_PADDLE", "").strip() == "1"
LATENCY_BUDGET_MS = 15_000

# PP-OCRv5 mobile reads the rare surname 缑 of this glared photo as 猴 (rapidocr gets it).
NAME_MISREADS = {"0005_id_card_front"}


def _fake_model(root, sub: str, name: str) -> None:
    d = root / sub
    d.mkdir(parents=True)
    (d / "inference.yml").write_text(f"Global:\n  model_name: {name}\n", encoding="utf-8")
    (d / "inference.json").write_text("{}", encoding="utf-8")
    (d / "inference.pdiparams").write_bytes(b"")


# --- Always run: no paddle needed. ---


def test_kwargs_use_local_models_on_cpu_with_extra_stages_off(tmp_path):
    _fake_model(tmp_path, "det", "PP-OCRv5_mobile_det")
    _fake_model(tmp_path, "rec", "PP-OCRv5_mobile_rec")
    kwargs = paddle.paddle_kwargs(2, (tmp_path / "det", tmp_path / "rec"))
    assert kwargs["text_detection_model_dir"] == str(tmp_path / "det")
    assert kwargs["text_recognition_model_dir"] == str(tmp_path / "rec")
    assert kwargs["text_detection_model_name"] == "PP-OCRv5_mobile_det"
    assert kwargs["text_recognition_model_name"] == "PP-OCRv5_mobile_rec"
    assert kwargs["device"] == "cpu" and kwargs["cpu_threads"] == 2
    # Each of these stages would download its default model from a hub.
    assert kwargs["use_doc_orientation_classify"] is False
    assert kwargs["use_doc_unwarping"] is False
    assert kwargs["use_textline_orientation"] is False
    assert os.environ["PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK"]


def test_model_dir_override(tmp_path, monkeypatch):
    monkeypatch.setenv(paddle.MODEL_DIR_ENV, str(tmp_path))
    assert paddle.model_dirs() == (tmp_path / "det", tmp_path / "rec")


def test_missing_model_files_are_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(paddle.MODEL_DIR_ENV, str(tmp_path))
    with pytest.raises(OcrEngineError, match="model dirs missing"):
        paddle.PaddleOcrEngine()
    (tmp_path / "det").mkdir()
    (tmp_path / "rec").mkdir()
    with pytest.raises(OcrEngineError, match=r"inference\.yml"):
        paddle.PaddleOcrEngine()


def test_missing_paddle_is_a_clear_error(tmp_path, monkeypatch):
    _fake_model(tmp_path, "det", "PP-OCRv5_mobile_det")
    _fake_model(tmp_path, "rec", "PP-OCRv5_mobile_rec")
    monkeypatch.setenv(paddle.MODEL_DIR_ENV, str(tmp_path))
    monkeypatch.setitem(sys.modules, "paddleocr", None)  # makes the import fail
    with pytest.raises(OcrEngineError, match=r"requirements-paddle\.txt"):
        paddle.PaddleOcrEngine()


# --- Real recognition: skipped without paddle unless WANGGE_TEST_PADDLE=1. ---


@pytest.fixture(scope="module")
def engine():
    if importlib.util.find_spec("paddleocr") is None:
        message = "paddleocr is not installed (pip install -r requirements-paddle.txt)"
        if REQUIRED:
            pytest.fail(f"WANGGE_TEST_PADDLE=1 but {message}")
        pytest.skip(f"{message}; set WANGGE_TEST_PADDLE=1 to make this a failure")
    with checks.no_network() as attempts:
        engine = get_engine("paddleocr")  # loads and warms up
    assert attempts == [], "loading paddleocr must not touch the network"
    return engine


def test_models_come_from_the_wheel(engine):
    assert engine.model == "PP-OCRv5_mobile_det+PP-OCRv5_mobile_rec"
    if not os.environ.get(paddle.MODEL_DIR_ENV):
        assert paddle.wheel_model_dirs() is not None


@pytest.mark.parametrize("path", checks.ID_FRONTS, ids=lambda p: p.stem)
def test_reads_id_number(engine, path):
    fields = checks.truth(path)["fields"]
    # Without the textline orientation stage an upside-down photo reads as garbage, so it
    # goes in turned upright, as the pipeline must do for this engine.
    with checks.no_network() as attempts:
        result = engine.recognize(checks.load(path, upright=True))
    assert attempts == []
    checks.check_result_shape(result)
    assert fields["id_number"] in checks.text_of(result)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, marks=pytest.mark.xfail(reason="PP-OCRv5 mobile misreads 缑 as 猴"))
        if p.stem in NAME_MISREADS
        else p
        for p in checks.ID_FRONTS
    ],
    ids=lambda p: p.stem,
)
def test_reads_name(engine, path):
    fields = checks.truth(path)["fields"]
    result = engine.recognize(checks.load(path, upright=True))
    assert fields["name"] in checks.text_of(result)


def test_loaded_once(engine):
    assert get_engine("paddleocr") is engine
    assert engine.name == "paddleocr"
    assert engine.warmed_up


def test_warm_latency(engine, record_property):
    latency = checks.warm_latency_ms(engine, checks.load(checks.ID_FRONTS[0]))
    record_property("paddleocr_warm_latency_ms", round(latency, 1))
    assert latency < LATENCY_BUDGET_MS


def test_concurrent_calls_match_a_single_call(engine):
    image = checks.load(checks.ID_FRONTS[0])
    alone = checks.text_of(engine.recognize(image))
    assert checks.concurrent_texts(engine, image) == [alone, alone]
