"""Resident ID numbers (GB 11643-1999), masking of ID and phone numbers, and ethnic groups."""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from datetime import date

from ledger.errors import InvalidInput

__all__ = [
    "ETHNICITIES",
    "IdNumberInfo",
    "InvalidIdNumber",
    "check_digit",
    "is_valid_id_number",
    "mask_id_number",
    "mask_phone",
    "normalize_ethnicity",
    "normalize_id_number",
    "parse_id_number",
]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_MAP = "10X98765432"

# Province-level codes from GB/T 2260; 71/81/82 are Taiwan, Hong Kong and Macao, whose
# residents can hold mainland-format numbers (e.g. residence permits).
_PROVINCE_CODES = frozenset(
    f"{code:02d}"
    for code in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    )
)

# [0-9] rather than \d: \d also matches Arabic-Indic and other Unicode digits.
ID_PATTERN = re.compile(r"[0-9]{17}[0-9X]")
_DIGITS17 = re.compile(r"[0-9]{17}")

# Full-width ASCII block (U+FF01..U+FF5E) sits exactly 0xFEE0 above printable ASCII.
# Limited to digits and letters so unrelated punctuation is not silently rewritten.
_FULLWIDTH = {
    **{cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)},
    **{cp: cp - 0xFEE0 for cp in range(0xFF21, 0xFF3B)},
    **{cp: cp - 0xFEE0 for cp in range(0xFF41, 0xFF5B)},
}
_WHITESPACE = re.compile(r"\s+")

_MSG_LENGTH = "身份证号应为18位，最后一位可以是数字或X"
_MSG_PROVINCE = "身份证号前两位不是有效的省级行政区划代码，请核对后重新输入"
_MSG_BAD_DATE = "身份证号中的出生日期无效，请核对后重新输入"
_MSG_FUTURE_DATE = "身份证号中的出生日期晚于今天，请核对后重新输入"
_MSG_TOO_OLD = "身份证号中的出生年份早于1900年，请核对后重新输入"
_MSG_CHECKSUM = "身份证号校验位不正确，请核对后重新输入"


class InvalidIdNumber(InvalidInput):
    """The ID number is malformed; ``details['reason']`` says which rule it broke."""

    code = "people.invalid_id_number"
    message = "身份证号无效，请核对后重新输入"


@dataclass(frozen=True, slots=True)
class IdNumberInfo:
    """What an ID number encodes, extracted from a validated 18-character number."""

    number: str
    region_code: str
    birth_date: date
    sex: str

    def __repr__(self) -> str:
        # Reprs end up in logs and tracebacks; the full number is personal data.
        return (
            f"IdNumberInfo(number={mask_id_number(self.number)!r}, "
            f"region_code={self.region_code!r}, sex={self.sex!r})"
        )


def normalize_id_number(raw: str) -> str:
    """Remove whitespace, fold full-width digits/letters to ASCII and upper-case a final x."""
    if not raw:
        return ""
    value = _WHITESPACE.sub("", raw.translate(_FULLWIDTH))
    if value.endswith("x"):
        value = value[:-1] + "X"
    return value


def check_digit(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if not isinstance(first17, str) or not _DIGITS17.fullmatch(first17):
        raise ValueError("check_digit expects exactly 17 ASCII digits")
    total = sum(map(operator.mul, map(int, first17), _WEIGHTS))
    return _CHECK_MAP[total % 11]


def parse_id_number(raw: str, *, today: date | None = None) -> IdNumberInfo:
    """Validate an ID number and return what it encodes, or raise ``InvalidIdNumber``.

    Checks run from the coarsest to the finest so the message names the first real problem
    (a typo in the date is reported as such, not as a bad check digit).
    """
    number = normalize_id_number(raw) if isinstance(raw, str) else ""
    if not ID_PATTERN.fullmatch(number):
        raise InvalidIdNumber(_MSG_LENGTH, details={"reason": "length"})

    if number[:2] not in _PROVINCE_CODES:
        raise InvalidIdNumber(_MSG_PROVINCE, details={"reason": "province"})

    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    try:
        birth_date = date(year, month, day)
    except ValueError:
        raise InvalidIdNumber(_MSG_BAD_DATE, details={"reason": "birth_date"}) from None
    if year < 1900:
        raise InvalidIdNumber(_MSG_TOO_OLD, details={"reason": "birth_date"})
    if birth_date > (today or date.today()):
        raise InvalidIdNumber(_MSG_FUTURE_DATE, details={"reason": "birth_date"})

    if check_digit(number[:17]) != number[17]:
        raise InvalidIdNumber(_MSG_CHECKSUM, details={"reason": "checksum"})

    return IdNumberInfo(
        number=number,
        region_code=number[:6],
        birth_date=birth_date,
        sex="男" if int(number[16]) % 2 else "女",
    )


def is_valid_id_number(raw: str) -> bool:
    """Return True if ``raw`` (after normalisation) is a valid 18-character ID number."""
    try:
        parse_id_number(raw)
    except InvalidIdNumber:
        return False
    return True


def mask_id_number(number: str) -> str:
    """Mask an ID number for display: ``110101********123X``; empty values pass through."""
    if not number:
        return number
    length = len(number)
    if length == 18:
        return number[:6] + "*" * 8 + number[-4:]
    # Keeping 3 + 2 characters of a value this short would reveal all or most of it.
    if length <= 5:
        return "*" * length
    return number[:3] + "*" * (length - 5) + number[-2:]


def mask_phone(phone: str) -> str:
    """Mask a phone number for display: ``138****5678``; empty values pass through."""
    if not phone:
        return phone
    length = len(phone)
    if length > 7:
        return phone[:3] + "*" * (length - 7) + phone[-4:]
    if length <= 2:
        return "*" * length
    return "*" * (length - 2) + phone[-2:]


# The 56 officially recognised ethnic groups, in GB/T 3304 code order (01 汉 .. 56 基诺).
ETHNICITIES: tuple[str, ...] = (
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
)
_ETHNICITY_SET = frozenset(ETHNICITIES)


# Maskers by the kind of personal value (a ledger field's type, a register field's name).
MASKS = {"id_number": mask_id_number, "phone": mask_phone}


def normalize_ethnicity(value: str) -> str | None:
    """Return the short name ("汉") for "汉" or "汉族", or None if it is not one of the 56."""
    if not isinstance(value, str):
        return None
    name = _WHITESPACE.sub("", value)
    if name in _ETHNICITY_SET:
        return name
    if name.endswith("族") and name[:-1] in _ETHNICITY_SET:
        return name[:-1]
    return None
