"""Document classification, field parsing and checks for ID cards and household registers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from ocr import checks as _checks
from ocr.parsers.common import ParseResult, id_number_candidates
from ocr.parsers.household import HOME_FIELDS, MEMBER_FIELDS, parse_home, parse_member
from ocr.parsers.id_card import BACK_FIELDS, FRONT_FIELDS, parse_back, parse_front
from ocr.parsers.layout import find_label, strip_ignored
from ocr.text import normalize

__all__ = [
    "DOCUMENT_TYPES",
    "FIELDS",
    "Extraction",
    "ParseResult",
    "classify",
    "extract",
    "parse",
]

DOCUMENT_TYPES = (
    "id_card_front",
    "id_card_back",
    "household_register_home",
    "household_register_member",
)

FIELDS = {
    "id_card_front": FRONT_FIELDS,
    "id_card_back": BACK_FIELDS,
    "household_register_home": HOME_FIELDS,
    "household_register_member": MEMBER_FIELDS,
}

# Printed words that identify each page, with weights: a word unique to one kind counts most.
_KEYWORDS: dict[str, tuple[tuple[str, float], ...]] = {
    "id_card_front": (
        ("公民身份号码", 4.0),
        ("住址", 1.0),
        ("姓名", 0.5),
        ("性别", 0.5),
        ("民族", 0.5),
        ("出生", 0.5),
    ),
    "id_card_back": (
        ("签发机关", 3.0),
        ("有效期限", 3.0),
        ("中华人民共和国", 1.5),
        ("居民身份证", 2.0),
        ("长期", 0.5),
    ),
    "household_register_home": (
        ("户别", 3.0),
        ("户主姓名", 3.0),
        ("户号", 2.0),
        ("户口登记机关", 2.0),
        ("签发日期", 1.5),
        ("住址", 0.5),
        ("户口专用章", 0.5),
        ("承办人签章", 0.5),
        ("家庭户", 1.0),
        ("集体户", 1.0),
    ),
    "household_register_member": (
        ("常住人口登记卡", 4.0),
        ("户主关系", 2.0),
        ("曾用名", 2.0),
        ("籍贯", 1.5),
        ("出生地", 1.5),
        ("宗教信仰", 1.5),
        ("公民身份证件编号", 2.0),
        ("文化程度", 1.5),
        ("婚姻状况", 1.5),
        ("兵役状况", 1.5),
        ("服务处所", 1.5),
        ("何时由何地迁来", 1.5),
        ("登记日期", 1.0),
        ("户口专用章", 0.5),
        ("承办人签章", 0.5),
    ),
}
_MIN_SCORE = 1.5


def _text_of(lines: Iterable) -> str:
    parts = []
    for item in lines:
        text = item["text"] if isinstance(item, dict) else getattr(item, "text", item)
        parts.append(normalize(str(text)))
    return "\n".join(parts)


def classify(lines: Sequence, among: Sequence[str] | None = None) -> tuple[str | None, float]:
    """The document kind the lines come from and a 0–1 score, or (None, 0.0) if none fits.

    Accepts TextLine objects, dicts with "text", or plain strings. ``among`` limits the answer
    to some kinds (the caller knows a card or a register page was photographed). The score is
    the winner's share of the keyword weight found for all kinds, scaled down when little was
    found.
    """
    text = _text_of(lines)
    stripped, _ = strip_ignored(text)
    totals = {}
    for kind, words in _KEYWORDS.items():
        # Two misread characters are tolerated in long words: a page is judged by all of them.
        totals[kind] = sum(
            weight for word, weight in words if find_label(stripped, word, True, max_wrong=2)
        )
    if id_number_candidates(text.splitlines()):
        # An 18-character number is the card's most legible line, often all that is read.
        totals["id_card_front"] += 2.5
        totals["household_register_member"] += 1.0
    allowed = [k for k in totals if among is None or k in among]
    if not allowed:
        return None, 0.0
    best = max(allowed, key=lambda k: totals[k])
    if totals[best] < _MIN_SCORE:
        return None, 0.0
    share = totals[best] / sum(totals.values())
    coverage = min(1.0, totals[best] / 6.0)
    return best, round(share * coverage, 3)


_PARSERS = {
    "id_card_front": parse_front,
    "id_card_back": parse_back,
    "household_register_home": parse_home,
    "household_register_member": parse_member,
}

_CHECKS = {
    "id_card_front": _checks.check_id_card_front,
    "id_card_back": _checks.check_id_card_back,
    "household_register_home": _checks.check_household_home,
    "household_register_member": _checks.check_household_member,
}


def parse(document_type: str, lines: Sequence) -> ParseResult:
    """Fields as read from OCR lines (TextLine objects or dicts with text, box, confidence).

    Every key of the kind is present; values not found are None. No correction is made here:
    ``extract`` (or the functions in ``ocr.checks``) validates and repairs.
    """
    try:
        parser = _PARSERS[document_type]
    except KeyError:
        raise ValueError(f"unknown document type {document_type!r}") from None
    return parser(lines)


@dataclass
class Extraction:
    """Everything read from one page: parsed and checked fields, confidences and warnings."""

    document_type: str | None
    classification_score: float
    fields: dict
    field_confidence: dict
    checks: dict = field(default_factory=dict)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def extract(
    lines: Sequence, document_type: str | None = None, *, today: date | None = None
) -> Extraction:
    """Classify (unless ``document_type`` is given), parse and check one page's OCR lines.

    Fields that checks repaired get their confidence lowered: look-alike letters mapped to
    digits by ``CONFIDENCE_MAPPED``, a character corrected by the check digit by
    ``CONFIDENCE_CORRECTED``.
    """
    lines = list(lines)
    score = 1.0
    if document_type is None:
        document_type, score = classify(lines)
        if document_type is None:
            return Extraction(None, 0.0, {}, {}, notes=["document type not recognised"])
    parsed = parse(document_type, lines)
    checked = _CHECKS[document_type](parsed.fields, today or date.today())
    confidence = dict(parsed.field_confidence)
    notes = list(parsed.notes)
    repair = checked.checks.get("id_repair")
    if repair in ("mapped", "corrected", "completed") and "id_number" in confidence:
        factor = {
            "mapped": _checks.CONFIDENCE_MAPPED,
            "corrected": _checks.CONFIDENCE_CORRECTED,
            "completed": _checks.CONFIDENCE_COMPLETED,
        }[repair]
        confidence["id_number"] = round(confidence["id_number"] * factor, 4)
        # The changes, not the number: notes end up in logs.
        changes = ", ".join(checked.checks.get("id_repair_changes", []))
        notes.append(f"id_number {repair}: {changes}")
    for key in checked.checks.get("filled_from_id", []):
        if "id_number" in confidence:
            confidence[key] = round(confidence["id_number"] * _checks.CONFIDENCE_MAPPED, 4)
        notes.append(f"{key}: not readable, taken from the ID number")
    return Extraction(
        document_type,
        score,
        checked.fields,
        confidence,
        checked.checks,
        checked.warnings,
        notes,
    )
