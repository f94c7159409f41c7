"""Parsers for the household register (居民户口簿): the home page and a member's page."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ocr.parsers.common import (
    Collected,
    ParseResult,
    best_orientation,
    clean_cjk,
    clean_ethnicity,
    collect,
    digits_only,
    id_number_candidates,
    partial_id_number,
    set_place,
)
from ocr.parsers.id_card import clean_address
from ocr.parsers.layout import Label, Layout, Line, Template
from ocr.parsers.vocab import (
    EDUCATION,
    MARITAL_STATUS,
    MILITARY_SERVICE,
    RELATIONSHIP,
    RELIGION,
    find_term,
    snap,
)
from ocr.text import find_dates, parse_date

__all__ = ["HOME_FIELDS", "MEMBER_FIELDS", "parse_home", "parse_member"]

HOME_FIELDS = ("household_type", "head_name", "household_number", "address", "issue_date")

MEMBER_FIELDS = (
    "name",
    "relationship_to_head",
    "former_name",
    "sex",
    "birthplace",
    "ethnicity",
    "native_place",
    "birth_date",
    "other_address",
    "religion",
    "id_number",
    "height",
    "blood_type",
    "education",
    "marital_status",
    "military_service",
    "employer",
    "occupation",
    "moved_to_city_info",
    "moved_to_address_info",
    "registration_date",
)

HOME_LABELS = (
    Label("household_type", ("户别",)),
    Label("head_name", ("户主姓名",)),
    Label("household_number", ("户号",)),
    Label("address", ("住址",)),
    Label("issue_date", ("签发日期",)),
    # Printed text whose neighbours are not fields: the seal, the clerk's chop, the title.
    Label(None, ("户口登记机关", "承办人签章", "户口专用章", "居民户口簿", "常住户口登记")),
)

MEMBER_LABELS = (
    Label("name", ("姓名",)),
    # Printed on two lines in the cell: "户主或与" over "户主关系".
    Label("relationship_to_head", ("户主或与户主关系", "与户主关系", "户主或与", "户主关系")),
    Label("former_name", ("曾用名",)),
    Label("sex", ("性别",)),
    Label("birthplace", ("出生地",)),
    Label("ethnicity", ("民族",)),
    Label("native_place", ("籍贯",)),
    Label("birth_date", ("出生日期",), anywhere=True),
    Label("other_address", ("本市县其他住址", "其他住址", "本市县")),
    Label("religion", ("宗教信仰",), anywhere=True),
    Label("id_number", ("公民身份证件编号", "公民身份号码", "公民身份", "证件编号")),
    Label("height", ("身高",)),
    Label("blood_type", ("血型",)),
    Label("education", ("文化程度",)),
    Label("marital_status", ("婚姻状况",), anywhere=True),
    Label("military_service", ("兵役状况",), anywhere=True),
    Label("employer", ("服务处所",)),
    # Start-of-line only: "职业" also ends values such as "自由职业".
    Label("occupation", ("职业",)),
    Label("moved_to_city_info", ("何时由何地迁来本市县",)),
    Label("moved_to_address_info", ("何时由何地迁来本址",)),
    Label("registration_date", ("登记日期",), anywhere=True),
    Label(None, ("常住人口登记卡", "承办人签章", "户口专用章")),
)

# Label centres and sizes in mm on the 143 × 105 mm page, for labels OCR misses or misreads.
HOME_TEMPLATE = Template(
    {
        "户别": (19.0, 18.5, 7.6, 2.7),
        "户主姓名": (78.0, 18.5, 10.8, 2.7),
        "户号": (19.0, 36.0, 7.6, 2.7),
        "住址": (78.0, 36.0, 7.6, 2.7),
        "户口登记机关": (22.4, 52.4, 18.8, 2.8),
        "承办人签章": (93.8, 52.4, 15.6, 2.8),
        "签发日期": (92.2, 88.9, 12.4, 2.8),
    }
)

MEMBER_TEMPLATE = Template(
    {
        "常住人口登记卡": (71.5, 8.2, 45.8, 5.0),
        "姓名": (15.5, 17.45, 7.6, 2.7),
        "户主或与": (89.0, 15.9, 10.8, 2.7),
        "户主关系": (89.0, 19.0, 10.8, 2.7),
        "曾用名": (15.5, 25.35, 8.1, 2.7),
        "性别": (89.0, 25.35, 7.6, 2.7),
        "出生地": (15.5, 33.25, 8.1, 2.7),
        "民族": (89.0, 33.25, 7.6, 2.7),
        "籍贯": (15.5, 41.15, 7.6, 2.7),
        "出生日期": (89.0, 41.15, 10.8, 2.7),
        "本市县": (15.5, 47.5, 13.5, 2.7),
        "其他住址": (15.5, 50.6, 10.8, 2.7),
        "宗教信仰": (89.0, 49.05, 10.8, 2.7),
        "公民身份": (15.5, 55.4, 10.8, 2.7),
        "证件编号": (15.5, 58.5, 10.8, 2.7),
        "身高": (82.0, 56.95, 6.4, 2.7),
        "血型": (104.0, 56.95, 6.4, 2.7),
        "文化程度": (15.5, 64.85, 10.8, 2.7),
        "婚姻状况": (59.0, 64.85, 10.8, 2.7),
        "兵役状况": (99.0, 64.85, 10.8, 2.7),
        "服务处所": (15.5, 72.75, 10.8, 2.7),
        "职业": (93.0, 72.75, 7.6, 2.7),
        "何时由何地迁来本市县": (28.0, 80.65, 32.4, 2.7),
        "何时由何地迁来本址": (28.0, 88.55, 24.3, 2.7),
        "承办人签章": (16.8, 97.4, 15.6, 2.8),
        "登记日期": (90.2, 97.4, 12.4, 2.8),
    }
)

_HOUSEHOLD_TYPES = ("家庭户", "集体户")

CODED = {
    "relationship_to_head": RELATIONSHIP,
    "religion": RELIGION,
    "education": EDUCATION,
    "marital_status": MARITAL_STATUS,
    "military_service": MILITARY_SERVICE,
}
# Cells printed side by side, whose reads can run into each other.
CODED_ROWS = {
    "education": ("marital_status",),
    "marital_status": ("education", "military_service"),
    "military_service": ("marital_status",),
}
_BLOOD = re.compile(r"(AB|A|B|O|0)\s*型")


def parse_home(raw_lines: Iterable) -> ParseResult:
    """Fields of the 户主页 from OCR lines."""
    return best_orientation(raw_lines, _parse_home)


def parse_member(raw_lines: Iterable) -> ParseResult:
    """Fields of a 常住人口登记卡 page from OCR lines."""
    return best_orientation(raw_lines, _parse_member)


def _text_field(result: ParseResult, key: str, got: Collected, clean=clean_cjk) -> None:
    value = clean(got.text) if got else ""
    result.set(key, value or None, got.confidence)


def _parse_home(lines: list[Line]) -> tuple[ParseResult, Layout]:
    layout = Layout(lines, HOME_LABELS, pad=0.6, template=HOME_TEMPLATE)
    result = ParseResult({key: None for key in HOME_FIELDS})

    got = collect(layout.values_for("household_type"))
    value = clean_cjk(got.text)
    for known in _HOUSEHOLD_TYPES:
        if known in value:
            value = known
    result.set("household_type", value or None, got.confidence)

    _text_field(result, "head_name", collect(layout.values_for("head_name")))

    got = collect(layout.values_for("household_number"))
    result.set("household_number", digits_only(got.text) or None, got.confidence)

    got = collect(layout.values_for("address"))
    set_place(result, "address", clean_address(got.text), got.confidence, whole=False)

    got = collect(layout.values_for("issue_date"))
    iso, conf = parse_date(got.text), got.confidence
    if iso is None:
        for line in layout.lines:
            found = parse_date(line.text)
            if found and "年" in line.text:
                iso, conf = found, line.confidence
                break
    result.set("issue_date", iso, conf)
    return result, layout


def _parse_member(lines: list[Line]) -> tuple[ParseResult, Layout]:
    layout = Layout(lines, MEMBER_LABELS, template=MEMBER_TEMPLATE)
    result = ParseResult({key: None for key in MEMBER_FIELDS})

    def got(key: str) -> Collected:
        return collect(layout.values_for(key))

    for key in ("former_name", "occupation"):
        _text_field(result, key, got(key))
    name = got("name")
    result.set("name", _strip_label(clean_cjk(name.text)) or None, name.confidence)
    _coded_fields(result, {key: got(key) for key in CODED})
    # Employers carry numbers: 第16中学.
    _text_field(result, "employer", got("employer"), clean_address)

    sex = got("sex")
    m = re.search(r"[男女]", sex.text)
    result.set("sex", m.group(0) if m else None, sex.confidence)

    eth = got("ethnicity")
    value, corrected = clean_ethnicity(eth.text, suffix=True) if eth else (None, False)
    result.set("ethnicity", value, (eth.confidence or 0) * (0.7 if corrected else 1.0))
    if corrected:
        result.notes.append(f"ethnicity: read {clean_cjk(eth.text)!r}, took {value!r}")

    birth = got("birth_date")
    result.set("birth_date", parse_date(birth.text), birth.confidence)

    other = got("other_address")
    set_place(result, "other_address", clean_address(other.text), other.confidence, whole=False)
    places = {key: got(key) for key in ("birthplace", "native_place")}
    for key, place in places.items():
        # Birthplace and native place are often the same city: one read right settles which
        # of two equally near names the other misread is.
        (sibling,) = (clean_cjk(p.text) for k, p in places.items() if k != key)
        set_place(result, key, clean_cjk(place.text), place.confidence, whole=True, prefer=sibling)

    pieces = layout.values_for("id_number")
    candidates = id_number_candidates([p.text for p in pieces])
    conf = collect(pieces).confidence
    if not candidates:
        for line in lines:
            candidates = id_number_candidates([line.text])
            if candidates:
                conf = line.confidence
                break
    if candidates:
        result.set("id_number", candidates[0].upper().replace("×", "X"), conf)
    elif pieces:
        partial = partial_id_number(
            [p.text for p in pieces if not p.text.strip().isdigit() or len(p.text.strip()) > 3]
        )
        result.set("id_number", partial, collect(pieces).confidence)

    height = got("height")
    digits = digits_only(height.text)
    if not 2 <= len(digits) <= 3:
        # The label can go unread; the height is then the short number beside the ID number.
        for piece in layout.values_for("id_number"):
            if re.fullmatch(r"[0-9]{2,3}", piece.text.strip()):
                digits, height = piece.text.strip(), collect([piece])
                break
    result.set("height", digits if 2 <= len(digits) <= 3 else None, height.confidence)

    blood = got("blood_type")
    m = _BLOOD.search(blood.text.upper())
    if m:
        result.set("blood_type", m.group(1).replace("0", "O") + "型", blood.confidence)
    elif "不明" in blood.text:
        result.set("blood_type", "不明", blood.confidence)

    for key in ("moved_to_city_info", "moved_to_address_info"):
        info = got(key)
        result.set(key, clean_moved(info.text) or None, info.confidence)

    reg = got("registration_date")
    iso, conf = parse_date(reg.text), reg.confidence
    if iso is None:
        # The date can sit under the seal and be read without its label: the last 年月日 date
        # below every table row is the registration date.
        dated = [ln for ln in layout.lines if "年" in ln.text and find_dates(ln.text)]
        labels = [p for p in layout.label_pieces if p.key == "moved_to_address_info"]
        floor = max((p.line.y1 for p in labels), default=None)
        below = [ln for ln in dated if floor is not None and ln.cy > floor]
        if below:
            line = max(below, key=lambda ln: ln.cy)
            iso, conf = parse_date(line.text), line.confidence
    result.set("registration_date", iso, conf)
    return result, layout


def _strip_label(name: str) -> str:
    """A name without the relationship label OCR ran on from the same row (李淑户主或与)."""
    cut = name.find("户", 2)
    return name[:cut] if cut > 0 else name


def _coded_fields(result: ParseResult, reads: dict[str, Collected]) -> None:
    """Cells filled from a national code table, snapped onto it; a value swallowed by the
    neighbouring cell's read (丧偶未服兵役) is taken back from there."""
    for key, terms in CODED.items():
        got = reads[key]
        value, corrected = snap(got.text, terms)
        if value is None:
            for other in CODED_ROWS.get(key, ()):
                value = find_term(reads[other].text, terms)
                if value:
                    got, corrected = reads[other], True
                    break
        confidence = (got.confidence or 0) * (0.8 if corrected else 1.0) if got else None
        result.set(key, value, confidence)
        if corrected:
            result.notes.append(f"{key}: read {clean_cjk(got.text)!r}, took {value!r}")


def clean_moved(text: str) -> str:
    """A migration note as printed ("2016年07月由广西壮族自治区贺州市迁来"), or "" if the text
    is not one (seal fragments land in these cells)."""
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"[^\u3400-\u9fff0-9]", "", text)
    if not re.search(r"[0-9]{4}年|由|迁来", text):
        return ""
    if re.search(r"登记|记日", text) and not re.search(r"由|迁来", text):
        # The 登记日期 line below, its label half read, taken into the empty cell above it.
        return ""
    # Every such note ends in 迁来; OCR misreads its first character (赶来, 讦来) and runs seal
    # text on after it.
    text = re.sub(r"(迁来).*$", r"\1", text)
    return re.sub(r"由(.+)[\u3400-\u9fff]来$", r"由\1迁来", text)
