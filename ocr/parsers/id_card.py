"""Parsers for the two sides of the second-generation resident ID card (居民身份证)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ocr.parsers.common import (
    ParseResult,
    best_orientation,
    clean_cjk,
    clean_ethnicity,
    collect,
    id_number_candidates,
    partial_id_number,
    set_place,
)
from ocr.parsers.layout import Label, Layout, Line, Template, reading_order
from ocr.text import find_dates, parse_date

__all__ = ["BACK_FIELDS", "FRONT_FIELDS", "parse_back", "parse_front"]

FRONT_FIELDS = ("name", "sex", "ethnicity", "birth_date", "address", "id_number")
BACK_FIELDS = ("issuing_authority", "valid_from", "valid_until", "long_term")

FRONT_LABELS = (
    Label("name", ("姓名",)),
    Label("sex", ("性别",)),
    # OCR often reads the sex row as one line, "男民族汉" or "性别男民族汉".
    Label("ethnicity", ("民族",), anywhere=True),
    Label("birth_date", ("出生",)),
    Label("address", ("住址",)),
    Label("id_number", ("公民身份号码", "公民身份证号码", "身份号码"), anywhere=True),
)

# Label centres and sizes in mm on the 85.6 × 54 mm card (GA 450 layout), for labels OCR misses.
FRONT_TEMPLATE = Template(
    {
        "姓名": (9.7, 8.4, 6.8, 2.9),
        "性别": (9.7, 14.7, 6.8, 2.9),
        "民族": (31.0, 14.7, 6.8, 2.9),
        "出生": (9.7, 21.0, 6.8, 2.9),
        "住址": (9.7, 27.4, 6.8, 2.9),
        "公民身份号码": (15.9, 46.4, 19.2, 2.9),
    }
)

BACK_LABELS = (
    Label("issuing_authority", ("签发机关",)),
    Label("validity", ("有效期限", "有效期")),
    # The title is read in part when glare or blur hits its first characters.
    Label(None, ("中华人民共和国", "人民共和国"), anywhere=True),
    Label(None, ("居民身份证", "民身份证"), anywhere=True),
)

BACK_TEMPLATE = Template(
    {
        "中华人民共和国": (50.3, 11.4, 41.5, 4.6),
        "人民共和国": (56.4, 11.4, 29.2, 4.6),
        "居民身份证": (50.3, 23.7, 50.6, 8.2),
        "民身份证": (55.6, 23.7, 40.0, 8.2),
        "签发机关": (23.8, 39.8, 13.1, 2.9),
        "有效期限": (23.8, 46.4, 13.1, 2.9),
    }
)


def parse_front(raw_lines: Iterable) -> ParseResult:
    """Fields of the photo side from OCR lines (TextLine objects or text/box/confidence dicts)."""
    return best_orientation(raw_lines, _parse_front)


def parse_back(raw_lines: Iterable) -> ParseResult:
    """Fields of the emblem side: issuing authority and validity period."""
    return best_orientation(raw_lines, _parse_back)


def _parse_front(lines: list[Line]) -> tuple[ParseResult, Layout]:
    layout = Layout(lines, FRONT_LABELS, template=FRONT_TEMPLATE)
    result = ParseResult({key: None for key in FRONT_FIELDS})
    full = layout.text()

    name = collect(layout.values_for("name"))
    value = clean_cjk(name.text)
    if not value:
        m = re.search(r"姓名\s*([\u3400-\u9fff·]{2,})", full)
        value = m.group(1) if m else ""
    result.set("name", value or None, name.confidence or _line_conf(layout, "姓名"))

    sex = collect(layout.values_for("sex"))
    m = re.search(r"[男女]", sex.text)
    if m:
        result.set("sex", m.group(0), sex.confidence)
    else:
        m = re.search(r"性别\s*([男女])", full)
        if m:
            result.set("sex", m.group(1), _line_conf(layout, "性别"))

    eth = collect(layout.values_for("ethnicity"))
    if eth:
        value, corrected = clean_ethnicity(eth.text, suffix=False)
        if value:
            conf = eth.confidence * (0.7 if corrected else 1.0)
            result.set("ethnicity", value, conf)
            if corrected:
                result.notes.append(f"ethnicity: read {clean_cjk(eth.text)!r}, took {value!r}")

    birth = collect(layout.values_for("birth_date"))
    iso = parse_date(birth.text)
    conf = birth.confidence
    if iso is None:
        # Fall back to the first 年月日 date anywhere (the card has no other such date).
        for found, start, end in find_dates(full):
            if "年" in full[start:end]:
                iso, conf = found, _line_conf(layout, full[start:end][:4])
                break
    result.set("birth_date", iso, conf)

    address = _address(layout)
    set_place(result, "address", clean_address(address.text), address.confidence, whole=False)

    id_pieces = layout.values_for("id_number")
    candidates = id_number_candidates([p.text for p in id_pieces])
    conf = collect(id_pieces).confidence
    if not candidates:
        candidates = id_number_candidates([ln.text for ln in lines])
        conf = _line_conf(layout, candidates[0]) if candidates else None
    if candidates:
        result.set("id_number", candidates[0].upper().replace("×", "X"), conf)
    elif id_pieces:
        partial = partial_id_number([p.text for p in id_pieces])
        result.set("id_number", partial, collect(id_pieces).confidence)
    return result, layout


def _address(layout: Layout):
    """The address: its first row beside the label plus the wrapped rows below, left-aligned."""
    labels = layout.labels_for("address")
    first = layout.values_for("address")
    if not labels:
        return collect(first)
    label = labels[0]
    h = max(label.line.height, 1.0)
    stop = float("inf")
    for piece in layout.label_pieces:
        if piece.key in ("id_number",) and piece.cy > label.cy:
            stop = min(stop, piece.cy - 0.5 * h)
    for piece in layout.value_pieces:
        if piece.cy > label.cy and id_number_candidates([piece.text]):
            stop = min(stop, piece.cy - 0.5 * h)
    left = min([p.x0 for p in first], default=label.x1) - 1.5 * h
    below = [
        p
        for p in layout.unlinked()
        if label.cy + 0.5 * h < p.cy < stop and p.x0 >= left and p.x0 >= label.x0 + 0.5 * h
    ]
    below.sort(key=lambda p: p.cy)
    rows = []
    last = max((p.line.y1 for p in first), default=label.line.y1)
    for piece in below:
        # A gap of more than about a blank row means the text below is something else.
        if piece.line.y0 - last > 1.6 * h:
            break
        rows.append(piece)
        last = max(last, piece.line.y1)
    return collect(reading_order([*first, *rows]))


def clean_address(text: str) -> str:
    """Drop spaces and stray punctuation OCR adds; keep digits, letters and - in house numbers."""
    text = re.sub(r"\s+", "", text)
    return re.sub(r"[^\u3400-\u9fff0-9A-Za-z\-()#]", "", text)


def _line_conf(layout: Layout, fragment: str) -> float | None:
    for line in layout.lines:
        if fragment and fragment in line.text:
            return line.confidence
    return None


def _parse_back(lines: list[Line]) -> tuple[ParseResult, Layout]:
    layout = Layout(lines, BACK_LABELS, template=BACK_TEMPLATE)
    result = ParseResult({key: None for key in BACK_FIELDS})
    result.fields["long_term"] = False
    full = layout.text()

    authority = collect(layout.values_for("issuing_authority"))
    value = clean_cjk(authority.text)
    conf = authority.confidence
    if not value:
        m = re.search(r"签发机关\s*([\u3400-\u9fff]{4,})", full)
        if m:
            value, conf = m.group(1), _line_conf(layout, m.group(1))
    result.set("issuing_authority", value or None, conf)

    validity = collect(layout.values_for("validity"))
    text, conf = validity.text, validity.confidence
    if not find_dates(text):
        # No label read: the validity period is the only dotted date pair on the card.
        for line in layout.lines:
            if find_dates(line.text):
                text, conf = line.text, line.confidence
                break
    dates = find_dates(text)
    if dates:
        result.set("valid_from", dates[0][0], conf)
        rest = text[dates[0][2] :]
        if len(dates) > 1:
            result.set("valid_until", dates[1][0], conf)
        elif "长期" in rest or re.search(r"[长K]\S?$", rest.strip()):
            result.fields["long_term"] = True
            result.field_confidence["long_term"] = round(conf, 4)
    if result.fields["valid_until"] is not None:
        result.field_confidence["long_term"] = round(conf, 4)
    return result, layout
