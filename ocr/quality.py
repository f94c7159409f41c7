"""Photo quality warnings for a located document: blur, glare, too small, cut off, photocopy."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocr.document import Located, rectify

__all__ = ["MESSAGES", "THRESHOLDS", "Metrics", "Warning", "assess", "measure"]

MESSAGES = {
    "blurry": "照片模糊，请对焦后重新拍摄",
    "glare": "证件有反光，请重新拍摄，避免反光",
    "too_small": "证件在画面中太小，请靠近一些，让证件占满画面",
    "incomplete": "证件没有拍全，请把证件完整拍入画面",
    "grayscale_copy": "这是黑白复印件，请拍摄证件原件，不要使用黑白复印件",
}

# Calibrated on 184 synthetic photos (ocr/synthetic, seeds 7 and 11 plus the fixtures) whose
# ground truth says which degradations were applied. Sharpness and colourfulness warn below
# their threshold, the others above. Real phone photos may need them moved: they are here,
# and ``assess`` takes overrides, so that needs no code change.
THRESHOLDS = {
    "sharpness": 0.15,  # steepest text edges / text contrast, per pixel of a 1000 px crop
    "glare": 0.02,  # share of the document washed out to blank white in one blob
    "area_ratio": 0.12,  # document area / frame area
    "min_long_side": 400,  # document long side in photo pixels
    "colourfulness": 7.0,  # 99th percentile chroma (cast removed), YCrCb units
}

_CROP_SIDE = 1000  # blur and colour are judged on a crop this size, whatever the photo size


@dataclass
class Warning:  # the spec names it so; shadows the builtin only inside this module
    """One thing wrong with the photo: a stable code, a Chinese instruction, the measurement."""

    code: str
    message: str
    value: float

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "value": round(self.value, 4)}


@dataclass
class Metrics:
    """The raw measurements behind the warnings (for logging and threshold calibration)."""

    sharpness: float
    glare: float
    area_ratio: float
    long_side: float
    colourfulness: float
    touches_border: bool


def _sharpness(gray: np.ndarray) -> float:
    """How steep the steepest edges are relative to the ink/paper contrast.

    Variance of the Laplacian alone grows with contrast, text density and sensor noise; this
    ratio (roughly 1 / edge width in pixels) does not, so one threshold fits a dim photo of a
    sparse card and a bright one of a dense register page. A light blur first keeps noise and
    JPEG ringing from passing for sharpness.
    """
    g = cv2.GaussianBlur(gray, (0, 0), 0.7).astype(np.float32)
    lo, hi = np.percentile(g, (2, 98))
    contrast = max(float(hi - lo), 20.0)
    # Per direction, so that hand shake (blur along one direction only) is not hidden by the
    # strokes that run along the shake and stay sharp. Chinese text has strokes both ways.
    gx = np.abs(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)) / 4.0  # 3x3 Sobel gain is 4 per step
    gy = np.abs(cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)) / 4.0
    d1 = np.abs(g[1:, 1:] - g[:-1, :-1]) / np.sqrt(2)
    d2 = np.abs(g[1:, :-1] - g[:-1, 1:]) / np.sqrt(2)
    steep = [float(np.percentile(a, 99.5)) for a in (gx, gy, d1, d2)]
    return min(steep) / contrast


def _glare(bgr: np.ndarray) -> float:
    """Share of the document (a ~500 px crop) under its largest washed-out white blob.

    A reflection turns a patch of the card or page to blank, colourless white: brighter than
    the paper, less tinted than the paper (cards and register pages are cream or pale blue,
    a lamp's highlight is white), and with no ink left in it. Requiring all three keeps
    white print and margins out; what it cannot tell apart is a photo so over-exposed that
    blank paper itself clips to white, which also costs legibility.
    """
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    v, s = hsv[..., 2], hsv[..., 1]
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    no_ink = cv2.erode(gray, np.ones((9, 9), np.uint8)) >= 225  # no dark stroke nearby
    paper_tint = float(np.percentile(s, 50))
    mask = (v >= 245) & (s <= max(3.0, 0.4 * paper_tint)) & no_ink
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return 0.0
    return float(stats[1:, cv2.CC_STAT_AREA].max() / mask.size)


def _colourfulness(bgr: np.ndarray) -> float:
    """How far the most colourful parts of the document are from its average tint.

    An original card or register page carries colour (the red emblem and seals, blue print);
    a black-and-white copy carries none, only the photo's overall colour cast, which
    subtracting the median tint removes.
    """
    ycc = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    cr, cb = ycc[..., 1], ycc[..., 2]
    # Ignore near-black and blown-out pixels: their chroma is noise.
    y = ycc[..., 0]
    keep = (y > 40) & (y < 250)
    if keep.sum() < 100:
        return 0.0
    cr, cb = cr[keep], cb[keep]
    d = np.hypot(cr - np.median(cr), cb - np.median(cb))
    return float(np.percentile(d, 99))


def measure(bgr: np.ndarray, located: Located) -> Metrics | None:
    """Compute every quality metric for the located document; None if nothing was located."""
    if located.quad is None:
        return None
    quad = np.asarray(located.quad, np.float32)
    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    long_side = float(max(sides[0] + sides[2], sides[1] + sides[3]) / 2)
    crop = rectify(bgr, quad, long_side=_CROP_SIDE)
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    # Leave out a thin frame: the document's own edge is the sharpest thing in the crop and
    # would make any photo look in focus.
    h, w = gray.shape
    m = max(2, round(0.03 * min(h, w)))
    inner = gray[m:-m, m:-m]
    small = cv2.resize(crop[m:-m, m:-m], None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return Metrics(
        sharpness=_sharpness(inner),
        glare=_glare(small),
        area_ratio=float(located.area_ratio),
        long_side=long_side,
        colourfulness=_colourfulness(small),
        touches_border=bool(located.touches_border),
    )


def assess(bgr: np.ndarray, located: Located, *, thresholds: dict | None = None) -> list[Warning]:
    """Quality warnings for a photo whose document was found by ``locate_document``.

    Returns an empty list when the photo is fine, or when no document was located (that case
    is reported as ``not_a_document`` elsewhere). Order: what the worker should fix first.
    """
    t = {**THRESHOLDS, **(thresholds or {})}
    metrics = measure(bgr, located)
    if metrics is None:
        return []
    out: list[Warning] = []

    def warn(code: str, value: float) -> None:
        out.append(Warning(code, MESSAGES[code], float(value)))

    if metrics.touches_border:
        warn("incomplete", 1.0)
    small = metrics.area_ratio < t["area_ratio"] or metrics.long_side < t["min_long_side"]
    if small:
        warn("too_small", metrics.area_ratio)
    # A document too small in frame looks soft at crop scale; asking to refocus would be
    # the wrong advice, so blur is only reported when size is not the problem.
    if not small and metrics.sharpness < t["sharpness"]:
        warn("blurry", metrics.sharpness)
    copy = metrics.colourfulness < t["colourfulness"]
    # The glare test looks for white less tinted than the paper; a black-and-white copy has
    # no tint to compare with, and the worker is asked for the original anyway.
    if not copy and metrics.glare > t["glare"]:
        warn("glare", metrics.glare)
    if copy:
        warn("grayscale_copy", metrics.colourfulness)
    return out
