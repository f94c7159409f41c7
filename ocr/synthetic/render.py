"""Flat, camera-free renders of ID cards and household-register pages at true proportions."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ocr.synthetic.fonts import font, has_glyph
from ocr.synthetic.people import Household, IdCardBack, MemberRecord, Person

__all__ = [
    "CARD_MM",
    "REGISTER_MM",
    "Rendered",
    "render_household_home",
    "render_household_member",
    "render_id_back",
    "render_id_front",
]

CARD_MM = (85.6, 54.0)  # ISO/IEC 7810 ID-1, the size of a 居民身份证
REGISTER_MM = (143.0, 105.0)  # an open page of the 居民户口簿

_LABEL_BLUE = (38, 112, 178)
_CARD_INK = (22, 22, 26)
_FORM_INK = (48, 56, 66)
_SEAL_RED = (205, 38, 48)
_PEN_INKS = ((28, 38, 110), (20, 20, 30), (40, 40, 120))


@dataclass
class Rendered:
    """A flat document image and where each field's text landed (fractions of width/height)."""

    image: Image.Image
    fields: dict[str, str | bool | None]
    boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    style: dict[str, str] = field(default_factory=dict)


class _Sheet:
    """A page measured in millimetres; text helpers remember where each field was drawn."""

    def __init__(self, size_mm: tuple[float, float], px_width: int, background: Image.Image):
        self.scale = px_width / size_mm[0]
        self.image = background
        self.draw = ImageDraw.Draw(self.image)
        self.boxes: dict[str, list[float]] = {}

    def px(self, mm: float) -> float:
        return mm * self.scale

    def _remember(self, key: str | None, box: tuple[float, float, float, float] | None) -> None:
        if key is None or box is None:
            return
        if key in self.boxes:
            old = self.boxes[key]
            self.boxes[key] = [
                min(old[0], box[0]),
                min(old[1], box[1]),
                max(old[2], box[2]),
                max(old[3], box[3]),
            ]
        else:
            self.boxes[key] = list(box)

    def text_width(self, text: str, role: str, size_mm: float, spacing_mm: float = 0.0) -> float:
        """Advance width in mm of ``text`` as ``text()`` would draw it."""
        size = round(self.px(size_mm))
        total = sum(_font_for(role, ch, size).getlength(ch) for ch in text)
        return total / self.scale + spacing_mm * max(len(text) - 1, 0)

    def text(
        self,
        x_mm: float,
        baseline_mm: float,
        text: str,
        role: str,
        size_mm: float,
        fill: tuple[int, int, int],
        *,
        spacing_mm: float = 0.0,
        key: str | None = None,
    ) -> float:
        """Draw text from a left baseline point; returns the x (mm) after the last character."""
        size = round(self.px(size_mm))
        x = self.px(x_mm)
        y = self.px(baseline_mm)
        for ch in text:
            face = _font_for(role, ch, size)
            if not ch.isspace():
                self.draw.text((x, y), ch, font=face, fill=fill, anchor="ls")
                self._remember(key, self.draw.textbbox((x, y), ch, font=face, anchor="ls"))
            x += face.getlength(ch) + self.px(spacing_mm)
        return x / self.scale

    def handwriting(
        self,
        x_mm: float,
        baseline_mm: float,
        text: str,
        size_mm: float,
        fill: tuple[int, int, int],
        rng: random.Random,
        *,
        key: str | None = None,
    ) -> float:
        """Kai-style text with per-character wobble in size, angle and baseline, like a pen."""
        x = self.px(x_mm)
        drift = 0.0
        for ch in text:
            size = round(self.px(size_mm) * rng.uniform(0.9, 1.08))
            face = _font_for("kai", ch, size)
            advance = face.getlength(ch)
            if ch.isspace():
                x += advance
                continue
            pad = size
            mask = Image.new("L", (int(advance) + 2 * pad, 3 * size), 0)
            ImageDraw.Draw(mask).text((pad, 2 * size), ch, font=face, fill=255, anchor="ls")
            mask = mask.rotate(rng.uniform(-5, 5), resample=Image.Resampling.BICUBIC)
            drift += rng.uniform(-0.04, 0.04) * size
            top = self.px(baseline_mm) - 2 * size + drift + rng.uniform(-0.05, 0.05) * size
            ink = tuple(max(0, min(255, c + rng.randint(-12, 12))) for c in fill)
            self.image.paste(Image.new("RGB", mask.size, ink), (int(x - pad), int(top)), mask)
            inner = mask.getbbox()
            if inner:
                self._remember(
                    key, (x - pad + inner[0], top + inner[1], x - pad + inner[2], top + inner[3])
                )
            x += advance * rng.uniform(0.95, 1.12)
        return x / self.scale

    def line(self, x0: float, y0: float, x1: float, y1: float, fill, width_mm: float = 0.25):
        self.draw.line(
            [(self.px(x0), self.px(y0)), (self.px(x1), self.px(y1))],
            fill=fill,
            width=max(1, round(self.px(width_mm))),
        )

    def normalized_boxes(self) -> dict[str, tuple[float, float, float, float]]:
        w, h = self.image.size
        return {
            key: (round(b[0] / w, 4), round(b[1] / h, 4), round(b[2] / w, 4), round(b[3] / h, 4))
            for key, b in self.boxes.items()
        }


