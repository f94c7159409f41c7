"""Turn a flat document render into a phone photo, recording every degradation applied."""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np
from PIL import Image

__all__ = ["BACKGROUNDS", "Degradation", "Photo", "photograph", "sample_degradation"]

BACKGROUNDS = ("wood", "fabric", "desk", "tablecloth", "granite", "paper")
_SIZES = (((1600, 1200), 12), ((2000, 1500), 4), ((1200, 1600), 3), ((4000, 3000), 1))


@dataclass
class Degradation:
    """Parameters of one simulated photo; every field ends up in the ground truth."""

    output_size: tuple[int, int] = (1600, 1200)
    # Width of the document (before rotation and tilt) as a fraction of the photo width.
    scale_in_frame: float = 0.7
    rotation_deg: float = 0.0
    upside_down: bool = False
    # Largest corner displacement from the rotated rectangle, as a fraction of document size.
    perspective: float = 0.0
    # Where the document centre sits in the room left around it, -1..1 on each axis.
    offset: tuple[float, float] = (0.0, 0.0)
    background: str = "desk"
    photocopy: bool = False
    # Register pages bow along their length; peak displacement as a fraction of page height.
    page_bend: float = 0.0
    brightness: float = 1.0
    color_temperature: float = 0.0  # <0 cooler (bluer), >0 warmer (yellower)
    lighting_gradient: float = 0.0
    shadow: dict | None = None
    glare: dict | None = None
    vignette: float = 0.0
    blur_sigma: float = 0.0
    motion_blur: dict | None = None
    noise_sigma: float = 0.0
    sharpen: float = 0.0
    jpeg_quality: int = 90

    def to_json(self) -> dict:
        data = asdict(self)
        data["output_size"] = list(self.output_size)
        data["offset"] = [round(v, 4) for v in self.offset]
        for key, value in data.items():
            if isinstance(value, float):
                data[key] = round(value, 4)
        return data


@dataclass
class Photo:
    """The photo and where the document's corners (TL, TR, BR, BL as printed) ended up."""

    image: Image.Image
    corners: list[list[float]]
    degradation: Degradation
    legible: bool
    extras: dict = field(default_factory=dict)


def sample_degradation(rng: random.Random, document_type: str, **overrides) -> Degradation:
    """Random camera conditions in the ranges the issue asks for; ``overrides`` pin any field."""
    sizes = [s for s, _ in _SIZES]
    size = rng.choices(sizes, weights=[w for _, w in _SIZES])[0]
    card = document_type.startswith("id_card")
    small = rng.random() < 0.12
    scale = rng.uniform(0.22, 0.35) if small else rng.uniform(0.45, 0.85 if card else 0.9)
    photocopy = rng.random() < 0.08
    deg = Degradation(
        output_size=size,
        scale_in_frame=scale,
        rotation_deg=rng.uniform(-15, 15) if rng.random() < 0.7 else rng.uniform(-3, 3),
        upside_down=rng.random() < 0.1,
        perspective=rng.uniform(0.0, 0.09),
        offset=(rng.uniform(-1, 1), rng.uniform(-1, 1)),
        background=rng.choice(BACKGROUNDS),
        photocopy=photocopy,
        page_bend=0.0 if card else rng.uniform(0.0, 0.02),
        brightness=rng.uniform(0.8, 1.12),
        color_temperature=rng.uniform(-0.08, 0.1),
        lighting_gradient=rng.uniform(0.0, 0.25),
        shadow=_sample_shadow(rng) if rng.random() < 0.3 else None,
        glare=_sample_glare(rng) if rng.random() < 0.25 and not photocopy else None,
        vignette=rng.uniform(0.0, 0.35),
        blur_sigma=rng.choice((0.0, 0.0, rng.uniform(0.3, 1.2), rng.uniform(0.8, 2.8))),
        motion_blur=(
            {"length": rng.uniform(3, 9), "angle": rng.uniform(0, 180)}
            if rng.random() < 0.1
            else None
        ),
        noise_sigma=rng.uniform(0.5, 4.0),
        sharpen=rng.uniform(0.0, 0.7),
        jpeg_quality=rng.randint(35, 90),
    )
    for key, value in overrides.items():
        if not hasattr(deg, key):
            raise TypeError(f"unknown degradation {key!r}")
        setattr(deg, key, value)
    return deg


