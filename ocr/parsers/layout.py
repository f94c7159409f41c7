"""Line geometry for parsers: deskew, orientation flips, label pieces and label-to-value links."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from ocr.text import normalize

__all__ = [
    "Label",
    "Layout",
    "Line",
    "Piece",
    "Template",
    "deskew_angle",
    "find_label",
    "orientations",
    "prepare",
    "reading_order",
    "rotated",
    "strip_ignored",
]


@dataclass(frozen=True)
class Line:
    """A normalised OCR line with an axis-aligned box in (possibly rotated) page coordinates."""

    text: str
    confidence: float
    x0: float
    y0: float
    x1: float
    y1: float
    index: int

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def width(self) -> float:
        return self.x1 - self.x0


@dataclass(frozen=True)
class Label:
    """A label a document prints: ``key`` is the field it introduces, or None for print to skip.

    ``anywhere`` lets the label be found after other text on the same OCR line ("男民族汉");
    otherwise it must start the line, so a value such as "民族路" is not taken for a label.
    """

    key: str | None
    texts: tuple[str, ...]
    anywhere: bool = False
    fuzzy: bool = True


@dataclass
class Piece:
    """Part of a line: a label occurrence or the text between labels, with an estimated x-span."""

    line: Line
    text: str
    x0: float
    x1: float
    label: Label | None = None
    variant: str | None = None  # for label pieces: which of the label's texts was matched
    owner: Piece | None = None  # for value pieces: the label piece they belong to
    values: list[Piece] = field(default_factory=list)  # for label pieces

    @property
    def key(self) -> str | None:
        return self.label.key if self.label else None

    @property
    def cy(self) -> float:
        return self.line.cy


def _quad(item) -> tuple[str, float, list[tuple[float, float]]]:
    if isinstance(item, dict):
        return item["text"], float(item.get("confidence", 1.0)), [tuple(p) for p in item["box"]]
    return item.text, float(item.confidence), [tuple(p) for p in item.box]


def deskew_angle(quads: Iterable[list[tuple[float, float]]]) -> float:
    """Dominant text direction in degrees (mod 180, in [-90, 90)), from the lines' long edges."""
    votes: list[tuple[float, float]] = []
    for quad in quads:
        if len(quad) < 4:
            continue
        (ax, ay), (bx, by), (cx, cy) = quad[0], quad[1], quad[2]
        e1 = (bx - ax, by - ay)
        e2 = (cx - bx, cy - by)
        long_edge, short = (e1, e2) if math.hypot(*e1) >= math.hypot(*e2) else (e2, e1)
        length = math.hypot(*long_edge)
        # Only clearly elongated boxes say which way the text runs.
        if length < 1.8 * math.hypot(*short) or length == 0:
            continue
        angle = math.degrees(math.atan2(long_edge[1], long_edge[0]))
        angle = (angle + 90) % 180 - 90
        votes.append((angle, length))
    if not votes:
        return 0.0
    # Weighted circular mean on the doubled angle copes with votes near ±90°.
    sx = sum(w * math.cos(math.radians(2 * a)) for a, w in votes)
    sy = sum(w * math.sin(math.radians(2 * a)) for a, w in votes)
    return (math.degrees(math.atan2(sy, sx)) / 2 + 90) % 180 - 90


def rotated(lines: Sequence[Line], quads: Sequence[list[tuple[float, float]]], degrees: float):
    """The lines with boxes recomputed after rotating the page by ``-degrees``."""
    rad = math.radians(-degrees)
    cos, sin = math.cos(rad), math.sin(rad)
    out = []
    for line, quad in zip(lines, quads, strict=True):
        pts = [(x * cos - y * sin, x * sin + y * cos) for x, y in quad]
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        out.append(Line(line.text, line.confidence, min(xs), min(ys), max(xs), max(ys), line.index))
    return out


def prepare(raw_lines: Iterable) -> tuple[list[Line], list[list[tuple[float, float]]]]:
    """Normalise text (simplified, half-width) and keep each line's quadrilateral for rotation."""
    lines: list[Line] = []
    quads: list[list[tuple[float, float]]] = []
    for i, item in enumerate(raw_lines):
        text, confidence, quad = _quad(item)
        text = normalize(text)
        if not text:
            continue
        xs = [p[0] for p in quad]
        ys = [p[1] for p in quad]
        lines.append(Line(text, confidence, min(xs), min(ys), max(xs), max(ys), i))
        quads.append(quad)
    return lines, quads


