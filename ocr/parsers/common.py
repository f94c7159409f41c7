"""Shared parser pieces: the result type, value collection and value clean-up helpers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ledger.registry.idnumber import ETHNICITIES, normalize_ethnicity
from ocr.parsers.layout import Layout, Line, Piece, orientations
from ocr.parsers.places import fix_place
from ocr.text import DIGIT_GLYPHS

__all__ = [
    "Collected",
    "ParseResult",
    "best_orientation",
    "clean_cjk",
    "clean_ethnicity",
    "collect",
    "id_number_candidates",
    "set_place",
]


@dataclass
class ParseResult:
    """Fields as read (None when not found), a 0–1 confidence per found field, and notes."""

    fields: dict
    field_confidence: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def set(self, key: str, value, confidence: float | None) -> None:
        self.fields[key] = value
        if value is None or value == "" or confidence is None:
            self.field_confidence.pop(key, None)
            if value == "":
                self.fields[key] = None
        else:
            self.field_confidence[key] = round(float(confidence), 4)

    @property
    def found(self) -> int:
        return sum(v is not None and v is not False for v in self.fields.values())


@dataclass
class Collected:
    """Text gathered for one field and the lowest confidence among the lines it came from."""

    text: str
    confidence: float | None

    def __bool__(self) -> bool:
        return bool(self.text)


# A field's confidence is multiplied by this when a misread place name in it was repaired.
PLACE_FIX_CONFIDENCE = 0.8


def set_place(
    result: ParseResult, key: str, value: str, confidence, *, whole: bool, prefer: str = ""
) -> None:
    """Store an address or place field, repairing a misread region name at its start
    (``prefer``: a place printed elsewhere on the page, for a misread two names fit)."""
    fixed, changed = fix_place(value or None, whole=whole, prefer=prefer or None)
    if changed and confidence is not None:
        confidence *= PLACE_FIX_CONFIDENCE
        result.notes.append(f"{key}: misread region name corrected")
    result.set(key, fixed or None, confidence)


def collect(pieces: Iterable[Piece], sep: str = "") -> Collected:
    pieces = list(pieces)
    if not pieces:
        return Collected("", None)
    return Collected(
        sep.join(p.text for p in pieces).strip(), min(p.line.confidence for p in pieces)
    )


def collect_lines(lines: Iterable[Line], sep: str = "") -> Collected:
    lines = list(lines)
    if not lines:
        return Collected("", None)
    return Collected(sep.join(ln.text for ln in lines).strip(), min(ln.confidence for ln in lines))


def best_orientation(
    raw_lines: Iterable, parse_one: Callable[[list[Line]], tuple[ParseResult, Layout]]
) -> ParseResult:
    """Parse the page as read and turned 180°; keep the reading that links more labels."""
    best: tuple[tuple[int, int], ParseResult] | None = None
    for lines in orientations(raw_lines):
        result, layout = parse_one(lines)
        linked = sum(1 for p in layout.label_pieces if p.values)
        rank = (linked, result.found)
        if best is None or rank > best[0]:
            best = (rank, result)
    assert best is not None
    return best[1]


_NOT_CJK = re.compile(r"[^\u3400-\u9fff·]")


def clean_cjk(text: str) -> str:
    """Chinese characters only; a middle dot between parts of transliterated names is kept."""
    text = re.sub(r"(?<=[\u3400-\u9fff])[.\-•・‧∙](?=[\u3400-\u9fff])", "·", text)
    return _NOT_CJK.sub("", text).strip("·")


def edit1(a: str, b: str) -> bool:
    """True if a and b differ by exactly one substitution, insertion or deletion."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    if la > lb:
        a, b = b, a
    return any(b[:i] + b[i + 1 :] == a for i in range(len(b)))


def clean_ethnicity(text: str, suffix: bool) -> tuple[str | None, bool]:
    """The ethnic group in ``text`` as printed ("汉" on the card, "汉族" in the register).

    Returns (value, corrected); a misread multi-character name one edit away from exactly one
    of the 56 is corrected, a single misread character is not (too many one-character names).
    """
    value = clean_cjk(text)
    if not value:
        return None, False
    short = normalize_ethnicity(value)
    if short is None:
        # OCR can run the next label or value on: take the longest group the text starts with.
        for name in sorted(ETHNICITIES, key=len, reverse=True):
            if value.startswith(name) and len(name) >= 2:
                short = name
                break
    corrected = False
    if short is None:
        core = value.removesuffix("族")
        near = [name for name in ETHNICITIES if len(name) >= 2 and edit1(core, name)]
        if len(near) == 1:
            short, corrected = near[0], True
        elif suffix and len(value) == 2 and value[0] in ETHNICITIES:
            # The register prints "汉族": two characters, the first a one-character group and
            # no longer name one edit away, are that group with its 族 misread (汉於).
            short, corrected = value[0], True
    if short is None:
        return value, False
    return (short + "族" if suffix else short), corrected


_ID_RUN = re.compile(r"[0-9OoDQUIlLi|!ZzSsGbBgqXx×]{15,21}")


def id_number_candidates(texts: Sequence[str]) -> list[str]:
    """Runs that look like an 18-character ID number (digits plus look-alike letters).

    Best first: closest to 18 characters, then the most real digits.
    """
    found: list[tuple[tuple[int, int], str]] = []
    for text in texts:
        squeezed = re.sub(r"\s+", "", text)
        for m in _ID_RUN.finditer(squeezed):
            run = m.group(0)
            digits = sum(ch.isdigit() for ch in run)
            if digits < 12:
                continue
            found.append(((abs(len(run) - 18), -digits), run))
    found.sort(key=lambda item: item[0])
    return [run for _, run in found]


def partial_id_number(texts: Sequence[str]) -> str | None:
    """What was read of a number too broken for ``id_number_candidates`` (pieces joined), so a
    person sees it beside the checksum warning; None if fewer than six characters."""
    joined = "".join(re.sub(r"\s+", "", t) for t in texts)
    run = "".join(m.group(0) for m in _ID_RUN_CHARS.finditer(joined))
    return run.upper() if len(run) >= 6 else None


_ID_RUN_CHARS = re.compile(r"[0-9Xx]+")


def digits_only(text: str) -> str:
    return "".join(ch for ch in (DIGIT_GLYPHS.get(c, c) for c in text) if ch.isdigit())
