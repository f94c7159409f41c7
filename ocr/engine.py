"""The OCR engine interface: an image in, text lines with boxes and confidences out."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

ENGINES = ("rapidocr", "paddleocr")


class OcrEngineError(RuntimeError):
    """The engine could not be loaded or failed on an image."""


@dataclass
class TextLine:
    """One recognised line: text, its quadrilateral in image pixels, and a 0–1 confidence."""

    text: str
    box: list[list[float]]
    confidence: float

    @property
    def x0(self) -> float:
        return min(p[0] for p in self.box)

    @property
    def x1(self) -> float:
        return max(p[0] for p in self.box)

    @property
    def y0(self) -> float:
        return min(p[1] for p in self.box)

    @property
    def y1(self) -> float:
        return max(p[1] for p in self.box)

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "box": [[round(x, 1), round(y, 1)] for x, y in self.box],
            "confidence": round(self.confidence, 4),
        }


@dataclass
class OcrResult:
    lines: list[TextLine] = field(default_factory=list)
    timing_ms: dict[str, float] = field(default_factory=dict)


class OcrEngine(Protocol):
    """A loaded OCR backend. Implementations must be safe to call from several threads."""

    name: str
    model: str

    def recognize(self, image: np.ndarray, *, framed: bool = False) -> OcrResult:
        """Read all text lines of a BGR uint8 image. ``framed``: the image is a located,
        rectified document whose text fills it, so detection may run at a lower resolution."""
        ...


def cpu_threads() -> int:
    return max(1, int(os.environ.get("WANGGE_OCR_THREADS", os.cpu_count() or 1)))


_engines: dict[str, OcrEngine] = {}
_lock = threading.Lock()


def get_engine(name: str | None = None) -> OcrEngine:
    """The process-wide engine ``name`` (default ``WANGGE_OCR_ENGINE`` or rapidocr), loaded once."""
    name = (name or os.environ.get("WANGGE_OCR_ENGINE") or "rapidocr").strip().lower()
    if name not in ENGINES:
        raise OcrEngineError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}")
    engine = _engines.get(name)
    if engine is not None:
        return engine
    with _lock:
        engine = _engines.get(name)
        if engine is None:
            if name == "rapidocr":
                from ocr.engines.rapid import RapidOcrEngine

                engine = RapidOcrEngine()
            else:
                from ocr.engines.paddle import PaddleOcrEngine

                engine = PaddleOcrEngine()
            _engines[name] = engine
    return engine


def warm_up(engine: OcrEngine) -> None:
    """Run one small synthetic image so the first real request does not pay for graph setup."""
    image = np.full((96, 320, 3), 255, dtype=np.uint8)
    import cv2

    cv2.putText(image, "2024 ID 110101", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    engine.recognize(image)
