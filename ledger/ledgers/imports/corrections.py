"""Safe clean-ups of imported cells, each reported to the clerk in Chinese.

A cell is corrected only where the intent is certain: full-width digits, stray spaces, a
date written ``2024.3.5``, a 15-digit ID number (which has exactly one 18-digit form).
Everything else is returned unchanged so the entry schema (``ledger.ledgers.fields``)
reports it; a guess that silently stores a wrong value is worse than an error the clerk
can fix in the sheet.

ID numbers stored as numbers are never repaired: Excel keeps 15 significant digits, so an
18-digit number has lost its end. Even an exact 15-digit number is passed on as text for
validation to reject, since the column's number format will have damaged its neighbours.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from ledger.ledgers.imports.headers import VARIANTS, normalize_label
from ledger.registry.idnumber import check_digit, is_valid_id_number

__all__ = ["correct"]

Result = tuple[Any, list[str]]

# Zero-width characters are invisible in Excel but break exact matches; they arrive in
# text pasted from web pages and chat apps.
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_WS = re.compile(r"\s+")
_HSPACE = re.compile(r"[^\S\n]+")
_SPACE_AROUND_NEWLINE = re.compile(r"[^\S\n]*\n[^\S\n]*")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
# Labels of fields holding a person's name, where "王　芳" is padding to align columns.
_NAME_LABELS = frozenset(
    label for group in ("姓名", "走访人", "房东", "承租人") for label in VARIANTS[group]
)

# Excel's day 0 is 1899-12-31 but it counts the non-existent 1900-02-29 as day 60, so
# from day 61 on the effective epoch is 1899-12-30.
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_EPOCH_EARLY = datetime(1899, 12, 31)
_SERIAL_RANGE = (1, 80000)  # 1900-01-01 .. 2119-01-11
_YEAR_RANGE = (1900, 2100)

# Dates clerks type, with an optional time after them ("2024/3/5 14:30", "2024年3月5日").
_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})(?P<sep>[./-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?P<rest>[\sT].*)?"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号](?P<rest>.*)"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?P<rest>)"),
)
_TIME_PATTERNS = (
    re.compile(r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?"),
    re.compile(r"(?P<h>\d{1,2})[时点](?:(?P<mi>\d{1,2})分(?:(?P<s>\d{1,2})秒)?)?"),
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_ID18 = re.compile(r"[0-9]{17}[0-9X]")
_ID15 = re.compile(r"[0-9]{15}")
_MOBILE = re.compile(r"1[0-9]{10}")
_PHONE_SHAPE = re.compile(r"1[0-9]{10}|(?:0[0-9]{2,3}-?|\(0[0-9]{2,3}\))[0-9]{7,8}(?:-[0-9]{1,6})?")
_COUNTRY_CODE = re.compile(r"(?:\(\+?86\)|\+86|0086|86)-?(1[0-9-]{10,14})")
_FORMULA_TEXT = re.compile(r'="(.*)"')
_THOUSANDS = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INTEGRAL_DECIMAL = re.compile(r"([+-]?[0-9]+)\.0+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_MULTI_SEPARATORS = re.compile(r"([、，,;；/／\n]+)")
_MAX_PIECES_PER_OPTION = 5

_TRUE = frozenset({"是", "√", "✓", "✔", "y", "yes", "true", "1", "有"})
_FALSE = frozenset({"否", "×", "✗", "✘", "n", "no", "false", "0", "无"})

NOTE_SPACES = "已去除多余空格"
NOTE_INVISIBLE = "已去除不可见字符"


def correct(field: dict[str, Any], raw: Any) -> Result:
    """Clean one cell for ``field``: the value to validate and what was changed (Chinese).

    Empty cells become None without a note. Values that cannot be fixed with certainty
    come back unchanged, without notes.
    """
    if _is_empty(raw):
        return None, []
    handler = _HANDLERS.get(field.get("type", ""))
    if handler is None:
        return raw, []
    return handler(field, raw)


# ----------------------------------------------------------------- shared helpers


def _is_empty(raw: Any) -> bool:
    if raw is None:
        return True
    return isinstance(raw, str) and not _INVISIBLE.sub("", raw).strip()


def _is_number(raw: Any) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _number_text(number: float) -> str:
    """How Excel shows a number: integral floats without ".0", 15 significant digits."""
    if isinstance(number, int):
        return str(number)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return format(number, ".15g")


def _fold(text: str, *, symbols: bool) -> tuple[str, str | None]:
    """Full-width ASCII -> half-width; punctuation only when ``symbols`` (not in prose,
    where "，" and "：" are correct Chinese punctuation)."""
    found: set[str] = set()
    out = []
    for ch in text:
        cp = ord(ch)
        if 0xFF10 <= cp <= 0xFF19:
            found.add("数字")
        elif 0xFF21 <= cp <= 0xFF3A or 0xFF41 <= cp <= 0xFF5A:
            found.add("字母")
        elif symbols and 0xFF01 <= cp <= 0xFF5E:
            found.add("符号")
        else:
            out.append(ch)
            continue
        out.append(chr(cp - 0xFEE0))
    if not found:
        return text, None
    kinds = "、".join(k for k in ("数字", "字母", "符号") if k in found)
    return "".join(out), f"全角{kinds}已转为半角"


class _Notes(list):
    def add(self, note: str | None) -> None:
        if note and note not in self:
            self.append(note)


def _prepare(raw: str, notes: _Notes, *, spaces: str, symbols: bool) -> str:
    """Invisible characters, whitespace (``spaces``: all, line, lines) and full width."""
    text = _INVISIBLE.sub("", raw)
    if text != raw:
        notes.add(NOTE_INVISIBLE)
    if spaces == "all":
        cleaned = _WS.sub("", text)
    elif spaces == "lines":
        cleaned = _SPACE_AROUND_NEWLINE.sub("\n", _HSPACE.sub(" ", text.strip()))
    else:
        cleaned = _WS.sub(" ", text.strip())
    if cleaned != text:
        notes.add(NOTE_SPACES)
    folded, note = _fold(cleaned, symbols=symbols)
    notes.add(note)
    return folded


def _unquote(text: str, notes: _Notes) -> str:
    """Tricks that keep long numbers as text in Excel/CSV: ="..." and a leading quote."""
    m = _FORMULA_TEXT.fullmatch(text)
    if m:
        notes.add('已去除 ="…" 公式写法')
        text = m.group(1)
    if text[:1] in ("'", "`", "‘", "’"):
        notes.add("已去除开头的单引号")
        text = text[1:]
    return text


# ----------------------------------------------------------------- dates


def _from_serial(number: float) -> datetime | None:
    low, high = _SERIAL_RANGE
    if not low <= number <= high:
        return None
    days = int(number)
    # A whole number that reads as a year ("2024" typed into a date column) is far more
    # likely than a date in 1905.
    if number == days and _YEAR_RANGE[0] <= days <= _YEAR_RANGE[1]:
        return None
    if days == 60:  # Excel's 1900-02-29, a day that never was
        return None
    epoch = _EXCEL_EPOCH_EARLY if days < 60 else _EXCEL_EPOCH
    seconds = round((number - days) * 86400)
    return epoch + timedelta(days=days, seconds=seconds)


def _parse_date_text(text: str) -> datetime | None:
    """A date (and time) in one of the forms of ``_DATE_PATTERNS``, or None."""
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            break
    else:
        return None
    hour = minute = second = 0
    rest = (m.group("rest") or "").strip().removeprefix("T").strip()
    if rest:
        for pattern in _TIME_PATTERNS:
            t = pattern.fullmatch(rest)
            if t:
                hour, minute, second = (int(t.group(k) or 0) for k in ("h", "mi", "s"))
                break
        else:
            return None
    try:
        moment = datetime(int(m["y"]), int(m["m"]), int(m["d"]), hour, minute, second)
    except ValueError:
        return None
    if not _YEAR_RANGE[0] <= moment.year <= _YEAR_RANGE[1]:
        return None
    return moment


def _round_to_second(moment: datetime) -> datetime:
    # Excel keeps times as fractions of a day; 14:30 can come back as 14:29:59.999999.
    if moment.microsecond >= 500_000:
        moment += timedelta(seconds=1)
    return moment.replace(microsecond=0)


def _moment(field: dict[str, Any], raw: Any) -> Result:
    """Shared by date and datetime fields; the field type picks the output form."""
    with_time = field["type"] == "datetime"

    def render(moment: datetime) -> str:
        if with_time:
            return _round_to_second(moment).isoformat(timespec="seconds")
        return moment.date().isoformat()

    word = "时间" if with_time else "日期"
    if isinstance(raw, datetime):
        notes = _Notes()
        if not with_time and raw.time() != time():
            notes.add(f"已去掉时间部分，只保留日期 {raw.date().isoformat()}")
        return render(raw), notes
    if isinstance(raw, date):
        return render(datetime.combine(raw, time())), []
    if _is_number(raw):
        if isinstance(raw, int) and 10_000_000 <= raw <= 99_999_999:
            moment = _parse_date_text(str(raw))
            if moment:
                return render(moment), [f"{word} {raw} 已改为 {render(moment)}"]
            return raw, []
        moment = _from_serial(raw)
        if moment is None:
            return raw, []
        return render(moment), [f"Excel 日期序列号 {_number_text(raw)} 已改为 {render(moment)}"]
    if not isinstance(raw, str):
        return raw, []

    notes = _Notes()
    text = _prepare(raw, notes, spaces="line", symbols=True)
    if _is_iso(text, with_time):
        return text, notes
    moment = _parse_date_text(text)
    if moment is None:
        return raw, []
    if not with_time and moment.time() != time():
        notes.add(f"已去掉时间部分，只保留日期 {moment.date().isoformat()}")
    notes.add(f"{word} {text} 已改为 {render(moment)}")
    return render(moment), notes


def _is_iso(text: str, with_time: bool) -> bool:
    """Already in the form the schema takes (leave it alone, seconds or zone and all)."""
    if not with_time:
        if not _ISO_DATE.fullmatch(text):
            return False
        try:
            date.fromisoformat(text)
        except ValueError:
            return False
        return True
    if not _ISO_DATE.match(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------- by field type


def _text(field: dict[str, Any], raw: Any) -> Result:
    if isinstance(raw, bool):
        return raw, []
    if isinstance(raw, datetime):
        # A date typed into a text column: keep what the clerk saw in the cell.
        if raw.time() == time():
            return raw.date().isoformat(), []
        return raw.strftime("%Y-%m-%d %H:%M"), []
    if isinstance(raw, date):
        return raw.isoformat(), []
    if _is_number(raw):
        return _number_text(raw), []
    if not isinstance(raw, str):
        return raw, []
    notes = _Notes()
    long = field["type"] == "longtext"
    text = _prepare(raw, notes, spaces="lines" if long else "line", symbols=False)
    is_name = field.get("source") == "person.name" or normalize_label(field["label"]) in (
        _NAME_LABELS
    )
    if is_name:
        joined = _CJK_GAP.sub("", text)
        if joined != text:
            notes.add(NOTE_SPACES)
            text = joined
    return text, notes


def _integer(field: dict[str, Any], raw: Any) -> Result:
    if isinstance(raw, bool):
        return raw, []
    if isinstance(raw, int):
        return raw, []
    if isinstance(raw, float):
        # Formulas and CSV round trips turn 3 into 3.0; the cell shows 3.
        return (int(raw), []) if raw.is_integer() else (raw, [])
    if not isinstance(raw, str):
        return raw, []
    notes = _Notes()
    text = _prepare(raw, notes, spaces="line", symbols=True)
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
        notes.add("已去除千位分隔符")
    m = _INTEGRAL_DECIMAL.fullmatch(text)
    if m:
        text = m.group(1)
    if not _INTEGER.fullmatch(text):
        return raw, []
    return int(text), notes


def _decimal(field: dict[str, Any], raw: Any) -> Result:
    if isinstance(raw, bool):
        return raw, []
    if isinstance(raw, float):
        # 0.1 + 0.2 in a formula gives 0.30000000000000004; Excel shows 15 digits.
        return float(format(raw, ".15g")), []
    if isinstance(raw, int):
        return raw, []
    if not isinstance(raw, str):
        return raw, []
    notes = _Notes()
    text = _prepare(raw, notes, spaces="line", symbols=True)
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
        notes.add("已去除千位分隔符")
    if not _DECIMAL.fullmatch(text):
        return raw, []
    return text, notes


def _option_key(text: str) -> str:
    folded, _ = _fold(_WS.sub("", _INVISIBLE.sub("", text)), symbols=True)
    return folded.lower()


def _match_option(field: dict[str, Any], item: Any) -> str | None:
    """The value of the option whose value or label this cell names, else None."""
    if _is_number(item):
        item = _number_text(item)
    if not isinstance(item, str):
        return None
    text = item.strip()
    for option in field.get("options", []):
        if text in (option["value"], option["label"]):
            return option["value"]
    # Differences only in spacing, width or letter case: unambiguous if one option fits.
    key = _option_key(text)
    hits = {
        o["value"]
        for o in field.get("options", [])
        if key in (_option_key(o["value"]), _option_key(o["label"]))
    }
    return hits.pop() if len(hits) == 1 else None


def _choice(field: dict[str, Any], raw: Any) -> Result:
    value = _match_option(field, raw)
    if value is None:
        return raw, []
    shown = _number_text(raw) if _is_number(raw) else str(raw).strip()
    labels = {o["value"]: o["label"] for o in field.get("options", [])}
    notes = []
    if shown not in (value, labels.get(value)):
        notes.append(f"选项“{shown}”已改为“{labels.get(value, value)}”")
    return value, notes


def _split_choices(field: dict[str, Any], text: str) -> list[str] | None:
    """Split "低保、特困" into option values, or None if a piece names no option.

    An option that itself contains a separator ("低保/特困") is matched whole: at each
    piece the longest run of pieces that names an option wins.
    """
    pieces = _MULTI_SEPARATORS.split(text)  # words at even, separators at odd indexes
    count = (len(pieces) + 1) // 2
    values: list[str] = []
    i = 0
    while i < count:
        if not pieces[2 * i].strip():  # separators at the ends or doubled
            i += 1
            continue
        # Options rarely hold more than a few separators; bounding the run keeps a cell
        # with thousands of them linear.
        for j in range(min(count, i + _MAX_PIECES_PER_OPTION), i, -1):
            value = _match_option(field, "".join(pieces[2 * i : 2 * j - 1]))
            if value is not None:
                break
        else:
            return None
        if value not in values:
            values.append(value)
        i = j
    return values


def _multichoice(field: dict[str, Any], raw: Any) -> Result:
    if isinstance(raw, list):
        values = [_match_option(field, item) for item in raw]
        if any(v is None for v in values):
            return raw, []
        return list(dict.fromkeys(values)), []
    if _is_number(raw):
        value = _match_option(field, raw)
        return ([value], []) if value is not None else (raw, [])
    if not isinstance(raw, str):
        return raw, []
    values = _split_choices(field, raw.strip())
    if not values:
        return raw, []
    return values, []


def _boolean(field: dict[str, Any], raw: Any) -> Result:
    if isinstance(raw, bool):
        return raw, []
    if _is_number(raw):
        return (bool(raw), []) if raw in (0, 1) else (raw, [])
    if not isinstance(raw, str):
        return raw, []
    word = _option_key(raw)
    if word in _TRUE:
        return True, []
    if word in _FALSE:
        return False, []
    return raw, []


def _id_number(field: dict[str, Any], raw: Any) -> Result:
    if isinstance(raw, bool):
        return raw, []
    if _is_number(raw):
        # Stored as a number, Excel keeps 15 significant digits: an 18-digit number has
        # already lost its last digits. Hand the digits on for validation to reject.
        return _number_text(raw) if isinstance(raw, int) or raw.is_integer() else str(raw), []
    if not isinstance(raw, str):
        return raw, []
    notes = _Notes()
    text = _unquote(_prepare(raw, notes, spaces="all", symbols=True), notes)
    if len(text) == 18 and text.endswith("x"):
        text = text[:-1] + "X"
        notes.add("身份证号末位 x 已改为大写 X")
    if _ID15.fullmatch(text):
        # GB 11643: the 15-digit form lacks the century (always 19) and the check digit.
        first17 = text[:6] + "19" + text[6:]
        upgraded = first17 + check_digit(first17)
        if not is_valid_id_number(upgraded):
            return raw, []
        notes.add("15位身份证号已升级为18位")
        return upgraded, notes
    if not _ID18.fullmatch(text):
        return raw, []
    return text, notes


def _phone(field: dict[str, Any], raw: Any) -> Result:
    if isinstance(raw, bool):
        return raw, []
    notes = _Notes()
    if _is_number(raw):
        if isinstance(raw, float) and not raw.is_integer():
            return raw, []
        text = _number_text(raw)  # a mobile stored as a number is exact (11 digits)
    elif isinstance(raw, str):
        text = _unquote(_prepare(raw, notes, spaces="all", symbols=True), notes)
    else:
        return raw, []
    m = _COUNTRY_CODE.fullmatch(text)
    if m and _MOBILE.fullmatch(m.group(1).replace("-", "")):
        text = m.group(1)
        notes.add("已去除国际区号 +86")
    if "-" in text and _MOBILE.fullmatch(text.replace("-", "")):
        text = text.replace("-", "")
        notes.add("已去除手机号中的横线")
    if not _PHONE_SHAPE.fullmatch(text):
        return raw, []
    return text, notes


def _reference(field: dict[str, Any], raw: Any) -> Result:
    if not isinstance(raw, str):
        return raw, []
    notes = _Notes()
    return _prepare(raw, notes, spaces="all", symbols=True), notes


_HANDLERS: dict[str, Callable[[dict[str, Any], Any], Result]] = {
    "text": _text,
    "longtext": _text,
    "integer": _integer,
    "decimal": _decimal,
    "date": _moment,
    "datetime": _moment,
    "choice": _choice,
    "multichoice": _multichoice,
    "boolean": _boolean,
    "phone": _phone,
    "id_number": _id_number,
    "person": _reference,
    "household": _reference,
    # file, photo and location cannot come from a spreadsheet cell; the schema says so.
}