def orientations(raw_lines: Iterable) -> list[list[Line]]:
    """The lines deskewed, then as read and turned 180°: the parser keeps whichever reads better."""
    lines, quads = prepare(raw_lines)
    if not lines:
        return [[]]
    angle = deskew_angle(quads)
    upright = rotated(lines, quads, angle)
    flipped = rotated(lines, quads, angle + 180)
    return [upright, flipped]


# Punctuation OCR inserts, drops or swaps in labels: matching ignores it.
_IGNORED = re.compile(r"[\s()（）:：,，.。·、'\"“”‘’_\-—~|\[\]]")


_MEANINGFUL = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")


def strip_ignored(text: str) -> tuple[str, list[int]]:
    kept, where = [], []
    for i, ch in enumerate(text):
        if not _IGNORED.match(ch):
            kept.append(ch)
            where.append(i)
    return "".join(kept), where


def find_label(
    haystack: str, needle: str, fuzzy: bool, max_wrong: int = 1
) -> list[tuple[int, int]]:
    """Start/end of ``needle`` in ``haystack``; with ``fuzzy``, labels of four or more characters
    also match with up to ``max_wrong`` misread characters (at most one per two characters)."""
    hits = []
    start = haystack.find(needle)
    while start >= 0:
        hits.append((start, start + len(needle)))
        start = haystack.find(needle, start + 1)
    n = len(needle)
    max_wrong = min(max_wrong, n // 4 if n < 6 else n // 3)
    if hits or not fuzzy or max_wrong < 1:
        return hits
    # With k wrong characters, one of k + 1 parts of the label is read exactly: only windows
    # around exact hits of a part need comparing.
    cuts = [round(i * n / (max_wrong + 1)) for i in range(max_wrong + 2)]
    starts = set()
    for a, b in pairwise(cuts):
        at = haystack.find(needle[a:b])
        while at >= 0:
            if 0 <= at - a <= len(haystack) - n:
                starts.add(at - a)
            at = haystack.find(needle[a:b], at + 1)
    for i in sorted(starts):
        window = haystack[i : i + n]
        if 0 < sum(x != y for x, y in zip(window, needle, strict=True)) <= max_wrong:
            hits.append((i, i + n))
    return hits


def reading_order(pieces: Iterable[Piece]) -> list[Piece]:
    """Pieces grouped into rows (boxes overlapping by half a line height), rows top to bottom."""
    rows: list[tuple[float, float, list[Piece]]] = []
    for piece in sorted(pieces, key=lambda p: p.cy):
        y0, y1 = piece.line.y0, piece.line.y1
        if rows:
            r0, r1, members = rows[-1]
            overlap = min(r1, y1) - max(r0, y0)
            if overlap >= 0.5 * min(y1 - y0, r1 - r0):
                rows[-1] = (min(r0, y0), max(r1, y1), [*members, piece])
                continue
        rows.append((y0, y1, [piece]))
    return [p for _, _, members in rows for p in sorted(members, key=lambda p: p.x0)]


@dataclass(frozen=True)
class Template:
    """Where a page prints its labels: label text (as in ``Label.texts``, punctuation removed)
    to (centre x, centre y, width, height) in page units (mm)."""

    boxes: dict[str, tuple[float, float, float, float]]


def _char_weight(ch: str) -> float:
    # Digits and Latin letters are about half as wide as Chinese characters in every card font.
    return 0.55 if ch.isascii() else 1.0


class Layout:
    """Lines cut into label and value pieces, each value linked to the label on its left.

    With a ``template``, labels OCR misread or missed are put back where the labels it did read
    say they must be, so their values are not taken by a neighbouring label.
    """

    def __init__(
        self,
        lines: Sequence[Line],
        labels: Sequence[Label],
        *,
        pad: float = 0.35,
        template: Template | None = None,
    ):
        self.lines = list(lines)
        self.labels = labels
        self.pad = pad
        self._variants = sorted(
            ((text, label) for label in labels for text in label.texts),
            key=lambda item: -len(item[0]),
        )
        found = {line.index: self._match(line) for line in self.lines}
        self.virtual: list[str] = []
        extra: list[Piece] = []
        if template is not None:
            extra = self._restore(template, found)
        self.pieces: list[Piece] = []
        for line in self.lines:
            self.pieces.extend(self._cut(line, found[line.index]))
        self.pieces.extend(extra)
        self.label_pieces = [p for p in self.pieces if p.label is not None]
        self.value_pieces = [p for p in self.pieces if p.label is None]
        self._link()

    def _match(self, line: Line) -> list[tuple[int, int, Label, str | None]]:
        """Label occurrences in a line as (start, end, label, matched text) in text indices."""
        stripped, where = strip_ignored(line.text)
        found: list[tuple[int, int, Label, str | None]] = []
        for text, label in self._variants:
            for start, end in find_label(stripped, text, label.fuzzy):
                if any(start < e and s < end for s, e, _, _ in found):
                    continue
                if start > 0 and not label.anywhere:
                    continue
                found.append((start, end, label, text))
        out = []
        for start, end, label, text in found:
            o_start, o_end = where[start], where[end - 1] + 1
            # Swallow punctuation closing the label, e.g. the ")" of "本市(县)".
            while o_end < len(line.text) and _IGNORED.match(line.text[o_end]):
                o_end += 1
            out.append((o_start, o_end, label, text))
        return sorted(out, key=lambda item: item[0])

    @staticmethod
    def _edges(line: Line) -> list[float]:
        """x of each character boundary, spreading the box width by character class."""
        weights = [_char_weight(ch) for ch in line.text]
        total = sum(weights) or 1.0
        edges, acc = [line.x0], 0.0
        for w in weights:
            acc += w
            edges.append(line.x0 + line.width * acc / total)
        return edges

    def _cut(self, line: Line, found) -> list[Piece]:
        if not found:
            if not _MEANINGFUL.search(line.text):
                return []
            return [Piece(line, line.text, line.x0, line.x1)]
        edges = self._edges(line)
        pieces: list[Piece] = []
        cursor = 0
        for o_start, o_end, label, text in found:
            before = line.text[cursor:o_start].strip()
            if _MEANINGFUL.search(before):
                pieces.append(Piece(line, before, edges[cursor], edges[o_start]))
            piece = Piece(line, line.text[o_start:o_end], edges[o_start], edges[o_end], label)
            piece.variant = text
            pieces.append(piece)
            cursor = o_end
        rest = line.text[cursor:].strip()
        if _MEANINGFUL.search(rest):
            pieces.append(Piece(line, rest, edges[cursor], line.x1))
        return pieces

    def _fit(self, template: Template, found) -> tuple[float, float, float] | None:
        """Scale and offsets mapping template units to page pixels, from the labels read."""
        by_index = {line.index: line for line in self.lines}
        anchors = []
        for index, occurrences in found.items():
            line = by_index[index]
            edges = self._edges(line)
            for o_start, o_end, _label, text in occurrences:
                box = template.boxes.get(text)
                if box is None:
                    continue
                x = (edges[o_start] + edges[o_end]) / 2
                width = edges[o_end] - edges[o_start]
                anchors.append((box[0], box[1], x, line.cy, line.height, box[3], width, box[2]))
        if len(anchors) == 1 and anchors[0][7] >= 20 and anchors[0][6] > 0:
            # One long printed line (a title) read alone: its width gives the scale. Short labels
            # are too coarse for that.
            tx, ty, x, y, _h, _th, width, t_width = anchors[0]
            scale = width / t_width
            return scale, x - scale * tx, y - scale * ty
        while len(anchors) >= 2:
            n = len(anchors)
            mtx = sum(a[0] for a in anchors) / n
            mty = sum(a[1] for a in anchors) / n
            mix = sum(a[2] for a in anchors) / n
            miy = sum(a[3] for a in anchors) / n
            den = sum((a[0] - mtx) ** 2 + (a[1] - mty) ** 2 for a in anchors)
            if den <= 0:
                return None
            scale = (
                sum((a[0] - mtx) * (a[2] - mix) + (a[1] - mty) * (a[3] - miy) for a in anchors)
                / den
            )
            bx, by = mix - scale * mtx, miy - scale * mty
            residuals = [
                math.hypot(scale * a[0] + bx - a[2], scale * a[1] + by - a[3]) for a in anchors
            ]
            worst = max(range(n), key=lambda i: residuals[i])
            # Within about half a text line: far less than the distance between two rows.
            line_height = sorted(a[4] for a in anchors)[n // 2]
            if residuals[worst] <= 0.6 * line_height:
                # OCR boxes are one to two and a half times the printed font size tall; another
                # ratio means the anchors were matched to the wrong labels.
                ratio = line_height / (scale * sorted(a[5] for a in anchors)[n // 2])
                if not 0.8 <= ratio <= 3.0:
                    return None
                return scale, bx, by
            if n == 2:
                return None
            anchors.pop(worst)
        return None

    def _restore(self, template: Template, found) -> list[Piece]:
        """Virtual label occurrences for labels the template has but OCR did not read."""
        fit = self._fit(template, found)
        if fit is None:
            return []
        scale, bx, by = fit
        seen = {label.key for occ in found.values() for _, _, label, _ in occ}
        extra: list[Piece] = []
        for label in self.labels:
            if label.key is None or label.key in seen:
                continue
            for text in label.texts:
                box = template.boxes.get(text)
                if box is None:
                    continue
                cx, cy, w, h = box
                x0, x1 = scale * (cx - w / 2) + bx, scale * (cx + w / 2) + bx
                y0, y1 = scale * (cy - h / 2) + by, scale * (cy + h / 2) + by
                self.virtual.append(text)
                if not self._claim(found, label, text, x0, y0, x1, y1):
                    # Nothing was read there at all: keep the label as a boundary, as tall as an
                    # OCR box around such text would be (about twice the printed size).
                    grow = 0.4 * (y1 - y0)
                    ghost = Line("", 1.0, x0, y0 - grow, x1, y1 + grow, -1)
                    piece = Piece(ghost, "", x0, x1, label)
                    piece.variant = text
                    extra.append(piece)
        return extra

    def _claim(self, found, label: Label, text: str, x0, y0, x1, y1) -> bool:
        """Mark the characters of a line lying where a label should be as that (misread) label."""
        for line in self.lines:
            overlap = min(line.y1, y1) - max(line.y0, y0)
            if overlap < 0.5 * min(line.height, y1 - y0):
                continue
            edges = self._edges(line)
            inside = [
                i
                for i in range(len(line.text))
                if x0 <= (edges[i] + edges[i + 1]) / 2 <= x1 and not line.text[i].isspace()
            ]
            if not inside:
                continue
            start, end = inside[0], inside[-1] + 1
            occurrences = found[line.index]
            if any(start < e and s < end for s, e, _, _ in occurrences):
                continue
            occurrences.append((start, end, label, text))
            occurrences.sort(key=lambda item: item[0])
            return True
        return False

    def _same_row(self, label: Piece, value: Piece) -> float | None:
        """Vertical distance of the centres if ``value`` is in ``label``'s row band, else None."""
        h = label.line.height
        dy = abs(value.cy - label.cy)
        if dy <= h / 2 + self.pad * h:
            return dy
        return None

    def _link(self) -> None:
        for value in self.value_pieces:
            best = None
            for label in self.label_pieces:
                if label.line is value.line:
                    # Same OCR line: the label must come first in the text.
                    if label.x1 > value.x0 + 1e-6:
                        continue
                    rank = (label.x1, 1.0)
                else:
                    dy = self._same_row(label, value)
                    if dy is None or label.x1 > value.x0 + 0.5 * value.line.height:
                        continue
                    rank = (label.x1, -dy)
                if best is None or rank > best[0]:
                    best = (rank, label)
            if best is not None:
                value.owner = best[1]
                best[1].values.append(value)

    def labels_for(self, key: str) -> list[Piece]:
        return [p for p in self.label_pieces if p.key == key]

    def values_for(self, key: str) -> list[Piece]:
        """Value pieces linked to any label of ``key``, top to bottom then left to right."""
        return reading_order([v for p in self.labels_for(key) for v in p.values])

    def unlinked(self) -> list[Piece]:
        return [v for v in self.value_pieces if v.owner is None]

    def text(self) -> str:
        """All text in reading order, for regex fallbacks."""
        ordered = sorted(self.lines, key=lambda ln: (ln.cy, ln.x0))
        return "\n".join(ln.text for ln in ordered)