def _sample_shadow(rng: random.Random) -> dict:
    # A soft-edged shadow of a hand or phone coming in from one side of the frame.
    return {
        "side": rng.choice(("left", "right", "top", "bottom")),
        "depth": round(rng.uniform(0.2, 0.55), 4),
        "curve": round(rng.uniform(-0.15, 0.15), 4),
        "strength": round(rng.uniform(0.25, 0.55), 4),
        "softness": round(rng.uniform(0.01, 0.05), 4),
    }


def _sample_glare(rng: random.Random) -> dict:
    # Position within the document (0..1 on each axis), so the reflection always hits it.
    return {
        "at": [round(rng.uniform(0.15, 0.85), 4), round(rng.uniform(0.15, 0.85), 4)],
        "radius": round(rng.uniform(0.08, 0.25), 4),
        "aspect": round(rng.uniform(1.0, 2.5), 4),
        "angle": round(rng.uniform(0, 180), 2),
        "strength": round(rng.uniform(0.5, 0.95), 4),
    }


# --- backgrounds ---------------------------------------------------------------------------


def _noise(nrng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    coarse = nrng.random((max(2, cells * h // w), cells)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _fractal(nrng: np.random.Generator, h: int, w: int, octaves: int = 4) -> np.ndarray:
    total = np.zeros((h, w), np.float32)
    amp, cells, norm = 1.0, 4, 0.0
    for _ in range(octaves):
        total += amp * _noise(nrng, h, w, cells)
        norm += amp
        amp *= 0.5
        cells *= 3
    return total / norm


def _background(kind: str, size: tuple[int, int], nrng: np.random.Generator) -> np.ndarray:
    """A procedural surface the document lies on, float32 RGB in 0..255."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "wood":
        base = np.array(nrng.choice([[150, 100, 62], [120, 78, 48], [186, 140, 96], [92, 60, 40]]))
        # Grain: noise stretched along the boards, plus the occasional darker board seam.
        streaks = cv2.resize(
            nrng.random((max(8, h // 6), 5)).astype(np.float32),
            (w, h),
            interpolation=cv2.INTER_CUBIC,
        )
        fine = cv2.resize(
            nrng.random((max(8, h // 2), 24)).astype(np.float32),
            (w, h),
            interpolation=cv2.INTER_LINEAR,
        )
        board = h / nrng.uniform(2.5, 5)
        seams = np.exp(-(((yy + nrng.uniform(0, board)) % board) ** 2) / 3.0)
        lum = 1 + 0.22 * (streaks - 0.5) + 0.08 * (fine - 0.5) - 0.25 * seams
        lum *= 1 + 0.1 * (_fractal(nrng, h, w, 2) - 0.5)
    elif kind == "fabric":
        base = np.array(nrng.choice([[70, 80, 110], [150, 60, 60], [90, 110, 90], [180, 170, 150]]))
        period = nrng.uniform(3, 6)
        weave = np.sin(xx * 2 * math.pi / period) * np.sin(yy * 2 * math.pi / period)
        lum = 1 + 0.08 * weave + 0.15 * (_fractal(nrng, h, w, 3) - 0.5)
    elif kind == "tablecloth":
        base = np.array(nrng.choice([[200, 60, 60], [60, 90, 160], [70, 140, 90]]))
        cell = nrng.uniform(40, 90) * w / 1600
        checks = ((xx // cell + yy // cell) % 2).astype(np.float32)
        checks = cv2.GaussianBlur(checks, (0, 0), 1.5)
        mix = checks[..., None]
        white = np.array([235, 232, 226], np.float32)
        rgb = base * (1 - mix) + white * mix
        return rgb * (1 + 0.08 * (_fractal(nrng, h, w, 3)[..., None] - 0.5))
    elif kind == "granite":
        base = np.array(nrng.choice([[128, 128, 124], [60, 60, 64], [200, 196, 188]]))
        speck = cv2.GaussianBlur(nrng.random((h, w)).astype(np.float32), (0, 0), 1.2)
        lum = 1 + 0.6 * (speck - 0.5) + 0.15 * (_fractal(nrng, h, w, 3) - 0.5)
    elif kind == "paper":
        base = np.array([236, 234, 228])
        lum = 1 + 0.03 * (_fractal(nrng, h, w, 4) - 0.5)
    else:  # plain desk: a flat colour with a gentle sheen
        base = np.array(
            nrng.choice([[225, 225, 222], [40, 40, 44], [170, 160, 150], [205, 215, 225]])
        )
        lum = 1 + 0.06 * (_fractal(nrng, h, w, 3) - 0.5)
    return base.astype(np.float32) * lum[..., None]


# --- document preparation ------------------------------------------------------------------


def _rounded_mask(size: tuple[int, int], radius: float) -> np.ndarray:
    w, h = size
    mask = np.zeros((h, w), np.uint8)
    r = max(1, int(radius))
    cv2.rectangle(mask, (r, 0), (w - 1 - r, h - 1), 255, -1)
    cv2.rectangle(mask, (0, r), (w - 1, h - 1 - r), 255, -1)
    for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
        cv2.circle(mask, (cx, cy), r, 255, -1, lineType=cv2.LINE_AA)
    return mask


def _photocopy(doc: np.ndarray, nrng: np.random.Generator) -> np.ndarray:
    """Grey, contrasty, with toner specks: what a photocopy of the document looks like."""
    grey = cv2.cvtColor(doc.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    # Copiers drop light tints to white and push dark ink to near black.
    grey = np.clip((grey - 70) * 255 / (215 - 70), 0, 255)
    grey += nrng.normal(0, 6, grey.shape).astype(np.float32)
    specks = nrng.random(grey.shape) < 0.0015
    grey[specks] = nrng.uniform(20, 120)
    grey = cv2.GaussianBlur(grey, (0, 0), 0.6)
    return np.repeat(np.clip(grey, 0, 255)[..., None], 3, axis=2)


def _bend(doc: np.ndarray, mask: np.ndarray, amount: float) -> tuple[np.ndarray, np.ndarray]:
    """Bow the page; the displacement vanishes at the corners so they stay exact."""
    h, w = mask.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shift = amount * h * np.sin(np.pi * xx / max(w - 1, 1)) * (1 - np.abs(2 * yy / (h - 1) - 1))
    map_y = yy - shift
    doc = cv2.remap(doc, xx, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.remap(mask, xx, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return doc, mask


def _booklet(
    doc: np.ndarray, mask: np.ndarray, nrng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Frame a register page with the booklet's cover board showing round its edges."""
    h, w = mask.shape
    margin = max(4, int(w * 0.022))
    cover = np.array(nrng.choice([[120, 40, 38], [96, 32, 34], [128, 52, 44]]), np.float32)
    out = np.empty((h + 2 * margin, w + 2 * margin, 3), np.float32)
    out[:] = cover * (1 + 0.1 * (nrng.random((h + 2 * margin, w + 2 * margin, 1)) - 0.5))
    # The page casts a thin shadow onto the cover board.
    shade = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), margin / 3)
    pad = np.pad(shade, margin)
    out *= 1 - 0.35 * pad[..., None]
    inner = out[margin : margin + h, margin : margin + w]
    alpha = mask.astype(np.float32)[..., None] / 255
    out[margin : margin + h, margin : margin + w] = inner * (1 - alpha) + doc * alpha
    full = _rounded_mask((w + 2 * margin, h + 2 * margin), margin)
    return out, full, (margin, margin)


# --- geometry ------------------------------------------------------------------------------


def _destination(
    deg: Degradation, doc_size: tuple[int, int], rng: random.Random
) -> tuple[np.ndarray, float]:
    """The document's four corners in the photo (TL, TR, BR, BL of the document itself)."""
    out_w, out_h = deg.output_size
    w, h = doc_size
    scale = deg.scale_in_frame
    angle = math.radians(deg.rotation_deg + (180.0 if deg.upside_down else 0.0))
    jitter = np.array([[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(4)], np.float32)
    for _ in range(40):
        tw, th = out_w * scale, out_w * scale * h / w
        rect = np.array(
            [[-tw / 2, -th / 2], [tw / 2, -th / 2], [tw / 2, th / 2], [-tw / 2, th / 2]]
        )
        rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        quad = rect @ rot.T + jitter * deg.perspective * max(tw, th)
        span = quad.max(axis=0) - quad.min(axis=0)
        margin = 0.02 * min(out_w, out_h)
        room = np.array([out_w, out_h]) - span - 2 * margin
        if (room >= 0).all():
            break
        # Too big to fit at this angle: shrink, and report the scale actually used.
        scale *= 0.95
    room = np.maximum(room, 0)
    centre = np.array([out_w, out_h]) / 2 + np.array(deg.offset) * room / 2
    quad = quad - (quad.max(axis=0) + quad.min(axis=0)) / 2 + centre
    return quad.astype(np.float32), scale


def _warp_into(
    canvas: np.ndarray,
    layer: np.ndarray,
    mask: np.ndarray,
    matrix: np.ndarray,
    drop_shadow: float,
    rng: random.Random,
) -> np.ndarray:
    h, w = canvas.shape[:2]
    warped = cv2.warpPerspective(layer, matrix, (w, h), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpPerspective(
        mask.astype(np.float32) / 255, matrix, (w, h), flags=cv2.INTER_LINEAR
    )
    if drop_shadow > 0:
        blur = max(2.0, 0.006 * w)
        shadow = cv2.GaussianBlur(alpha, (0, 0), blur)
        shift = np.float32(
            [[1, 0, rng.uniform(-1, 1) * blur], [0, 1, rng.uniform(0.3, 1.2) * blur]]
        )
        shadow = cv2.warpAffine(shadow, shift, (w, h))
        canvas = canvas * (1 - drop_shadow * shadow[..., None])
    a = alpha[..., None]
    return canvas * (1 - a) + warped * a


# --- lighting and optics -------------------------------------------------------------------


def _shadow_map(spec: dict, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xx / w, yy / h
    side = spec["side"]
    if side in ("left", "right"):
        coord = u if side == "left" else 1 - u
        edge = spec["depth"] + spec["curve"] * np.sin(np.pi * v)
    else:
        coord = v if side == "top" else 1 - v
        edge = spec["depth"] + spec["curve"] * np.sin(np.pi * u)
    inside = 1 / (1 + np.exp((coord - edge) / max(spec["softness"], 1e-3)))
    return 1 - spec["strength"] * inside


def _glare_map(spec: dict, quad: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, list]:
    w, h = size
    # Bilinear position inside the document quad, so the highlight lands on the document.
    gx, gy = spec["at"]
    top = quad[0] + (quad[1] - quad[0]) * gx
    bottom = quad[3] + (quad[2] - quad[3]) * gx
    centre = top + (bottom - top) * gy
    doc_size = float(np.linalg.norm(quad[1] - quad[0]))
    r = spec["radius"] * doc_size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = math.radians(spec["angle"])
    dx, dy = xx - centre[0], yy - centre[1]
    rx = (dx * math.cos(a) + dy * math.sin(a)) / (r * spec["aspect"])
    ry = (-dx * math.sin(a) + dy * math.cos(a)) / r
    d2 = rx * rx + ry * ry
    # A saturated core with a wide soft halo, as a lamp reflected on laminate.
    glow = spec["strength"] * (np.exp(-d2 * 2.0) + 0.35 * np.exp(-d2 * 0.35))
    return np.clip(glow, 0, 1), [round(float(centre[0]), 1), round(float(centre[1]), 1)]


def _glow_over_fields(boxes: dict, quad: np.ndarray, glow: np.ndarray) -> dict[str, np.ndarray]:
    """The highlight's strength sampled on a grid over each field's box."""
    matrix = cv2.getPerspectiveTransform(np.float32([[0, 0], [1, 0], [1, 1], [0, 1]]), quad)
    h, w = glow.shape
    out = {}
    for key, (x0, y0, x1, y1) in boxes.items():
        xs, ys = np.meshgrid(np.linspace(x0, x1, 19), np.linspace(y0, y1, 3))
        pts = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)[None]
        img_pts = cv2.perspectiveTransform(pts, matrix)[0]
        cols = np.clip(img_pts[:, 0].astype(int), 0, w - 1)
        rows = np.clip(img_pts[:, 1].astype(int), 0, h - 1)
        out[key] = glow[rows, cols]
    return out


def _glared_fields(samples: dict[str, np.ndarray]) -> list[str]:
    """Fields whose box is mostly under a highlight strong enough to bleach ink."""
    return [key for key, glow in samples.items() if (glow > 0.6).mean() >= 0.3]


# Glare lifts ink and paper towards white: at this strength the ink is within about 25 grey
# levels of the paper, which JPEG and sensor noise erase. Any character there is lost.
BLEACHED_GLOW = 0.75


def _bleached_fields(samples: dict[str, np.ndarray]) -> list[str]:
    """Fields with some part bleached out: no reader, human or OCR, can get them all right."""
    return [key for key, glow in samples.items() if glow.max() >= BLEACHED_GLOW]


def _motion_kernel(length: float, angle: float) -> np.ndarray:
    size = max(3, math.ceil(length) | 1)
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    for t in np.linspace(-length / 2, length / 2, size * 4):
        kernel[round(c + dy * t), round(c + dx * t)] = 1
    return kernel / kernel.sum()


def _text_height_fraction(document_type: str) -> float:
    # Value glyph height relative to document height: 3.3 mm of 54 mm on a card,
    # 3.2 mm of 105 mm on a register page.
    return 0.061 if document_type.startswith("id_card") else 0.03


def photograph(
    doc: Image.Image,
    document_type: str,
    deg: Degradation,
    rng: random.Random,
    field_boxes: dict[str, tuple[float, float, float, float]] | None = None,
) -> Photo:
    """Place the flat render in a synthetic phone photo according to ``deg``.

    ``field_boxes`` (fractions of the document) let the result name the fields that glare
    washed out, so a benchmark does not blame the reader for text no camera could capture.
    """
    nrng = np.random.default_rng(rng.randrange(2**32))
    out_w, out_h = deg.output_size
    card = document_type.startswith("id_card")
    src = np.asarray(doc.convert("RGB"), np.float32)
    h, w = src.shape[:2]
    mask = _rounded_mask((w, h), w * 3.18 / 85.6) if card else np.full((h, w), 255, np.uint8)
    if deg.photocopy:
        src = _photocopy(src, nrng)
        # The copier images the card's edge as a thin dark outline.
        framed = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
        edge = cv2.morphologyEx(framed, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))[1:-1, 1:-1]
        edge = cv2.bitwise_and(edge, mask)
        src[edge > 0] = src[edge > 0] * 0.45
    if deg.page_bend > 0:
        src, mask = _bend(src, mask, deg.page_bend)

    # Corners of the document inside the layer that gets warped (it may carry a frame).
    layer, layer_mask, origin = src, mask, (0, 0)
    if not card and not deg.photocopy:
        layer, layer_mask, origin = _booklet(src, mask, nrng)
    if deg.photocopy:
        # A copy is a sheet of paper with the document image in the middle of it.
        pad = int(0.25 * w)
        paper = np.full((h + 2 * pad, w + 2 * pad, 3), 246, np.float32)
        paper += nrng.normal(0, 2, paper.shape[:2])[..., None]
        alpha = mask.astype(np.float32)[..., None] / 255
        paper[pad : pad + h, pad : pad + w] = (
            paper[pad : pad + h, pad : pad + w] * (1 - alpha) + src * alpha
        )
        layer, layer_mask, origin = paper, np.full(paper.shape[:2], 255, np.uint8), (pad, pad)
    ox, oy = origin
    src_quad = np.float32([[ox, oy], [ox + w, oy], [ox + w, oy + h], [ox, oy + h]])

    quad, used_scale = _destination(deg, (w, h), rng)
    deg.scale_in_frame = used_scale
    # Shrink the layer first so warping never decimates (which aliases thin strokes).
    target_w = float(np.linalg.norm(quad[1] - quad[0]))
    factor = min(1.0, 1.15 * target_w / w)
    if factor < 1.0:
        lh, lw = layer.shape[:2]
        size = (max(1, round(lw * factor)), max(1, round(lh * factor)))
        layer = cv2.resize(layer, size, interpolation=cv2.INTER_AREA)
        layer_mask = cv2.resize(layer_mask, size, interpolation=cv2.INTER_AREA)
        src_quad = src_quad * np.float32([size[0] / lw, size[1] / lh])
    matrix = cv2.getPerspectiveTransform(src_quad, quad)
    canvas = _background(deg.background, deg.output_size, nrng)
    canvas = _warp_into(canvas, layer, layer_mask, matrix, rng.uniform(0.15, 0.4), rng)

    # Lighting: exposure, white balance, a gradient across the scene, shadow, glare, vignette.
    canvas *= deg.brightness
    t = deg.color_temperature * (0.3 if deg.photocopy else 1.0)
    canvas *= np.array([1 + t, 1 + 0.2 * t, 1 - t], np.float32)
    if deg.lighting_gradient > 0:
        a = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
        ramp = ((xx / out_w - 0.5) * math.cos(a) + (yy / out_h - 0.5) * math.sin(a)) * 2
        canvas *= (1 + deg.lighting_gradient * 0.5 * ramp)[..., None]
    if deg.shadow:
        canvas *= _shadow_map(deg.shadow, deg.output_size)[..., None]
    extras: dict = {}
    if deg.glare:
        glow, centre = _glare_map(deg.glare, quad, deg.output_size)
        canvas = canvas + (255 * 1.15 - canvas) * glow[..., None]
        extras["glare_center_px"] = centre
        samples = _glow_over_fields(field_boxes or {}, quad, glow)
        extras["glared_fields"] = _glared_fields(samples)
        extras["bleached_fields"] = _bleached_fields(samples)
    if deg.vignette > 0:
        yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
        r2 = ((xx / out_w - 0.5) ** 2 + (yy / out_h - 0.5) ** 2) * 2
        canvas *= (1 - deg.vignette * r2)[..., None]

    # Optics and sensor: defocus, hand shake, noise, then the phone's own sharpening.
    if deg.blur_sigma > 0:
        canvas = cv2.GaussianBlur(canvas, (0, 0), deg.blur_sigma)
    if deg.motion_blur:
        kernel = _motion_kernel(deg.motion_blur["length"], deg.motion_blur["angle"])
        canvas = cv2.filter2D(canvas, -1, kernel)
    if deg.noise_sigma > 0:
        luma = nrng.normal(0, deg.noise_sigma, (out_h, out_w, 1)).astype(np.float32)
        chroma = nrng.normal(0, deg.noise_sigma * 0.5, (out_h, out_w, 3)).astype(np.float32)
        canvas = canvas + luma + chroma
    if deg.sharpen > 0:
        soft = cv2.GaussianBlur(canvas, (0, 0), 1.5)
        canvas = canvas + deg.sharpen * (canvas - soft)
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    if deg.photocopy:
        extras["grayscale"] = True

    text_px = (
        _text_height_fraction(document_type)
        * float(np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1]))
        / 2
    )
    smear = max(deg.blur_sigma, (deg.motion_blur or {}).get("length", 0.0) / 3)
    legible = (
        text_px >= 9.0
        and smear <= 0.2 * text_px
        and not (deg.glare and deg.glare["strength"] > 0.9 and deg.glare["radius"] > 0.2)
        and not (deg.jpeg_quality < 45 and text_px < 14)
    )
    extras["text_height_px"] = round(text_px, 1)
    corners = [[round(float(x), 2), round(float(y), 2)] for x, y in quad]
    return Photo(image, corners, deg, legible, extras)
