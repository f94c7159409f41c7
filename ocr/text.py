"""Text clean-up for OCR output: traditional to simplified, full-width to ASCII, dates to ISO."""

from __future__ import annotations

import re
import threading
from datetime import date

__all__ = [
    "DIGIT_GLYPHS",
    "clean_spaces",
    "digits_from_glyphs",
    "find_dates",
    "normalize",
    "parse_date",
    "to_halfwidth",
    "to_simplified",
]

# Characters t2s rewrites that are standard simplified characters in their own right and occur in
# real place and given names (乾安县, 南磑镇, 濛江乡, 昇, 龑); GB 2312 characters are kept as well.
_KEEP = frozenset("昇龑磑濛")

# Used only when OpenCC is missing: the traditional forms of label characters and of values OCR
# models are known to emit (民族漢), so matching still works in a stripped-down install.
_FALLBACK_T2S = str.maketrans(
    "漢簽發機關戶與係貫號碼證編別長處務職業遷來縣區鄉鎮華國單樓況記維爾納頗達錫溫倫龍滿壯僑結婚喪離異宗負責",
    "汉签发机关户与系贯号码证编别长处务职业迁来县区乡镇华国单楼况记维尔纳颇达锡温伦龙满壮侨结婚丧离异宗负责",
)

_converter = None
_converter_lock = threading.Lock()


def _opencc():
    """The process-wide OpenCC t2s converter, or False when OpenCC is not installed."""
    global _converter
    if _converter is None:
        with _converter_lock:
            if _converter is None:
                try:
                    import opencc
                except ImportError:
                    _converter = False
                else:
                    _converter = opencc.OpenCC("t2s")
    return _converter


def _is_simplified_standard(ch: str) -> bool:
    if ch in _KEEP:
        return True
    if ch.isascii():
        return True
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def to_simplified(s: str) -> str:
    """Traditional to simplified Chinese (OpenCC t2s), keeping characters already standard."""
    if not s or s.isascii():
        return s
    converter = _opencc()
    if not converter:
        return s.translate(_FALLBACK_T2S)
    converted = converter.convert(s)
    if len(converted) != len(s):
        # A phrase rule changed the length: align per character instead.
        converted = "".join(converter.convert(ch) for ch in s)
    return "".join(
        o if _is_simplified_standard(o) else c for o, c in zip(s, converted, strict=True)
    )


# Full-width ASCII (U+FF01..U+FF5E) sits 0xFEE0 above printable ASCII; U+3000 is the ideographic
# space. 。 and 、 are outside that block and stay as they are.
_HALFWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def to_halfwidth(s: str) -> str:
    """Fold full-width digits, letters and punctuation (（）：－) to ASCII."""
    return s.translate(_HALFWIDTH) if s else s


_SPACES = re.compile(r"\s+")
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


def clean_spaces(s: str) -> str:
    """Collapse whitespace and drop it between Chinese characters (OCR splits "姓 名")."""
    if not s:
        return s
    s = _SPACES.sub(" ", s).strip()
    return _SPACE_BETWEEN_CJK.sub("", s)


def normalize(s: str) -> str:
    """The form every parser matches against: half-width, simplified, tidy whitespace."""
    return clean_spaces(to_simplified(to_halfwidth(s or "")))


# Letters OCR returns for digits in a run that can only be digits.
DIGIT_GLYPHS = {
    "O": "0",
    "o": "0",
    "D": "0",
    "Q": "0",
    "U": "0",
    "I": "1",
    "l": "1",
    "i": "1",
    "|": "1",
    "L": "1",
    "!": "1",
    "Z": "2",
    "z": "2",
    "S": "5",
    "s": "5",
    "G": "6",
    "b": "6",
    "B": "8",
    "g": "9",
    "q": "9",
}


def digits_from_glyphs(s: str) -> str:
    """Map digit look-alike letters to digits (for runs known to be numeric)."""
    return "".join(DIGIT_GLYPHS.get(ch, ch) for ch in s)


_NUM = r"[0-9OoDQIlLi|ZzSsGbBgq]"
_YEAR = rf"((?:1[89]|2[0-9]){_NUM}{{2}})"
_DATE_PATTERNS = (
    # 1974年11月10日; 日 may be dropped only after a two-digit day, since "2021年12月2" is more
    # likely a cut-off 2X than the 2nd.
    re.compile(
        rf"{_YEAR}\s*年\s*({_NUM}{{1,2}})\s*月\s*({_NUM}{{1,2}}(?=\s*日)|{_NUM}{{2}})\s*日?"
    ),
    # 2015.03.05, 2015-03-05, 2015/3/5, 2015,03.05 (a comma for a dot is a common misread).
    re.compile(rf"{_YEAR}\s*[.\-/,·、]\s*({_NUM}{{1,2}})\s*[.\-/,·、]\s*({_NUM}{{1,2}})"),
    # 2019 04 24 and 2029 0424: blanks for lost dots, only with two-digit month and day.
    re.compile(rf"{_YEAR}[.\s]\s*([01][0-9])\s*[.\s]?\s*([0-3][0-9])(?![0-9])"),
    # 20150305, not inside a longer digit run such as an ID number.
    re.compile(r"(?<![0-9])((?:1[89]|20)[0-9]{2})([01][0-9])([0-3][0-9])(?![0-9])"),
)


def _iso(year: str, month: str, day: str) -> str | None:
    try:
        value = date(
            int(digits_from_glyphs(year)),
            int(digits_from_glyphs(month)),
            int(digits_from_glyphs(day)),
        )
    except ValueError:
        return None
    return value.isoformat()


def find_dates(s: str) -> list[tuple[str, int, int]]:
    """Every valid date in ``s`` as (ISO string, start, end), in text order, not overlapping."""
    if not s:
        return []
    text = to_halfwidth(s)
    found: list[tuple[str, int, int]] = []
    taken: list[tuple[int, int]] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            iso = _iso(*m.groups())
            if iso is not None:
                found.append((iso, m.start(), m.end()))
                taken.append((m.start(), m.end()))
    found.sort(key=lambda item: item[1])
    return found


def parse_date(s: str) -> str | None:
    """The first valid date in ``s`` (1974年11月10日, 2015.03.05, 2015-03-05, 20150305) as ISO."""
    found = find_dates(s)
    return found[0][0] if found else None
