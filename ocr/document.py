"""Find an ID card or register page in a photo, and cut it out square-on."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

__all__ = [
    "CARD_ASPECT",
    "PAGE_ASPECT",
    "Located",
    "card_quad_from_labels",
    "locate_document",
    "order_quad",
    "orient_by_text",
    "quad_iou",
    "rectify",
    "rectify_mapped",
]

Kind = Literal["card", "page"]

CARD_ASPECT = 85.6 / 54.0  # ISO/IEC 7810 ID-1, the Chinese resident ID card
PAGE_ASPECT = 143.0 / 105.0  # an open page of the 居民户口簿, landscape
A4_ASPECT = math.sqrt(2)  # photocopies and printed forms
_ASPECTS = {"card": (CARD_ASPECT,), "page": (PAGE_ASPECT, A4_ASPECT), None: None}

MID_SIDE = 1000  # sides are snapped and judged on a copy about this size, candidates at half
POLISH_SIDE = 2000  # corners are polished on a copy at most this size
MAX_FINALISTS = 8  # candidates that get the (costlier) snapping and final judgement
_MIN_AREA = 0.015  # smallest document worth reporting, as a fraction of the frame


@dataclass
class Located:
    """Where the document lies in the photo (input pixels); ``quad`` is None if not found."""

    quad: np.ndarray | None  # 4x2 float32: TL, TR, BR, BL as the document lies in the photo
    area_ratio: float
    touches_border: bool
    confidence: float
    method: str = ""  # which candidate source won, for debugging and benchmarks

    @property
    def found(self) -> bool:
        return self.quad is not None


# --- geometry helpers -----------------------------------------------------------------------


def order_quad(pts: np.ndarray) -> np.ndarray:
    """Order four points clockwise (in image coordinates) starting nearest the top-left."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # y points down, so increasing angle is clockwise
    start = int(np.argmin(pts[:, 0] + pts[:, 1]))
    return np.roll(pts, -start, axis=0)


def quad_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two convex quadrilaterals."""
    a = order_quad(a)
    b = order_quad(b)
    inter, _ = cv2.intersectConvexConvex(a, b)
    union = cv2.contourArea(a) + cv2.contourArea(b) - inter
    return float(inter / union) if union > 0 else 0.0


def _side_lengths(q: np.ndarray) -> np.ndarray:
    return np.linalg.norm(q - np.roll(q, -1, axis=0), axis=1)


def _quad_aspect(q: np.ndarray) -> float:
    """Long/short ratio of the rectangle the quad most likely images (opposite sides averaged)."""
    s = _side_lengths(q)
    a, b = (s[0] + s[2]) / 2, (s[1] + s[3]) / 2
    return float(max(a, b) / max(min(a, b), 1e-6))


def _is_convex_quad(q: np.ndarray, min_angle: float = 50.0) -> bool:
    """Convex, with every corner between ``min_angle`` and 180 - ``min_angle`` degrees."""
    signs = []
    for i in range(4):
        p0, p1, p2 = q[i - 1], q[i], q[(i + 1) % 4]
        v1, v2 = p0 - p1, p2 - p1
        cross = v1[0] * v2[1] - v1[1] * v2[0]
        signs.append(cross > 0)
        cos = float(np.dot(v1, v2) / (np.linalg.norm(v1) * np.linalg.norm(v2) + 1e-9))
        angle = math.degrees(math.acos(max(-1.0, min(1.0, cos))))
        if not min_angle <= angle <= 180 - min_angle:
            return False
    return all(signs) or not any(signs)


def _intersect(l1: tuple[np.ndarray, np.ndarray], l2: tuple[np.ndarray, np.ndarray]):
    """Intersection of two lines given as (point, unit direction); None if parallel."""
    (p, r), (q, s) = l1, l2
    denom = r[0] * s[1] - r[1] * s[0]
    if abs(denom) < 1e-6:
        return None
    t = ((q[0] - p[0]) * s[1] - (q[1] - p[1]) * s[0]) / denom
    return p + t * r


# --- candidates -----------------------------------------------------------------------------
# Colour work uses YCrCb: a dozen times cheaper to convert than Lab, and for telling pale paper
# from a surface, luma plus two colour-difference axes serve as well.


def _shrink(img: np.ndarray, factor: int) -> np.ndarray:
    """Integer-factor INTER_AREA shrink (OpenCV's fast path); drops < factor edge pixels."""
    if factor <= 1:
        return img
    h, w = img.shape[:2]
    h2, w2 = h // factor, w // factor
    return cv2.resize(img[: h2 * factor, : w2 * factor], (w2, h2), interpolation=cv2.INTER_AREA)


def _quad_from_contour(cnt: np.ndarray) -> np.ndarray | None:
    hull = cv2.convexHull(cnt)
    peri = cv2.arcLength(hull, True)
    if peri <= 0:
        return None
    for eps in (0.015, 0.025, 0.04, 0.06):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
        if len(approx) < 4:
            break
    # Rounded or clipped outlines that never reduce to four points: the min-area rectangle is
    # close enough for the side snapping to take over.
    return cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32)


