"""RapidOCR backend: PP-OCR det/cls/rec ONNX models from the rapidocr wheel on onnxruntime."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np

from ocr.engine import OcrEngineError, OcrResult, TextLine, cpu_threads

# Pinned with rapidocr==3.10.0: these files ship inside the wheel, so nothing downloads.
DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
FRAMED_DET_SIDE = 736


def wheel_models_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, models_dir: Path | None = None) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise OcrEngineError("rapidocr is not installed") from exc
        root = Path(models_dir) if models_dir else wheel_models_dir()
        paths = {
            key: root / fname
            for key, fname in (("det", DET_MODEL), ("rec", REC_MODEL), ("cls", CLS_MODEL))
        }
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise OcrEngineError(f"OCR model files missing: {', '.join(missing)}")
        threads = cpu_threads()
        self.model = f"{DET_MODEL.removesuffix('.onnx')}+{REC_MODEL.removesuffix('.onnx')}"
        self._ocr = RapidOCR(
            params={
                "Det.model_path": str(paths["det"]),
                "Rec.model_path": str(paths["rec"]),
                "Cls.model_path": str(paths["cls"]),
                "Global.log_level": "error",
                # Whole photos: the document may be small in the frame, so detect at up
                # to 1280 px; the engine must not upscale what the pipeline sized.
                "Det.limit_type": "max",
                "Det.limit_side_len": 1280,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                # Measured on 20 rectified ID fronts (2 cores): one line per recognizer run
                # takes 340 ms against 470-550 ms for rapidocr's batches of 6, because a
                # batch pads every line to its widest one, and a card mixes short labels
                # with long address lines. (onnxruntime's memory arena would save another
                # 10% of recognition time but raised peak RSS over 100 documents from 584 to
                # 758 MB per worker, so it stays off.)
                "Rec.rec_batch_num": 1,
            }
        )
        # Located, rectified documents: detect on a copy at most 736 px long (boxes map back
        # and recognition reads the full-size crop). On generated cards and pages that halves
        # the detector's time and reads as many fields exactly as 1280 px (87.2% against
        # 86.7% on 30 ID fronts, 85.6% against 84.6% on 24 register pages). A shallow copy
        # shares the ONNX sessions, so it costs no memory; attribute names are rapidocr
        # 3.10.0's (pinned), and tests/ocr/engines exercise both paths.
        # rapidocr loads its models lazily: load them all first, or the copy loads its own.
        self._ocr._load_cls_model()
        self._ocr._load_rec_model()
        self._framed = copy.copy(self._ocr)
        self._framed.text_det = copy.copy(self._ocr._load_det_model())
        self._framed.text_det.limit_side_len = FRAMED_DET_SIDE

    def recognize(self, image: np.ndarray, *, framed: bool = False) -> OcrResult:
        started = time.perf_counter()
        out = (self._framed if framed else self._ocr)(image)
        total = (time.perf_counter() - started) * 1000
        lines: list[TextLine] = []
        if out.boxes is not None and out.txts:
            for box, text, score in zip(out.boxes, out.txts, out.scores, strict=False):
                text = (text or "").strip()
                if text:
                    lines.append(
                        TextLine(
                            text=text,
                            box=[[float(x), float(y)] for x, y in box],
                            confidence=float(score),
                        )
                    )
        det, cls, rec = ([*list(out.elapse_list or []), 0, 0, 0])[:3]
        return OcrResult(
            lines=lines,
            timing_ms={
                "det": round(det * 1000, 1),
                "cls": round(cls * 1000, 1),
                "rec": round(rec * 1000, 1),
                "engine": round(total, 1),
            },
        )
