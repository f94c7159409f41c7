"""Consistency checks on parsed document fields, and check-digit repair of misread ID numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from itertools import product
from typing import NamedTuple

from ledger.registry.idnumber import check_digit, normalize_ethnicity
from ocr import regions
from ocr.text import DIGIT_GLYPHS, to_halfwidth

__all__ = [
    "CONFIDENCE_COMPLETED",
    "CONFIDENCE_CORRECTED",
    "CONFIDENCE_MAPPED",
    "WARNINGS",
    "Checked",
    "IdRepair",
    "check_household_home",
    "check_household_member",
    "check_id_card_back",
    "check_id_card_front",
    "complete_id_number",
    "repair_id_number",
]

# Field confidence is multiplied by these when the ID number had to be repaired.
CONFIDENCE_MAPPED = 0.9
CONFIDENCE_CORRECTED = 0.6
CONFIDENCE_COMPLETED = 0.5

WARNINGS = {
    "id_number_missing": "未识别到身份证号码，请重新拍摄或手动录入",
    "checksum_failed": "身份证号校验未通过，请核对号码或重新拍摄",
    "id_number_corrected": "身份证号有字符识别不清，已按校验位自动更正，请与证件核对",
    "id_number_completed": "身份证号有几位被遮挡，已按出生日期和住址补全，请务必与证件核对",
    "region_unknown": "身份证号前六位不是已知的行政区划代码，请核对号码",
    "birth_date_mismatch": "出生日期与身份证号不一致，请核对",
    "sex_mismatch": "性别与身份证号不一致，请核对",
    "ethnicity_invalid": "民族不在56个民族之列，请核对",
    "date_invalid": "日期无效或晚于今天，请核对",
    "validity_order": "有效期限的截止日期早于起始日期，请核对",
    "validity_period_unusual": "有效期限不是5年、10年或20年，请核对日期",
    "expired": "该身份证已过有效期，请提醒居民及时换领",
    "household_number_unusual": "户号格式异常，请核对",
    "fields_missing": "部分信息未识别，请重新拍摄或手动补录",
}

_FIELD_NAMES = {
    "name": "姓名",
    "sex": "性别",
    "ethnicity": "民族",
    "birth_date": "出生日期",
    "address": "住址",
    "id_number": "身份证号",
    "issuing_authority": "签发机关",
    "valid_from": "有效期起始日期",
    "valid_until": "有效期截止日期",
    "household_type": "户别",
    "head_name": "户主姓名",
    "household_number": "户号",
    "issue_date": "签发日期",
    "relationship_to_head": "与户主关系",
    "registration_date": "登记日期",
}


class Checked(NamedTuple):
    """``checks``: named booleans (and the region); ``warnings``: (code, Chinese message) pairs;
    ``fields``: the input fields with safe repairs applied (a copy; the input is not changed)."""

    checks: dict
    warnings: list[tuple[str, str]]
    fields: dict


@dataclass
class IdRepair:
    """Outcome of ``repair_id_number``.

    ``status``: "ok" (read as is), "mapped" (look-alike letters turned into digits and the check
    digit then passed), "corrected" (one character changed to the only value that passes the
    check digit and agrees with the card), "completed" (digits lost from the reading put back
    by ``complete_id_number``), "failed" (no safe repair; ``number`` is the reading with
    look-alikes mapped), or "missing".
    """

    number: str | None
    status: str
    changes: list[str] = field(default_factory=list)
    candidates: int = 0

    @property
    def valid(self) -> bool:
        return self.status in ("ok", "mapped", "corrected", "completed")


# Digits OCR confuses with each other in card and form fonts (symmetric).
_CONFUSABLE = {
    "0": "689",
    "1": "7",
    "2": "7",
    "3": "8",
    "4": "9",
    "5": "6",
    "6": "058",
    "7": "12",
    "8": "0369",
    "9": "048",
}
# What a final check character can be misread as, besides the digits above.
_X_LIKE = frozenset("XxK×Ххχ")


def _passes(number: str, today: date) -> bool:
    """18 characters, the check digit right and a real birth date no later than today."""
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return False
    if not number.isascii() or check_digit(number[:17]) != number[17]:
        return False
    try:
        encoded = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return encoded.year >= 1900 and encoded <= today


def _plausible(number: str, today: date, birth: date | None, sex: str | None) -> bool:
    """Passes, has a known region code, and agrees with the birth date and sex printed."""
    if not _passes(number, today):
        return False
    encoded = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    if birth is not None and encoded != birth:
        return False
    if sex in ("男", "女") and ("男" if int(number[16]) % 2 else "女") != sex:
        return False
    return regions.region(number[:6]) is not None


def _squeeze(raw: str) -> str:
    return re.sub(r"[\s\-_.,·]", "", to_halfwidth(raw))


def repair_id_number(
    raw: str | None,
    *,
    today: date,
    birth_date: date | None = None,
    sex: str | None = None,
) -> IdRepair:
    """Read an OCR'd ID number, fixing look-alike glyphs and at most one misread character.

    Look-alike letters in digit positions (O/0, I/1, l/1; X only last) are mapped first. If the
    check digit then fails, one character is changed only when exactly one candidate among
    confusable digits (and the digits of the printed birth date) passes the check digit AND
    agrees with the birth date and sex printed on the document (when given) AND has a known
    region code; otherwise the result is "failed" and the caller must warn.
    """
    if not raw or not _squeeze(raw):
        return IdRepair(None, "missing")
    text = _squeeze(raw)
    chars = list(text)
    changes: list[str] = []
    if len(chars) == 18 and chars[17] in _X_LIKE:
        if chars[17] not in "Xx":
            changes.append(f"{chars[17]}→X@18")
        chars[17] = "X"
    unknown: list[int] = []
    for i, ch in enumerate(chars):
        if ch.isascii() and ch.isdigit():
            continue
        if i == 17 and ch == "X":
            continue
        mapped = DIGIT_GLYPHS.get(ch)
        if mapped is not None:
            chars[i] = mapped
            changes.append(f"{ch}→{mapped}@{i + 1}")
        else:
            unknown.append(i)
    number = "".join(chars)
    if len(number) != 18:
        return IdRepair(number, "failed", changes)

    if not unknown and _passes(number, today):
        # A single misread character always breaks the check digit, so a number that passes is
        # taken as read; disagreement with the printed date or sex is for the caller to warn.
        return IdRepair(number, "mapped" if changes else "ok", changes, 1)

    candidates: set[tuple[str, str]] = set()
    if len(unknown) == 1:
        # One unreadable character: the check digit determines it, if any value fits.
        i = unknown[0]
        for digit in "0123456789X" if i == 17 else "0123456789":
            trial = number[:i] + digit + number[i + 1 :]
            if _plausible(trial, today, birth_date, sex):
                candidates.add((trial, f"{text[i]}→{digit}@{i + 1}"))
    elif not unknown:
        printed = birth_date.strftime("%Y%m%d") if birth_date else None
        for i, ch in enumerate(number):
            options = set(_CONFUSABLE.get(ch, ""))
            if i == 17:
                options |= {"X"} if ch in "14" else set()
                if ch == "X":
                    options = {"1", "4"}
            if printed is not None and 6 <= i < 14 and printed[i - 6] != ch:
                # The date printed on the document says what this digit should be.
                options.add(printed[i - 6])
            for digit in options:
                trial = number[:i] + digit + number[i + 1 :]
                if _plausible(trial, today, birth_date, sex):
                    candidates.add((trial, f"{ch}→{digit}@{i + 1}"))
    if len(candidates) == 1:
        trial, change = candidates.pop()
        return IdRepair(trial, "corrected", [*changes, change], 1)
    return IdRepair(number, "failed", changes, len(candidates))


def complete_id_number(
    read: str,
    *,
    today: date,
    birth_date: date,
    sex: str | None = None,
    places: tuple[str, ...] = (),
) -> IdRepair | None:
    """The number with one run of lost digits put back, or None when that is not certain.

    Glare or a thumb over the card erases one stretch of the number; the rest is read. The
    lost digits come from what the same document prints: the birth date (digits 7-14) and the
    county-level region that ``places`` (the address, a birthplace) start with (digits 1-6);
    lost sequence and check digits are tried with every value. Returns the number only if
    exactly one candidate, over every place the gap can sit, every code the places name and
    every value, passes the check digit and agrees with the date, sex and a known region, and
    the check digit was read (one computed confirms nothing). Two lost sequence digits never
    complete: many numbers fit.
    """
    digits = _squeeze(read)
    length = len(digits)
    if not 10 <= length < 18 or not digits[:-1].isdigit() or digits[-1] not in "0123456789X":
        return None
    printed = birth_date.strftime("%Y%m%d")
    codes = {code for place in places if place for code in regions.codes_for_place(place)}
    gap = 18 - length
    found: set[str] = set()
    # Where the gap sits is not known: every place it could be must agree on one number.
    for start in range(0, length + 1):
        known = digits[:start] + "?" * gap + digits[start:]
        trial = [printed[i - 6] if ch == "?" and 6 <= i < 14 else ch for i, ch in enumerate(known)]
        heads = [""]
        if "?" in trial[:6]:
            heads = [c for c in codes if all(ch in ("?", c[i]) for i, ch in enumerate(known[:6]))]
        for head in heads:
            body = [*head, *trial[len(head) : 17]]
            if "X" in body:  # an X read last, with the gap put after it
                continue
            open_at = [i for i, ch in enumerate(body) if ch == "?"]
            for fill in product("0123456789", repeat=len(open_at)):
                for i, ch in zip(open_at, fill, strict=True):
                    body[i] = ch
                last = check_digit("".join(body)) if trial[17] == "?" else trial[17]
                number = "".join(body) + last
                if _plausible(number, today, birth_date, sex):
                    # A computed check digit confirms nothing: such a candidate only counts
                    # against the others.
                    found.add(number if trial[17] != "?" else "?" + number)
                    if len(found) > 1:
                        return None
    if len(found) != 1 or next(iter(found)).startswith("?"):
        return None
    number = found.pop()
    return IdRepair(number, "completed", [f"补全{gap}位"], 1)


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _warn(warnings: list[tuple[str, str]], code: str, detail: str = "") -> None:
    message = WARNINGS[code]
    if detail:
        message = f"{message}（{detail}）"
    if all(existing != code for existing, _ in warnings):
        warnings.append((code, message))


def _missing(warnings: list[tuple[str, str]], fields: dict, keys: tuple[str, ...]) -> None:
    absent = [_FIELD_NAMES.get(k, k) for k in keys if fields.get(k) in (None, "")]
    if absent:
        _warn(warnings, "fields_missing", "未识别：" + "、".join(absent))


def _check_date(warnings, value, today: date, label: str) -> bool:
    """An ISO date on or before today and after 1900; warns otherwise. None (absent) passes."""
    if value is None:
        return True
    parsed = _as_date(value)
    if parsed is None or parsed > today or parsed.year < 1900:
        _warn(warnings, "date_invalid", label)
        return False
    return True


def _check_id(fields: dict, out: dict, today: date) -> tuple[dict, list[tuple[str, str]]]:
    """ID-number checks shared by the card front and the member page; repairs ``out`` in place."""
    warnings: list[tuple[str, str]] = []
    checks: dict = {
        "id_number_checksum": False,
        "birth_date_matches_id": False,
        "sex_matches_id": False,
        "region": None,
        "filled_from_id": [],
    }
    birth = _as_date(fields.get("birth_date"))
    sex = fields.get("sex") if fields.get("sex") in ("男", "女") else None
    repair = repair_id_number(fields.get("id_number"), today=today, birth_date=birth, sex=sex)
    checks["id_repair"] = repair.status
    checks["id_repair_changes"] = list(repair.changes)
    if repair.status == "missing":
        _warn(warnings, "id_number_missing")
        out["id_number"] = None
        return checks, warnings
    out["id_number"] = repair.number
    if not repair.valid and birth is not None and repair.number and len(repair.number) < 18:
        places = tuple(fields.get(k) or "" for k in ("address", "birthplace", "native_place"))
        completed = complete_id_number(
            repair.number, today=today, birth_date=birth, sex=sex, places=places
        )
        if completed is not None:
            repair = completed
            out["id_number"] = repair.number
            checks["id_repair"] = repair.status
            checks["id_repair_changes"] = list(repair.changes)
            _warn(warnings, "id_number_completed")
    if not repair.valid:
        _warn(warnings, "checksum_failed")
        return checks, warnings
    if repair.status == "corrected":
        _warn(warnings, "id_number_corrected", "、".join(repair.changes))
    number = repair.number
    checks["id_number_checksum"] = True
    encoded = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    encoded_sex = "男" if int(number[16]) % 2 else "女"
    checks["birth_date_matches_id"] = birth == encoded
    checks["sex_matches_id"] = sex == encoded_sex
    # A date or sex the OCR could not read is taken from the verified number, which encodes both;
    # one that was read and disagrees is left alone and warned about below.
    filled = []
    if not fields.get("birth_date"):
        out["birth_date"] = encoded.isoformat()
        filled.append("birth_date")
    if not fields.get("sex"):
        out["sex"] = encoded_sex
        filled.append("sex")
    checks["filled_from_id"] = filled
    if birth is not None and birth != encoded:
        _warn(warnings, "birth_date_mismatch")
    if sex is not None and sex != encoded_sex:
        _warn(warnings, "sex_mismatch")
    name = regions.region_name(number[:6], encoded.year)
    checks["region"] = name
    if name is None:
        _warn(warnings, "region_unknown")
    return checks, warnings


def check_id_card_front(fields: dict, today: date | None = None) -> Checked:
    """Check digit, birth date and sex against the number, region, ethnicity and date validity."""
    today = today or date.today()
    out = dict(fields)
    checks, warnings = _check_id(fields, out, today)
    checks["birth_date_valid"] = _check_date(warnings, fields.get("birth_date"), today, "出生日期")
    ethnicity = fields.get("ethnicity")
    checks["ethnicity_valid"] = bool(ethnicity) and normalize_ethnicity(ethnicity) is not None
    if ethnicity and not checks["ethnicity_valid"]:
        _warn(warnings, "ethnicity_invalid")
    _missing(warnings, out, ("name", "sex", "ethnicity", "birth_date", "address", "id_number"))
    return Checked(checks, warnings, out)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_id_card_back(fields: dict, today: date | None = None) -> Checked:
    """Dates valid and in order, a standard validity length, and expiry relative to ``today``."""
    today = today or date.today()
    out = dict(fields)
    warnings: list[tuple[str, str]] = []
    start = _as_date(fields.get("valid_from"))
    until = _as_date(fields.get("valid_until"))
    long_term = bool(fields.get("long_term"))
    checks: dict = {
        "valid_from_valid": start is not None and start <= today and start.year >= 1984,
        "valid_until_valid": long_term or until is not None,
        "validity_order": None,
        "validity_period_standard": None,
        "expired": None,
    }
    if fields.get("valid_from") is not None and not checks["valid_from_valid"]:
        _warn(warnings, "date_invalid", "有效期起始日期")
    if fields.get("valid_until") is not None and until is None:
        _warn(warnings, "date_invalid", "有效期截止日期")
    if long_term:
        out["valid_until"] = None
    if start is not None and until is not None:
        checks["validity_order"] = until > start
        if not checks["validity_order"]:
            _warn(warnings, "validity_order")
        else:
            standard = any(_add_years(start, n) == until for n in (5, 10, 20))
            checks["validity_period_standard"] = standard
            if not standard:
                _warn(warnings, "validity_period_unusual")
    if until is not None:
        checks["expired"] = until < today
        if checks["expired"]:
            _warn(warnings, "expired", f"有效期至{until.isoformat()}")
    elif long_term:
        checks["expired"] = False
    keys = ("issuing_authority", "valid_from") + (() if long_term else ("valid_until",))
    _missing(warnings, out, keys)
    return Checked(checks, warnings, out)


def check_household_member(fields: dict, today: date | None = None) -> Checked:
    """The ID-number checks of the card front, plus ethnicity and the page's dates."""
    today = today or date.today()
    out = dict(fields)
    checks, warnings = _check_id(fields, out, today)
    checks["birth_date_valid"] = _check_date(warnings, fields.get("birth_date"), today, "出生日期")
    checks["registration_date_valid"] = _check_date(
        warnings, fields.get("registration_date"), today, "登记日期"
    )
    ethnicity = fields.get("ethnicity")
    checks["ethnicity_valid"] = bool(ethnicity) and normalize_ethnicity(ethnicity) is not None
    if ethnicity and not checks["ethnicity_valid"]:
        _warn(warnings, "ethnicity_invalid")
    _missing(warnings, out, ("name", "relationship_to_head", "sex", "birth_date", "id_number"))
    return Checked(checks, warnings, out)


def check_household_home(fields: dict, today: date | None = None) -> Checked:
    """Issue date valid and not in the future; household number made of digits."""
    today = today or date.today()
    out = dict(fields)
    warnings: list[tuple[str, str]] = []
    checks: dict = {
        "issue_date_valid": _check_date(warnings, fields.get("issue_date"), today, "签发日期")
        and fields.get("issue_date") is not None,
    }
    number = fields.get("household_number")
    checks["household_number_valid"] = bool(number) and bool(re.fullmatch(r"[0-9]{6,12}", number))
    if number and not checks["household_number_valid"]:
        _warn(warnings, "household_number_unusual")
    _missing(
        warnings, out, ("household_type", "head_name", "household_number", "address", "issue_date")
    )
    return Checked(checks, warnings, out)