def _contours_to_quads(mask: np.ndarray, mode: int, min_area: float) -> list[np.ndarray]:
    contours, _ = cv2.findContours(mask, mode, cv2.CHAIN_APPROX_SIMPLE)
    quads = []
    for cnt in contours:
        if cv2.contourArea(cnt) < min_area:
            continue
        q = _quad_from_contour(cnt)
        if q is not None:
            quads.append(q)
    return quads


def _border_ring(img: np.ndarray, frac: int = 40) -> np.ndarray:
    h, w = img.shape[:2]
    b = max(2, min(h, w) // frac)
    parts = [img[:b], img[-b:], img[:, :b], img[:, -b:]]
    return np.concatenate([p.reshape(-1, img.shape[2]) for p in parts]).astype(np.float32)


def _background_distance(ycc: np.ndarray) -> np.ndarray:
    """Colour distance of every pixel to the nearest typical colour of the frame's border."""
    ring = _border_ring(ycc)
    ring = ring[:: max(1, len(ring) // 1000)]
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 8, 1.0)
    cv2.setRNGSeed(12345)  # k-means++ seeding must not make results vary from run to run
    _, _, centres = cv2.kmeans(ring, 4, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    img = ycc.astype(np.float32) * _WEIGHTS
    dist = None
    for c in centres:
        # Kept in OpenCV calls: the numpy equivalent costs more than the rest of this stage.
        diff = cv2.subtract(img, (*(float(v) for v in c * _WEIGHTS), 0.0))
        mag = cv2.sqrt(cv2.transform(cv2.multiply(diff, diff), np.ones((1, 3), np.float32)))
        dist = mag if dist is None else cv2.min(dist, mag)
    return dist


def _candidates(ycc: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Rough document outlines from several independent cues; the scorer picks among them."""
    h, w = ycc.shape[:2]
    min_area = _MIN_AREA * h * w
    out: list[tuple[str, np.ndarray]] = []
    y, cr, cb = cv2.split(ycc)
    k3 = np.ones((3, 3), np.uint8)
    k5 = np.ones((5, 5), np.uint8)
    # 1) Closed edge outlines: Canny on luma and both colour axes, so a white card on a white
    #    desk still shows its faint shadow line and a tinted card its colour edge.
    for scale in (1.0, 0.5):
        edges = np.zeros((h, w), np.uint8)
        for ch, lo, hi in ((y, 20, 50), (cr, 6, 16), (cb, 6, 16)):
            edges |= cv2.Canny(ch, lo * scale, hi * scale, L2gradient=True)
        edges = cv2.dilate(edges, k3)
        out += [("edges", q) for q in _contours_to_quads(edges, cv2.RETR_LIST, min_area)]

    # 2) Light, low-chroma regions: documents are pale paper or card stock.
    chroma = cv2.magnitude(cr.astype(np.float32) - 128, cb.astype(np.float32) - 128)
    pale = np.clip(y.astype(np.float32) - 2.0 * chroma, 0, 255).astype(np.uint8)
    for src in (pale, y):
        _, mask = cv2.threshold(src, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, k5)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, k5, iterations=2)
        out += [("pale", q) for q in _contours_to_quads(mask, cv2.RETR_EXTERNAL, min_area)]

    # 3) Whatever differs from the colours round the frame's border (the surface it lies on),
    #    at several thresholds because a white card on white paper differs only slightly.
    dist = _background_distance(ycc)
    dist8 = np.clip(dist * 4, 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(dist8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    for t in sorted({otsu, 16.0, 32.0, 64.0}):
        mask = (dist8 > t).astype(np.uint8) * 255
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, k5)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, k5, iterations=2)
        out += [("foreground", q) for q in _contours_to_quads(mask, cv2.RETR_EXTERNAL, min_area)]
    edges = cv2.dilate(cv2.Canny(dist8, 12, 30, L2gradient=True), k3)
    out += [("fg-edges", q) for q in _contours_to_quads(edges, cv2.RETR_LIST, min_area)]
    return out


# --- evidence -------------------------------------------------------------------------------


def _lightness_lut() -> np.ndarray:
    """Luma to CIE lightness (scaled to 0..255): spreads the light greys where paper lives, so
    a thin copier outline or a faint shadow line on white paper keeps its contrast."""
    v = np.arange(256, dtype=np.float64) / 255
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    light = np.where(lin > 0.008856, 116 * np.cbrt(lin) - 16, 903.3 * lin)
    return np.clip(light * 2.55, 0, 255).round().astype(np.uint8)


_LIGHTNESS = _lightness_lut()
_WEIGHTS = np.float32([0.5, 1.0, 1.0])  # luma counts less (shading changes it), colour more
_PALE = 90.0  # lightness a document's inside keeps even in a hand's shadow


def _sample(img: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``img`` (HxWxC float32) at points (..., 2); outside reads as NaN."""
    shape = pts.shape[:-1]
    flat = pts.reshape(-1, 2).astype(np.float32)
    mx = np.ascontiguousarray(flat[:, 0].reshape(1, -1))
    my = np.ascontiguousarray(flat[:, 1].reshape(1, -1))
    vals = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=(np.nan, np.nan, np.nan, np.nan))  # fmt: skip
    return vals.reshape(*shape, img.shape[2] if img.ndim == 3 else 1)


def _frames(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per side: start point, direction vector (not normalised), unit inward normal."""
    start = q
    d = np.roll(q, -1, axis=0) - q
    length = np.linalg.norm(d, axis=1, keepdims=True)
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.maximum(length, 1e-6)
    inward = np.einsum("ij,ij->i", q.mean(axis=0) - q, normal) < 0
    normal[inward] *= -1
    return start, d, normal.astype(np.float32)


def _profiles(img: np.ndarray, q: np.ndarray, offsets: np.ndarray, t: np.ndarray):
    """Samples across all four sides: points (4, n, 2), normals, values (4, n, m, C)."""
    start, d, normal = _frames(q)
    pts = start[:, None, :] + t[None, :, None] * d[:, None, :]  # 4 x n x 2
    grid = pts[:, :, None, :] + offsets[None, None, :, None] * normal[:, None, None, :]
    return pts, normal, _sample(img, grid) * _WEIGHTS


def _gradient(vals: np.ndarray) -> np.ndarray:
    """Colour change across the offsets axis, per sample step (central differences)."""
    grad = np.zeros(vals.shape[:-1], np.float32)
    grad[..., 1:-1] = np.linalg.norm(vals[..., 2:, :] - vals[..., :-2, :], axis=-1) / 2
    return grad


def _snap(img: np.ndarray, q: np.ndarray, reach: float, fixed: np.ndarray) -> np.ndarray:
    """Move each side to the straight line of strongest colour change within ``reach`` pixels.

    Each side is searched as a small Hough space: every line joining an offset at its start to
    an offset at its end is scored by the mean gradient it crosses. Sides marked ``fixed``
    (cut by the frame: no edge to find, only text to be pulled onto) stay where they are.
    """
    n = 32
    step = max(1.0, reach / 12)
    offsets = np.arange(-reach, reach + step / 2, step, dtype=np.float32)
    m = len(offsets)
    t = np.linspace(0.08, 0.92, n, dtype=np.float32)
    pts, normal, vals = _profiles(img, q, offsets, t)
    grad = np.nan_to_num(_gradient(vals), nan=0.0)
    # Documents are pale: an edge whose inner side is dark (a booklet's cover board, the far
    # side of a shadow) counts for little.
    shift = max(1, round(3.0 / step))
    luma = np.nan_to_num(vals[..., 0] / _WEIGHTS[0], nan=0.0)
    inner = np.concatenate([luma[..., shift:], np.repeat(luma[..., -1:], shift, axis=2)], axis=2)
    grad = grad * np.where(inner > _PALE, 1.0, 0.25)
    # Cap each point's say so that one very strong feature (a text stroke, a glare rim)
    # cannot outvote a long, moderate edge.
    cap = np.maximum(4.0, np.percentile(grad.reshape(4, -1), 90, axis=1))[:, None, None]
    grad = np.minimum(grad, cap)
    idx = np.arange(m)
    j0, j1 = np.meshgrid(idx, idx, indexing="ij")
    tilt_ok = np.abs(j0 - j1) <= max(2, m // 3)
    j0, j1 = j0[tilt_ok], j1[tilt_ok]
    frac = np.linspace(0.0, 1.0, n, dtype=np.float32)
    cols = np.rint(j0[:, None] + (j1 - j0)[:, None] * frac[None, :]).astype(np.intp)
    rows = np.broadcast_to(np.arange(n), cols.shape)
    scores = grad[:, rows, cols].mean(axis=2)  # 4 x lines
    best = scores.argmax(axis=1)
    lines = []
    for i in range(4):
        a, b = (0.0, 0.0) if fixed[i] else (offsets[j0[best[i]]], offsets[j1[best[i]]])
        p_start = pts[i, 0] + a * normal[i]
        p_end = pts[i, -1] + b * normal[i]
        d = (p_end - p_start).astype(np.float64)
        lines.append((p_start.astype(np.float64), d / max(float(np.linalg.norm(d)), 1e-6)))
    corners = [_intersect(lines[i - 1], lines[i]) for i in range(4)]
    if any(c is None for c in corners):
        return q
    return np.float32(corners)


def _side_support(img: np.ndarray, q: np.ndarray, n: int = 32) -> np.ndarray:
    """Per side, the fraction of points where a clear, consistent edge crosses it."""
    h, w = img.shape[:2]
    r = max(2.0, 0.003 * max(h, w))
    offsets = np.float32([-4, -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 4]) * r
    t = np.linspace(0.08, 0.92, n, dtype=np.float32)
    _, _, vals = _profiles(img, q, offsets, t)
    valid = ~np.isnan(vals).any(axis=(2, 3))
    # Samples are denser near the side (steps of r/2 there): a sharp edge stands out most.
    g = np.nan_to_num(_gradient(vals), nan=0.0)
    at_edge = g[..., 3:8].max(axis=2)
    # Texture on the quieter side: paper is smooth just inside its edge, while a surface's
    # pattern (wood grain, checks) is busy on both sides of any line drawn through it.
    texture = np.minimum(g[..., 1:3].mean(axis=2), g[..., 8:10].mean(axis=2))
    luma_in = vals[..., 9, 0] / _WEIGHTS[0]
    ok = valid & (at_edge > np.maximum(2.0, 2.0 * texture)) & (luma_in > _PALE)
    # A real edge keeps its polarity along its length (card lighter than the desk, or darker);
    # a line through a checked cloth or a board pattern flips from cell to cell.
    d_luma = np.nan_to_num((vals[..., 9, 0] - vals[..., 1, 0]) / _WEIGHTS[0], nan=0.0)
    pos = (ok & (d_luma > 0)).sum(axis=1)
    neg = (ok & (d_luma < 0)).sum(axis=1)
    sign = np.where(pos >= neg, 1.0, -1.0)[:, None]
    ok &= d_luma * sign > -3.0
    support = ok.mean(axis=1).astype(np.float32)
    return support


def _aspect_fit(aspect: float, kind: str | None) -> float:
    """1 for a perfect document aspect, falling towards 0 for shapes no document has."""
    wanted = _ASPECTS[kind] or (CARD_ASPECT, PAGE_ASPECT, A4_ASPECT)
    err = min(abs(math.log(aspect / a)) for a in wanted)
    tolerance = 0.25  # perspective and the coarse candidate stretch the apparent aspect
    return float(max(0.0, 1.0 - (err / tolerance) ** 2))


def _is_full_frame(ycc: np.ndarray, aspect: float, kind: str | None) -> bool:
    """True for an image that already is the document: a scan, a screenshot, a clean render.

    Such an image has exactly a document's aspect ratio (a camera's 4:3, 3:2 or 16:9 frame
    does not) and pale paper, not a surface, all round its border.
    """
    wanted = _ASPECTS[kind] or (CARD_ASPECT, PAGE_ASPECT, A4_ASPECT)
    long_short = max(aspect, 1 / aspect)
    if min(abs(long_short / a - 1) for a in wanted) > 0.015:
        return False
    ring = _border_ring(ycc, 50)
    chroma = np.hypot(ring[:, 1] - 128, ring[:, 2] - 128)
    return bool(np.median(ring[:, 0]) > 150 and np.median(chroma) < 15)


def _select(finals: list) -> tuple[float, str, np.ndarray] | None:
    """Pick the best-outlined candidate, then grow to the outermost one that encloses it.

    A document's outline encloses other well-outlined shapes (a register page's table, the
    photo on a card); when the best-scored outline is one of those, a candidate that contains
    it and is nearly as well supported is the document itself.
    """
    plausible = [f for f in finals if f[0] >= 0.45 and f[1] > 0.0]
    if not plausible:
        return None
    # A shape cut by the frame edge is taken only when nothing whole is about as good: the
    # sheet under a photocopied card or page runs out of frame more often than the card does.
    best = max(plausible, key=lambda f: f[0] * (0.5 + 0.5 * f[1]) * (0.8 if f[5] else 1.0))
    chosen = best
    for f in plausible:
        # The outer shape must be as plausible a document (a photocopied card's paper sheet
        # contains the card too, but has the wrong shape for one), and whole.
        if (
            f[2] > chosen[2]
            and not f[5]
            and f[0] >= 0.8 * best[0]
            and f[1] >= min(0.5, best[1])
            and _contains(f[4], best[4])
        ):
            chosen = f
    edge, fit, _, method, q, _ = chosen
    return edge * (0.5 + 0.5 * fit), method, q


def _contains(outer: np.ndarray, inner: np.ndarray) -> bool:
    inter, _ = cv2.intersectConvexConvex(outer, inner)
    return inter >= 0.9 * cv2.contourArea(inner)


def _dedupe(quads: list[tuple[str, np.ndarray]], tol: float) -> list[tuple[str, np.ndarray]]:
    """Drop near-duplicate quads (the cues often find the same outline); keeps first seen."""
    kept: list[tuple[str, np.ndarray]] = []
    stack = np.empty((0, 4, 2), np.float32)
    for method, q in quads:
        if len(stack) and (np.abs(stack - q).max(axis=(1, 2)) < tol).any():
            continue
        kept.append((method, q))
        stack = np.concatenate([stack, q[None]])
    return kept


# --- refinement -----------------------------------------------------------------------------


def _polish(gray: np.ndarray, q: np.ndarray, search: float) -> np.ndarray:
    """Fit each side to edge points found along its normal in ``gray`` and re-intersect.

    The working copies leave the outline a pixel or two off at full resolution; fitting a
    line to edge points recovers the corners, which for a rounded card lie outside its outline.
    """
    n = 48
    t = np.linspace(0.08, 0.92, n, dtype=np.float32)
    offsets = np.arange(-search, search + 0.5, 1.0, dtype=np.float32)
    start, d, normal = _frames(q)
    if np.linalg.norm(d, axis=1).min() < 8:
        return q
    pts = start[:, None, :] + t[None, :, None] * d[:, None, :]
    grid = pts[:, :, None, :] + offsets[None, None, :, None] * normal[:, None, None, :]
    prof = _sample(gray, grid)[..., 0]  # 4 x n x m
    grad = np.nan_to_num(np.abs(np.gradient(prof, axis=2)), nan=0.0)
    weight = 1.0 - 0.5 * np.abs(offsets) / max(search, 1.0)
    best = np.argmax(grad * weight, axis=2)  # 4 x n
    strength = np.take_along_axis(grad, best[..., None], axis=2)[..., 0]
    lines = []
    for i in range(4):
        keep = strength[i] > max(2.0, float(np.percentile(strength[i], 30)))
        if keep.sum() < 8:
            u = d[i] / np.linalg.norm(d[i])
            lines.append((start[i].astype(np.float64), u.astype(np.float64)))
            continue
        found = pts[i][keep] + offsets[best[i][keep], None] * normal[i][None, :]
        lines.append(_robust_line(found))
    corners = [_intersect(lines[i - 1], lines[i]) for i in range(4)]
    if any(c is None for c in corners):
        return q
    refined = np.float32(corners)
    # Polishing should not jump: keep the input if any corner moved far.
    if np.max(np.linalg.norm(refined - q, axis=1)) > 3 * search:
        return q
    return refined


def _robust_line(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pts = pts.astype(np.float32)
    for _ in range(3):
        vx, vy, x0, y0 = cv2.fitLine(pts, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        normal = np.float32([-vy, vx])
        resid = np.abs((pts - np.float32([x0, y0])) @ normal)
        cut = max(1.5, 2.5 * float(np.median(resid)))
        inliers = resid <= cut
        if inliers.all() or inliers.sum() < 8:
            break
        pts = pts[inliers]
    return np.float64([x0, y0]), np.float64([vx, vy])


# --- public API -----------------------------------------------------------------------------


def _finalists(bgr: np.ndarray, kind: str | None) -> tuple[int, list | None]:
    """Snapped candidates: (edge, aspect fit, area, method, quad in mid pixels, cut by frame).

    Returns the mid-copy shrink factor too; ``None`` instead of a list for a full-frame image.
    """
    h, w = bgr.shape[:2]
    # Two working copies by integer shrinking: "mid" (<= ~1000 px) to snap and judge sides,
    # "small" (half that) to propose candidates.
    f_mid = max(1, math.ceil(max(h, w) / MID_SIDE))
    mid = _shrink(bgr, f_mid)
    ycc_mid = cv2.cvtColor(cv2.GaussianBlur(mid, (0, 0), 1.2), cv2.COLOR_BGR2YCrCb)
    ycc_mid[..., 0] = cv2.LUT(ycc_mid[..., 0], _LIGHTNESS)
    ycc_small = _shrink(ycc_mid, 2)
    if _is_full_frame(ycc_small, w / h, kind):
        return f_mid, None
    img_mid = ycc_mid.astype(np.float32)
    img_small = ycc_small.astype(np.float32)
    mh, mw = mid.shape[:2]

    proposals = [
        (m, order_quad(q)) for m, q in _candidates(cv2.GaussianBlur(ycc_small, (0, 0), 1.0))
    ]
    proposals = [(m, q) for m, q in proposals if _is_convex_quad(q, 35.0)]
    rough = []
    for method, q in _dedupe(proposals, tol=0.01 * max(img_small.shape[:2])):
        sup = _side_support(img_small, q, n=16)
        rough.append((float(sup.mean()) * math.sqrt(cv2.contourArea(q)), method, q * 2.0))
    rough.sort(key=lambda r: -r[0])
    rough = rough[:MAX_FINALISTS]

    finals = []
    for _, method, q in rough:
        side = float(np.min(_side_lengths(q)))
        reach = float(np.clip(0.06 * side, 4, 40))
        # Outlines from masks that ran into the frame edge lie on it exactly: those are cut.
        q2 = order_quad(_snap(img_mid, q, reach, fixed=_border_sides(q, mw, mh, 3.0)))
        if not _is_convex_quad(q2):
            continue
        area = cv2.contourArea(q2) / (mh * mw)
        if area < _MIN_AREA:
            continue
        support = _side_support(img_mid, q2)
        fit = _aspect_fit(_quad_aspect(q2), kind)
        cut = _border_sides(q2, mw, mh)
        is_cut = bool(1 <= cut.sum() <= 2 and support[~cut].min() >= 0.6)
        if is_cut:
            # A document running out of the frame shows no edge where it is cut: credit those
            # sides (the caller reports it as incomplete) and do not judge the visible part's
            # shape, which is any fraction of the whole.
            support[cut] = 0.75
            fit = max(fit, 0.3)
        edge = 0.7 * float(support.mean()) + 0.3 * float(support.min())
        finals.append((edge, fit, area, method, q2, is_cut))
    return f_mid, finals


def locate_document(bgr: np.ndarray, kind: Kind | None = None) -> Located:
    """Find the card (``kind="card"``) or register page (``"page"``) in a BGR photo.

    Returns the best-supported quadrilateral in input pixels, or ``quad=None`` when nothing
    document-like is there. ``touches_border`` means a side of the document runs along or past
    the frame edge, i.e. part of it is probably cut off.
    """
    if kind not in _ASPECTS:
        raise ValueError(f"kind must be 'card', 'page' or None, not {kind!r}")
    if bgr.ndim != 3 or bgr.shape[2] != 3 or min(bgr.shape[:2]) < 16:
        raise ValueError("expected a BGR image of at least 16x16 pixels")
    h, w = bgr.shape[:2]
    f_mid, finals = _finalists(bgr, kind)
    if finals is None:  # the image already is the document
        quad = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        return Located(quad, 1.0, False, 0.6, "full-frame")
    best = _select(finals)
    if best is None:
        return Located(None, 0.0, False, 0.0, "")
    score, method, q_mid = best
    # Final polish on a copy of at most POLISH_SIDE: finer than that adds time, not accuracy.
    f_pol = max(1, math.ceil(max(h, w) / POLISH_SIDE))
    gray = _shrink(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), f_pol)
    gray = cv2.GaussianBlur(gray, (0, 0), 1.0).astype(np.float32)
    quad = q_mid * (f_mid / f_pol)
    quad = order_quad(_polish(gray, quad, max(2.0, 1.5 * f_mid / f_pol))) * f_pol
    area_ratio = float(cv2.contourArea(quad) / (h * w))
    return Located(quad, area_ratio, _touches_border(quad, w, h), min(1.0, score), method)


def _border_margin(w: int, h: int) -> float:
    return 0.008 * max(w, h) + 2


def _border_sides(q: np.ndarray, w: int, h: int, m: float | None = None) -> np.ndarray:
    """Per side (TL-TR, TR-BR, BR-BL, BL-TL): whether it runs along an edge of the frame."""
    m = _border_margin(w, h) if m is None else m
    near = np.stack(
        [q[:, 0] <= m, q[:, 1] <= m, q[:, 0] >= w - 1 - m, q[:, 1] >= h - 1 - m], axis=1
    )  # corner x frame edge
    both = near & np.roll(near, -1, axis=0)  # both ends of side i near the same frame edge
    return both.any(axis=1)


def _touches_border(q: np.ndarray, w: int, h: int) -> bool:
    m = _border_margin(w, h)
    return bool(
        (q[:, 0] <= m).any()
        or (q[:, 1] <= m).any()
        or (q[:, 0] >= w - 1 - m).any()
        or (q[:, 1] >= h - 1 - m).any()
    )


def rectify(
    bgr: np.ndarray, quad: np.ndarray, *, long_side: int = 1000, landscape: bool = True
) -> np.ndarray:
    """Warp the quad (any corner order) to a flat, square-on crop ``long_side`` pixels long.

    With ``landscape`` (cards always; the register pages of the 户口簿 are landscape too) a
    document lying on its side is turned so the long side is horizontal; pass False for a
    portrait form (an A4 certificate) to keep the shape it has in the photo. Which of the two
    landscape ways up is right needs the text: see ``orient_by_text``.
    """
    return rectify_mapped(bgr, quad, long_side=long_side, landscape=landscape)[0]


def rectify_mapped(
    bgr: np.ndarray,
    quad: np.ndarray,
    *,
    long_side: int = 1000,
    landscape: bool = True,
    ordered: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``rectify``, also returning the 3x3 map from photo pixels to crop pixels.

    ``ordered``: the quad's corners already run TL, TR, BR, BL as the document reads, so keep
    that order (and so the document's way up) instead of sorting corners by position.
    """
    q = np.asarray(quad, np.float32).reshape(4, 2) if ordered else order_quad(quad)
    s = _side_lengths(q)
    width, height = (s[0] + s[2]) / 2, (s[1] + s[3]) / 2
    if landscape and not ordered and height > width:
        q = np.roll(q, -1, axis=0)  # start from TR: the long side becomes the top
        width, height = height, width
    k = long_side / max(width, height)
    out_w, out_h = max(1, round(width * k)), max(1, round(height * k))
    # Warping straight down to a much smaller size skips source pixels and aliases thin
    # strokes: warp to a size at most 2x down, then average down with INTER_AREA.
    f = max(1, min(4, math.ceil(0.5 / k)))
    dst = np.float32([[0, 0], [out_w * f, 0], [out_w * f, out_h * f], [0, out_h * f]])
    m = cv2.getPerspectiveTransform(q.astype(np.float32), dst)
    flat = cv2.warpPerspective(bgr, m, (out_w * f, out_h * f), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    if f > 1:
        flat = cv2.resize(flat, (out_w, out_h), interpolation=cv2.INTER_AREA)
    return flat, np.diag([1.0 / f, 1.0 / f, 1.0]) @ m


def orient_by_text(lines: Sequence, crop_shape: tuple[int, ...]) -> int:
    """Guess how far (0, 90, 180 or 270 degrees clockwise) the crop must turn to be upright.

    Uses only the geometry of the OCR line boxes:
    - lines much taller than wide mean the text runs vertically: the crop is on its side;
    - Chinese forms and cards are left-aligned: many lines start at a few shared x positions
      while their ends are ragged. If the shared positions are at the line ends instead, the
      text is upside down (the same test on y decides between 90 and 270).
    Returns 0 when there is too little text to tell. The OCR engine's own confidence on the
    crop and its 180-degree turn is a stronger check for the 0/180 case, at twice the cost.
    """
    boxes = []
    for line in lines:
        box = np.asarray(getattr(line, "box", line), np.float32).reshape(-1, 2)
        x0, y0 = box.min(axis=0)
        x1, y1 = box.max(axis=0)
        if (x1 - x0) > 2 and (y1 - y0) > 2:
            boxes.append((x0, y0, x1, y1))
    if len(boxes) < 2:
        return 0
    arr = np.float32(boxes)
    widths, heights = arr[:, 2] - arr[:, 0], arr[:, 3] - arr[:, 1]
    long_lines = np.maximum(widths, heights) >= 2.0 * np.minimum(widths, heights)
    if long_lines.sum() < 2:
        return 0
    arr, widths, heights = arr[long_lines], widths[long_lines], heights[long_lines]
    vertical = (heights > widths).mean() > 0.5
    scale = float(max(crop_shape[:2]))
    if vertical:
        sel = arr[heights > widths]
        starts, ends = sel[:, 1], sel[:, 3]  # top and bottom ends
    else:
        sel = arr[widths >= heights]
        starts, ends = sel[:, 0], sel[:, 2]
    start_aligned = _alignment(starts, scale)
    end_aligned = _alignment(ends, scale)
    if vertical:
        # Turned 90 degrees clockwise, lines run downwards and start together at the top: it
        # takes 270 more degrees (clockwise) to be upright. Starting at the bottom: 90.
        return 270 if start_aligned >= end_aligned else 90
    return 0 if start_aligned >= end_aligned else 180


def _alignment(values: np.ndarray, scale: float) -> float:
    """Share of values that have another value within 1% of the crop size (shared margins)."""
    if len(values) < 2:
        return 0.0
    tol = 0.01 * scale
    diffs = np.abs(values[:, None] - values[None, :])
    np.fill_diagonal(diffs, np.inf)
    return float((diffs.min(axis=1) <= tol).mean())


# Where GB 16899 prints the labels of the photo side: left end of the baseline, in mm from the
# card's top-left corner. Values move with the personalisation printer; labels do not.
ID_FRONT_LABELS_MM = {
    "姓名": (6.3, 9.6),
    "性别": (6.3, 15.9),
    "民族": (27.6, 15.9),
    "出生": (6.3, 22.2),
    "住址": (6.3, 28.6),
    "公民身份号码": (6.3, 47.6),
}
ID_NUMBER_END_MM = (79.6, 47.8)  # right end of the 18-character number's baseline
_ID_NUMBER_END = re.compile(r"\d{17}[\dXx]$")
CARD_MM = (85.6, 54.0)


def card_quad_from_labels(lines: Sequence) -> np.ndarray | None:
    """The corners of an upright ID card front, placed from where its printed labels were read.

    For photos where the outline is lost (a pale card on pale paper, a hand over the edge):
    the labels' baselines and the number's right end pin a transform from card millimetres to
    pixels (affine, or a homography when five points agree with it). Needs three points at
    least 20 mm apart; returns None otherwise.
    """
    src, dst = [], []
    for label, (x_mm, y_mm) in ID_FRONT_LABELS_MM.items():
        hits = [ln for ln in lines if ln.text.startswith(label)]
        if len(hits) != 1:
            continue
        box = np.asarray(hits[0].box, np.float32).reshape(-1, 2)
        src.append((x_mm, y_mm))
        dst.append(box[3])  # bottom-left corner, about the baseline's left end
    numbers = [ln for ln in lines if _ID_NUMBER_END.search(ln.text.replace(" ", ""))]
    if len(numbers) == 1:
        # The number's right end reaches across the card, where no label is.
        box = np.asarray(numbers[0].box, np.float32).reshape(-1, 2)
        src.append(ID_NUMBER_END_MM)
        dst.append(box[2])
    if len(src) < 3:
        return None
    src_mm, dst_px = np.float32(src), np.float32(dst)
    if np.ptp(src_mm, axis=0).max() < 20:
        return None
    w, h = CARD_MM
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    matrix, _inliers = cv2.estimateAffine2D(src_mm, dst_px, method=cv2.LMEDS)
    if matrix is None or math.hypot(matrix[0, 0], matrix[1, 0]) <= 1:
        # Under 1 px per mm nothing on the card is readable anyway.
        return None
    quad = (corners @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)
    if len(src) >= 5:
        # Enough points to undo perspective too. Most of them share one column, which can
        # leave the homography ill-conditioned: keep it only if it stays near the affine fit.
        homography, _mask = cv2.findHomography(src_mm, dst_px, 0)
        if homography is not None:
            warped = cv2.perspectiveTransform(corners[None], homography)[0]
            reach = 0.08 * float(np.linalg.norm(quad[1] - quad[0]))
            if np.linalg.norm(warped - quad, axis=1).max() <= reach:
                return warped.astype(np.float32)
    return quad