def _font_for(role: str, ch: str, size: int):
    # Fall back to Noto (which covers every character people.py uses) for rare characters.
    if has_glyph(role, ch):
        return font(role, size)
    for fallback in ("serif", "sans"):
        if has_glyph(fallback, ch):
            return font(fallback, size)
    return font(role, size)


def _dotted(day: date) -> str:
    return f"{day.year}.{day.month:02d}.{day.day:02d}"


def _cn_date(day: date, pad: bool) -> str:
    if pad:
        return f"{day.year}年{day.month:02d}月{day.day:02d}日"
    return f"{day.year}年{day.month}月{day.day}日"


# --- backgrounds ---------------------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1]: random values on a coarse grid, bicubically enlarged."""
    h, w = shape
    coarse = rng.random((max(2, cells * h // max(w, 1)), cells)).astype(np.float32)
    img = Image.fromarray((coarse * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 255.0


def _guilloche(
    img: Image.Image, rng: random.Random, colors: list[tuple[int, int, int]], lines: int
) -> None:
    """Fine interfering sine curves like the security print on a card."""
    draw = ImageDraw.Draw(img)
    w, h = img.size
    xs = np.linspace(-0.05 * w, 1.05 * w, 260)
    for i in range(lines):
        color = colors[i % len(colors)]
        phase = rng.uniform(0, 2 * math.pi)
        freq = rng.uniform(1.5, 4.0) * 2 * math.pi / w
        amp = rng.uniform(0.02, 0.08) * h
        base = (i + 0.5) / lines * h * 1.2 - 0.1 * h
        ys = (
            base + amp * np.sin(freq * xs + phase) + 0.4 * amp * np.sin(3.1 * freq * xs + 2 * phase)
        )
        draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=color, width=1)


def _card_background(size: tuple[int, int], rng: random.Random, back: bool) -> Image.Image:
    w, h = size
    nrng = np.random.default_rng(rng.randrange(2**32))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # Pale blue fading to pale warm white across the card, as on the printed stock.
    t = (xx / w * 0.7 + yy / h * 0.3)[..., None]
    left = np.array([214, 230, 240] if back else [226, 236, 243], np.float32)
    right = np.array([242, 238, 228] if back else [246, 240, 235], np.float32)
    arr = left * (1 - t) + right * t
    arr += (_smooth_noise(nrng, (h, w), 6)[..., None] - 0.5) * 10
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    _guilloche(img, rng, [(210, 222, 236), (236, 220, 226), (216, 230, 220)], 40)
    if back:
        # A faint ridge line standing in for the Great Wall motif on the back.
        draw = ImageDraw.Draw(img)
        pts = []
        for i in range(41):
            x = i / 40 * w
            y = h * (0.62 + 0.08 * math.sin(i * 0.7 + rng.random()) + 0.03 * ((i % 4) == 0))
            pts.append((x, y))
        draw.line(pts, fill=(204, 216, 228), width=max(1, w // 500))
    return img.filter(ImageFilter.GaussianBlur(0.4))


def _register_background(size: tuple[int, int], rng: random.Random) -> Image.Image:
    w, h = size
    nrng = np.random.default_rng(rng.randrange(2**32))
    tint = np.array(rng.choice([[244, 242, 236], [240, 244, 244], [246, 240, 238]]), np.float32)
    arr = np.ones((h, w, 3), np.float32) * tint
    arr += (_smooth_noise(nrng, (h, w), 8)[..., None] - 0.5) * 8
    arr += nrng.normal(0, 1.0, (h, w, 1))  # paper grain
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    _guilloche(img, rng, [(222, 232, 232), (234, 226, 228)], 46)
    return img


# --- stamps and placeholders ---------------------------------------------------------------


def _star(cx: float, cy: float, r: float, rotation: float = -math.pi / 2) -> list[tuple]:
    pts = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.382
        angle = rotation + i * math.pi / 5
        pts.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return pts


def _emblem(sheet: _Sheet, cx_mm: float, cy_mm: float, r_mm: float) -> None:
    """A national-emblem placeholder: red disc, gold ring, five stars and a gate outline."""
    d = sheet.draw
    cx, cy, r = sheet.px(cx_mm), sheet.px(cy_mm), sheet.px(r_mm)
    gold = (214, 168, 52)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=gold)
    d.ellipse([cx - 0.86 * r, cy - 0.86 * r, cx + 0.86 * r, cy + 0.86 * r], fill=(206, 30, 36))
    d.polygon(_star(cx - 0.05 * r, cy - 0.42 * r, 0.2 * r), fill=gold)
    for angle in (-60, -25, 10, 45):
        a = math.radians(angle - 90)
        d.polygon(
            _star(
                cx + 0.42 * r * math.cos(a) + 0.2 * r,
                cy - 0.42 * r + 0.32 * r * math.sin(a) + 0.2 * r,
                0.08 * r,
            ),
            fill=gold,
        )
    # Tiananmen gate: a wide base with a roof line.
    d.rectangle([cx - 0.5 * r, cy + 0.05 * r, cx + 0.5 * r, cy + 0.45 * r], fill=gold)
    d.polygon(
        [
            (cx - 0.62 * r, cy + 0.08 * r),
            (cx + 0.62 * r, cy + 0.08 * r),
            (cx + 0.45 * r, cy - 0.08 * r),
            (cx - 0.45 * r, cy - 0.08 * r),
        ],
        fill=gold,
    )
    for i in range(5):
        x = cx - 0.4 * r + i * 0.2 * r
        d.rectangle([x - 0.05 * r, cy + 0.25 * r, x + 0.05 * r, cy + 0.45 * r], fill=(206, 30, 36))
    d.rectangle([cx - 0.7 * r, cy + 0.55 * r, cx + 0.7 * r, cy + 0.68 * r], fill=gold)


def _portrait(sheet: _Sheet, box_mm: tuple[float, float, float, float], rng: random.Random):
    """A grey head-and-shoulders silhouette where the photo goes."""
    x0, y0, x1, y1 = (sheet.px(v) for v in box_mm)
    w, h = x1 - x0, y1 - y0
    layer = Image.new("L", (int(w), int(h)), 0)
    d = ImageDraw.Draw(layer)
    head_w = w * rng.uniform(0.42, 0.5)
    head_h = head_w * 1.28
    hx, hy = w / 2 + rng.uniform(-0.03, 0.03) * w, h * 0.14
    d.ellipse([hx - head_w / 2, hy, hx + head_w / 2, hy + head_h], fill=255)
    d.rectangle(
        [hx - head_w * 0.2, hy + head_h * 0.8, hx + head_w * 0.2, hy + head_h * 1.1], fill=255
    )
    d.ellipse([w * 0.02, hy + head_h * 0.98, w * 0.98, h * 1.6], fill=255)
    layer = layer.filter(ImageFilter.GaussianBlur(max(1.0, w / 120)))
    shade = rng.randint(120, 160)
    grad = np.linspace(shade - 15, shade + 20, int(h), dtype=np.float32)[:, None]
    tone = Image.fromarray(np.repeat(grad, int(w), axis=1).clip(0, 255).astype(np.uint8))
    sheet.image.paste(Image.merge("RGB", (tone, tone, tone)), (int(x0), int(y0)), layer)


def _seal(
    diameter_px: int, ring_text: str, bottom_text: str, rng: random.Random, with_star: bool = True
) -> Image.Image:
    """An RGBA red round seal with text around the top arc, a star and a bottom line."""
    size = diameter_px
    scale = 3  # draw large and shrink, so rotated glyphs stay smooth
    big = size * scale
    mask = Image.new("L", (big, big), 0)
    d = ImageDraw.Draw(mask)
    ring = max(3, big // 28)
    d.ellipse([ring / 2, ring / 2, big - ring / 2, big - ring / 2], outline=255, width=ring)
    n = max(len(ring_text), 1)
    span = min(250.0, 19.0 * n + 20)
    # Shrink the glyphs for long authority names so neighbours on the arc do not touch.
    step = math.radians(span / n)
    glyph = int(min(big * 0.13, big * 0.37 * step * 0.92))
    radius = big / 2 - ring - glyph * 0.62
    for i, ch in enumerate(ring_text):
        angle = -90 - span / 2 + span * (i + 0.5) / n
        tile = Image.new("L", (glyph * 2, glyph * 2), 0)
        ImageDraw.Draw(tile).text(
            (glyph, glyph), ch, font=_font_for("sans_bold", ch, glyph), fill=255, anchor="mm"
        )
        tile = tile.rotate(-(angle + 90), resample=Image.Resampling.BICUBIC)
        x = big / 2 + radius * math.cos(math.radians(angle)) - glyph
        y = big / 2 + radius * math.sin(math.radians(angle)) - glyph
        mask.paste(255, (int(x), int(y)), tile)
    if with_star:
        d.polygon(_star(big / 2, big / 2, big * 0.14), fill=255)
    if bottom_text:
        bottom = int(big * 0.1)
        d.text(
            (big / 2, big * 0.76),
            bottom_text,
            font=_font_for("sans_bold", "章", bottom),
            fill=255,
            anchor="mm",
        )
    mask = mask.resize((size, size), Image.Resampling.LANCZOS)
    # Uneven ink: stamps print patchy, lighter in places and with small voids.
    nrng = np.random.default_rng(rng.randrange(2**32))
    patch = _smooth_noise(nrng, (size, size), 5) * 0.55 + 0.45
    speck = nrng.random((size, size)) > 0.04
    alpha = np.asarray(mask, np.float32) * patch * speck * rng.uniform(0.7, 0.9)
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[..., :3] = _SEAL_RED
    rgba[..., 3] = np.clip(alpha, 0, 255).astype(np.uint8)
    return Image.fromarray(rgba, "RGBA").rotate(rng.uniform(-20, 20), Image.Resampling.BICUBIC)


def _stamp(sheet: _Sheet, seal: Image.Image, cx_mm: float, cy_mm: float) -> None:
    """Stamp-pad ink is a translucent dye: it tints the paper red and the print under it
    stays dark (a multiply blend), which is why a date under a seal stays readable."""
    x = int(sheet.px(cx_mm) - seal.width / 2)
    y = int(sheet.px(cy_mm) - seal.height / 2)
    box = (
        max(0, x),
        max(0, y),
        min(sheet.image.width, x + seal.width),
        min(sheet.image.height, y + seal.height),
    )
    if box[2] <= box[0] or box[3] <= box[1]:
        return
    ink = np.asarray(seal.convert("RGBA"), np.float32)[
        box[1] - y : box[3] - y, box[0] - x : box[2] - x
    ]
    alpha = ink[..., 3:] / 255.0
    under = np.asarray(sheet.image.crop(box).convert("RGB"), np.float32)
    tinted = under * (1.0 - alpha * (1.0 - ink[..., :3] / 255.0))
    sheet.image.paste(Image.fromarray(np.clip(tinted + 0.5, 0, 255).astype(np.uint8)), box)


def _name_chop(sheet: _Sheet, text: str, cx_mm: float, cy_mm: float, rng: random.Random):
    """A small square personal seal (承办人签章), two characters."""
    side = int(sheet.px(9))
    mask = Image.new("L", (side, side), 0)
    d = ImageDraw.Draw(mask)
    d.rectangle([1, 1, side - 2, side - 2], outline=255, width=max(2, side // 14))
    g = int(side * 0.4)
    for i, ch in enumerate(text[:2]):
        d.text(
            (side / 2, side * (0.3 + 0.4 * i)),
            ch,
            font=_font_for("serif_bold", ch, g),
            fill=255,
            anchor="mm",
        )
    mask = mask.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BICUBIC)
    alpha = Image.eval(mask, lambda v: int(v * 0.8))
    rgba = Image.new("RGBA", mask.size, (*_SEAL_RED, 0))
    rgba.putalpha(alpha)
    _stamp(sheet, rgba, cx_mm, cy_mm)


# --- ID card -------------------------------------------------------------------------------


def _wrap(text: str, per_line: int) -> list[str]:
    return [text[i : i + per_line] for i in range(0, len(text), per_line)] or [""]


def render_id_front(person: Person, rng: random.Random, px_width: int = 1000) -> Rendered:
    """The photo side of a second-generation 居民身份证."""
    size = (px_width, round(px_width * CARD_MM[1] / CARD_MM[0]))
    sheet = _Sheet(CARD_MM, px_width, _card_background(size, rng, back=False))
    label, value = 2.9, 3.3
    x_label, x_value = 6.3, 16.6
    # Values sit slightly off their nominal spot: the personalisation printer is not registered
    # exactly to the pre-printed labels.
    dx, dy = rng.uniform(-0.5, 0.5), rng.uniform(-0.4, 0.4)

    sheet.text(x_label, 9.6, "姓名", "sans", label, _LABEL_BLUE, spacing_mm=1.0)
    sheet.text(x_value + dx, 9.8 + dy, person.name, "sans", 3.7, _CARD_INK, key="name")

    sheet.text(x_label, 15.9, "性别", "sans", label, _LABEL_BLUE, spacing_mm=1.0)
    sheet.text(x_value + dx, 15.9 + dy, person.sex, "sans", value, _CARD_INK, key="sex")
    sheet.text(27.6, 15.9, "民族", "sans", label, _LABEL_BLUE, spacing_mm=1.0)
    sheet.text(37.6 + dx, 15.9 + dy, person.ethnicity, "sans", value, _CARD_INK, key="ethnicity")

    b = person.birth_date
    sheet.text(x_label, 22.2, "出生", "sans", label, _LABEL_BLUE, spacing_mm=1.0)
    sheet.text(x_value + dx, 22.2 + dy, str(b.year), "sans", value, _CARD_INK, key="birth_date")
    sheet.text(25.2, 22.2, "年", "sans", label, _LABEL_BLUE)
    month_x = 32.8 - sheet.text_width(str(b.month), "sans", value)
    sheet.text(month_x + dx, 22.2 + dy, str(b.month), "sans", value, _CARD_INK, key="birth_date")
    sheet.text(33.6, 22.2, "月", "sans", label, _LABEL_BLUE)
    day_x = 40.9 - sheet.text_width(str(b.day), "sans", value)
    sheet.text(day_x + dx, 22.2 + dy, str(b.day), "sans", value, _CARD_INK, key="birth_date")
    sheet.text(41.8, 22.2, "日", "sans", label, _LABEL_BLUE)

    sheet.text(x_label, 28.6, "住址", "sans", label, _LABEL_BLUE, spacing_mm=1.0)
    for i, part in enumerate(_wrap(person.address, 11)):
        sheet.text(
            x_value + dx, 28.6 + dy + i * 4.75, part, "sans", value, _CARD_INK, key="address"
        )

    sheet.text(x_label, 47.6, "公民身份号码", "sans", label, _LABEL_BLUE, spacing_mm=0.35)
    sheet.text(
        28.8 + dx,
        47.8 + dy / 2,
        person.id_number,
        "ocrb",
        3.8,
        _CARD_INK,
        spacing_mm=0.08,
        key="id_number",
    )
    _portrait(sheet, (55.8, 5.0, 81.6, 38.6), rng)

    fields = {
        "name": person.name,
        "sex": person.sex,
        "ethnicity": person.ethnicity,
        "birth_date": b.isoformat(),
        "address": person.address,
        "id_number": person.id_number,
    }
    return Rendered(sheet.image, fields, sheet.normalized_boxes(), {"values": "printed"})


def render_id_back(back: IdCardBack, rng: random.Random, px_width: int = 1000) -> Rendered:
    """The emblem side: issuing authority and validity period."""
    size = (px_width, round(px_width * CARD_MM[1] / CARD_MM[0]))
    sheet = _Sheet(CARD_MM, px_width, _card_background(size, rng, back=True))
    _emblem(sheet, 13.2, 14.0, 8.6)
    sheet.text(29.5, 13.2, "中华人民共和国", "serif_bold", 4.6, (24, 24, 28), spacing_mm=1.55)
    sheet.text(25.0, 27.0, "居民身份证", "serif_bold", 8.2, (24, 24, 28), spacing_mm=2.4)
    dx, dy = rng.uniform(-0.5, 0.5), rng.uniform(-0.4, 0.4)
    sheet.text(17.2, 41.0, "签发机关", "sans", 2.9, _CARD_INK, spacing_mm=0.5)
    authority = back.issuing_authority
    size_mm = 3.2 if len(authority) <= 13 else 3.2 * 13 / len(authority)
    sheet.text(31.6 + dx, 41.0 + dy, authority, "sans", size_mm, _CARD_INK, key="issuing_authority")
    sheet.text(17.2, 47.6, "有效期限", "sans", 2.9, _CARD_INK, spacing_mm=0.5)
    x = sheet.text(
        31.6 + dx, 47.6 + dy, _dotted(back.valid_from), "sans", 3.2, _CARD_INK, key="valid_from"
    )
    x = sheet.text(x, 47.6 + dy, "-", "sans", 3.2, _CARD_INK)
    if back.valid_until is None:
        sheet.text(x, 47.6 + dy, "长期", "sans", 3.2, _CARD_INK, key="long_term")
    else:
        sheet.text(
            x, 47.6 + dy, _dotted(back.valid_until), "sans", 3.2, _CARD_INK, key="valid_until"
        )
    fields = {
        "issuing_authority": authority,
        "valid_from": back.valid_from.isoformat(),
        "valid_until": None if back.valid_until is None else back.valid_until.isoformat(),
        "long_term": back.valid_until is None,
    }
    return Rendered(sheet.image, fields, sheet.normalized_boxes(), {"values": "printed"})


# --- household register --------------------------------------------------------------------


class _Form:
    """Table-drawing and value-filling helpers for the register pages."""

    def __init__(self, sheet: _Sheet, rng: random.Random, handwritten: bool):
        self.sheet = sheet
        self.rng = rng
        self.handwritten = handwritten
        self.pen = rng.choice(_PEN_INKS)
        # A printer's sheet feed is never exactly aligned with the pre-printed form.
        self.offset = (
            (rng.uniform(-1.2, 1.2), rng.uniform(-0.8, 0.8)) if not handwritten else (0, 0)
        )
        self.value_role = rng.choice(("serif", "serif", "sans"))

    def box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        s = self.sheet
        for a, b, c, d in ((x0, y0, x1, y0), (x1, y0, x1, y1), (x0, y1, x1, y1), (x0, y0, x0, y1)):
            s.line(a, b, c, d, _FORM_INK)

    def label(self, cell: tuple[float, float, float, float], text: str, size: float = 2.7):
        """A printed label centred in its cell, broken onto two lines when it does not fit."""
        x0, y0, x1, y1 = cell
        s = self.sheet
        width = x1 - x0 - 1.2
        lines = [text]
        if s.text_width(text, "serif", size) > width:
            half = math.ceil(len(text) / 2)
            lines = [text[:half], text[half:]]
        spacing = 0.0
        if len(lines) == 1 and 1 < len(text) <= 2:
            # Two-character labels are printed spread out (姓  名), as far as the cell allows.
            room = width - s.text_width(text, "serif", size)
            spacing = max(0.0, min(size * 0.8, room - 0.4))
        total_h = len(lines) * size * 1.15
        for i, line in enumerate(lines):
            w = s.text_width(line, "serif", size, spacing)
            base = (y0 + y1) / 2 - total_h / 2 + (i + 0.85) * size * 1.15
            s.text((x0 + x1) / 2 - w / 2, base, line, "serif", size, _FORM_INK, spacing_mm=spacing)

    def value(
        self,
        cell: tuple[float, float, float, float],
        text: str | None,
        key: str,
        size: float = 3.2,
        center: bool = False,
    ) -> None:
        """Fill a cell: shrink long values, wrap very long ones, pen or printer as chosen."""
        if not text:
            return
        x0, y0, x1, y1 = cell
        s = self.sheet
        width = x1 - x0 - 2.0
        role = "kai" if self.handwritten else self.value_role
        lines = [text]
        need = s.text_width(text, role, size)
        if need > width:
            if need * 0.75 <= width or (y1 - y0) < 2.4 * size:
                size = max(2.0, size * width / need)
            else:
                half = math.ceil(len(text) / 2)
                lines = [text[:half], text[half:]]
                size = min(size, width / max(s.text_width(p, role, 1.0) for p in lines))
        line_h = size * 1.25
        top = (y0 + y1) / 2 - line_h * len(lines) / 2
        dx, dy = self.offset
        for i, line in enumerate(lines):
            base = top + (i + 0.82) * line_h + dy
            start = x0 + 1.2 + dx
            if center and len(lines) == 1:
                start = (x0 + x1) / 2 - s.text_width(line, role, size) / 2 + dx
            if self.handwritten:
                s.handwriting(start, base, line, size, self.pen, self.rng, key=key)
            else:
                s.text(start, base, line, role, size, (18, 18, 22), key=key)


def render_household_home(household: Household, rng: random.Random, px_width: int = 1400):
    """The 户主页: household type, head, number, address, registry seal and issue date."""
    size = (px_width, round(px_width * REGISTER_MM[1] / REGISTER_MM[0]))
    sheet = _Sheet(REGISTER_MM, px_width, _register_background(size, rng))
    handwritten = rng.random() < 0.25
    form = _Form(sheet, rng, handwritten)
    x0, x1, y0 = 9.0, 134.0, 12.0
    ya, yb, yc = y0 + 13.0, y0 + 35.0, 96.0
    c1, c2, c3 = 29.0, 67.0, 89.0
    form.box(x0, y0, x1, yc)
    for y in (ya, yb):
        sheet.line(x0, y, x1, y, _FORM_INK)
    for x in (c1, c2, c3):
        sheet.line(x, y0, x, yb, _FORM_INK)
    sheet.line(82.0, yb, 82.0, yc, _FORM_INK)
    form.label((x0, y0, c1, ya), "户别")
    form.label((c2, y0, c3, ya), "户主姓名")
    form.label((x0, ya, c1, yb), "户号")
    form.label((c2, ya, c3, yb), "住址")
    form.value((c1, y0, c2, ya), household.household_type, "household_type", center=True)
    form.value((c3, y0, x1, ya), household.head_name, "head_name", center=True)
    form.value((c1, ya, c2, yb), household.household_number, "household_number", center=True)
    form.value((c3, ya, x1, yb), household.address, "address", size=3.0)
    sheet.text(13.0, yb + 6.5, "户口登记机关", "serif", 2.8, _FORM_INK, spacing_mm=0.4)
    sheet.text(86.0, yb + 6.5, "承办人签章", "serif", 2.8, _FORM_INK, spacing_mm=0.4)
    sheet.text(86.0, yc - 6.0, "签发日期", "serif", 2.8, _FORM_INK, spacing_mm=0.4)
    issue = household.issue_date
    date_text = _cn_date(issue, pad=rng.random() < 0.6)
    form.value((100.0, yc - 11.0, x1, yc - 3.0), date_text, "issue_date", size=3.0)
    _name_chop(sheet, _clerk_name(rng), 112.0, yb + 18.0, rng)
    seal = _seal(
        int(sheet.px(rng.uniform(38, 42))), household.registration_authority, "户口专用章", rng
    )
    _stamp(sheet, seal, 45.0 + rng.uniform(-4, 4), (yb + yc) / 2 + 2 + rng.uniform(-3, 3))
    fields = {
        "household_type": household.household_type,
        "head_name": household.head_name,
        "household_number": household.household_number,
        "address": household.address,
        "issue_date": issue.isoformat(),
    }
    style = {"values": "handwritten" if handwritten else "printed"}
    return Rendered(sheet.image, fields, sheet.normalized_boxes(), style)


def _clerk_name(rng: random.Random) -> str:
    return rng.choice("王李张刘陈杨赵周吴徐") + rng.choice("明华军芳伟静丽强敏磊")


def render_household_member(
    record: MemberRecord, household: Household, rng: random.Random, px_width: int = 1400
) -> Rendered:
    """A 常住人口登记卡 page with the standard 10-row table."""
    size = (px_width, round(px_width * REGISTER_MM[1] / REGISTER_MM[0]))
    sheet = _Sheet(REGISTER_MM, px_width, _register_background(size, rng))
    handwritten = rng.random() < 0.25
    form = _Form(sheet, rng, handwritten)
    f = record.fields
    title = "常住人口登记卡"
    tw = sheet.text_width(title, "serif_bold", 5.0, 1.8)
    sheet.text(
        REGISTER_MM[0] / 2 - tw / 2, 10.2, title, "serif_bold", 5.0, _FORM_INK, spacing_mm=1.8
    )
    x0, x1, top, row = 6.0, 137.0, 13.5, 7.9
    ys = [top + i * row for i in range(11)]
    form.box(x0, ys[0], x1, ys[10])
    for y in ys[1:10]:
        sheet.line(x0, y, x1, y, _FORM_INK)

    def row_cells(i: int, cols: list[float]) -> list[tuple[float, float, float, float]]:
        for x in cols[1:-1]:
            sheet.line(x, ys[i], x, ys[i + 1], _FORM_INK)
        return [(cols[j], ys[i], cols[j + 1], ys[i + 1]) for j in range(len(cols) - 1)]

    pairs = [
        ("姓名", "name", "户主或与户主关系", "relationship_to_head"),
        ("曾用名", "former_name", "性别", "sex"),
        ("出生地", "birthplace", "民族", "ethnicity"),
        ("籍贯", "native_place", "出生日期", "birth_date"),
        ("本市（县）其他住址", "other_address", "宗教信仰", "religion"),
    ]
    birth = date.fromisoformat(f["birth_date"])
    pad = rng.random() < 0.6
    printed = {**f, "birth_date": _cn_date(birth, pad)}
    for i, (l1, k1, l2, k2) in enumerate(pairs):
        cells = row_cells(i, [x0, 25.0, 78.0, 100.0, x1])
        form.label(cells[0], l1)
        form.value(cells[1], printed[k1], k1)
        form.label(cells[2], l2)
        form.value(cells[3], printed[k2], k2)
    cells = row_cells(5, [x0, 25.0, 78.0, 86.0, 100.0, 108.0, x1])
    form.label(cells[0], "公民身份证件编号")
    form.value(cells[1], f["id_number"], "id_number", size=3.3)
    form.label(cells[2], "身高")
    form.value(cells[3], f["height"], "height", center=True)
    form.label(cells[4], "血型")
    form.value(cells[5], f["blood_type"], "blood_type")
    cells = row_cells(6, [x0, 25.0, 52.0, 66.0, 92.0, 106.0, x1])
    for j, (lab, key) in enumerate(
        (
            ("文化程度", "education"),
            ("婚姻状况", "marital_status"),
            ("兵役状况", "military_service"),
        )
    ):
        form.label(cells[2 * j], lab)
        form.value(cells[2 * j + 1], f[key], key)
    cells = row_cells(7, [x0, 25.0, 86.0, 100.0, x1])
    form.label(cells[0], "服务处所")
    form.value(cells[1], f["employer"], "employer")
    form.label(cells[2], "职业")
    form.value(cells[3], f["occupation"], "occupation")
    for i, (lab, key) in (
        (8, ("何时由何地迁来本市（县）", "moved_to_city_info")),
        (9, ("何时由何地迁来本址", "moved_to_address_info")),
    ):
        cells = row_cells(i, [x0, 50.0, x1])
        form.label(cells[0], lab)
        form.value(cells[1], f[key], key)
    sheet.text(9.0, ys[10] + 6.0, "承办人签章", "serif", 2.8, _FORM_INK, spacing_mm=0.4)
    sheet.text(84.0, ys[10] + 6.0, "登记日期", "serif", 2.8, _FORM_INK, spacing_mm=0.4)
    reg = date.fromisoformat(f["registration_date"])
    form.value(
        (98.0, ys[10] + 1.0, x1, ys[10] + 8.5), _cn_date(reg, pad), "registration_date", size=3.0
    )
    _name_chop(sheet, _clerk_name(rng), 34.0, ys[10] + 4.6, rng)
    seal = _seal(
        int(sheet.px(rng.uniform(30, 34))), household.registration_authority, "户口专用章", rng
    )
    # Registry staff stamp the bottom right of the card, usually over the last rows.
    _stamp(sheet, seal, 118.0 + rng.uniform(-4, 4), ys[9] + rng.uniform(-2, 4))
    style = {"values": "handwritten" if handwritten else "printed"}
    return Rendered(sheet.image, dict(f), sheet.normalized_boxes(), style)
