"""Safe corrections of imported cells, and the values they must leave alone."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from ledger.ledgers.fields import validate_data
from ledger.ledgers.imports.corrections import correct
from ledger.registry.idnumber import check_digit, is_valid_id_number


def spec(kind: str, label: str = "字段", **extra) -> dict:
    return {"key": "f", "label": label, "type": kind, "required": False, **extra}


TEXT = spec("text", "地址")
NAME = spec("text", "姓名")
LONG = spec("longtext", "走访情况")
INTEGER = spec("integer", "人数")
DECIMAL = spec("decimal", "金额")
DATE = spec("date", "走访日期")
DATETIME = spec("datetime", "走访时间")
BOOLEAN = spec("boolean", "是否独居")
PHONE = spec("phone", "联系电话")
ID = spec("id_number", "身份证号")
CHOICE = spec(
    "choice",
    "性别",
    options=[{"value": "male", "label": "男"}, {"value": "female", "label": "女"}],
)
LEVEL = spec("choice", "等级", options=[{"value": "A级", "label": "A级"}])
GROUPS = spec(
    "multichoice",
    "人员类别",
    options=[
        {"value": "low_income", "label": "低保"},
        {"value": "extreme", "label": "特困"},
        {"value": "disabled", "label": "残疾"},
        {"value": "both", "label": "低保/特困"},
    ],
)

OLD_ID = "110105491231002"
NEW_ID = "11010519491231002" + check_digit("11010519491231002")


@pytest.mark.parametrize("field", [TEXT, LONG, INTEGER, DATE, PHONE, ID, CHOICE, BOOLEAN])
@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000\n", "\u200b"])
def test_empty_cells_are_none_without_notes(field, raw):
    assert correct(field, raw) == (None, [])


# ----------------------------------------------------------------- text


def test_text_spaces_are_trimmed_and_collapsed():
    assert correct(TEXT, "  幸福路\u3000 12号  ") == ("幸福路 12号", ["已去除多余空格"])
    assert correct(TEXT, "幸福路12号") == ("幸福路12号", [])


def test_text_full_width_letters_and_digits_but_not_chinese_punctuation():
    value, notes = correct(TEXT, "幸福路１２号，Ｂ座")
    assert value == "幸福路12号，B座"  # "，" is correct Chinese punctuation
    assert notes == ["全角数字、字母已转为半角"]


def test_padded_names_are_joined():
    assert correct(NAME, "王　芳") == ("王芳", ["已去除多余空格"])
    assert correct(NAME, "Anna Li") == ("Anna Li", [])  # a space between Latin names stays


def test_longtext_keeps_line_breaks():
    assert correct(LONG, " 第一次走访  \n  情况良好 ") == (
        "第一次走访\n情况良好",
        ["已去除多余空格"],
    )


def test_text_cells_holding_numbers_and_dates_read_as_shown():
    assert correct(TEXT, 101) == ("101", [])
    assert correct(TEXT, 101.0) == ("101", [])
    assert correct(TEXT, datetime(2024, 3, 5)) == ("2024-03-05", [])


# ----------------------------------------------------------------- numbers


def test_integers():
    assert correct(INTEGER, 3.0) == (3, [])
    assert correct(INTEGER, 3) == (3, [])
    assert correct(INTEGER, "３") == (3, ["全角数字已转为半角"])
    assert correct(INTEGER, " 12 ") == (12, ["已去除多余空格"])
    assert correct(INTEGER, "1,234") == (1234, ["已去除千位分隔符"])
    assert correct(INTEGER, "3.0") == (3, [])


@pytest.mark.parametrize("raw", [2.5, "2.5", "3人", "约3", True])
def test_integers_that_cannot_be_fixed_pass_through(raw):
    assert correct(INTEGER, raw) == (raw, [])


def test_decimals():
    assert correct(DECIMAL, 0.1 + 0.2) == (0.3, [])  # Excel shows 15 significant digits
    assert correct(DECIMAL, "１２．５") == ("12.5", ["全角数字、符号已转为半角"])
    assert correct(DECIMAL, "1,234.50") == ("1234.50", ["已去除千位分隔符"])
    assert correct(DECIMAL, "十二元") == ("十二元", [])


# ----------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "raw", ["2024.3.5", "2024/3/5", "2024-3-5", "2024年3月5日", "2024年03月05号", "20240305"]
)
def test_date_forms(raw):
    assert correct(DATE, raw) == ("2024-03-05", [f"日期 {raw} 已改为 2024-03-05"])


def test_date_cells_and_serial_numbers():
    assert correct(DATE, datetime(2024, 3, 5)) == ("2024-03-05", [])
    assert correct(DATE, date(2024, 3, 5)) == ("2024-03-05", [])
    assert correct(DATE, "2024-03-05") == ("2024-03-05", [])
    assert correct(DATE, 45356) == ("2024-03-05", ["Excel 日期序列号 45356 已改为 2024-03-05"])
    assert correct(DATE, 45356.0) == ("2024-03-05", ["Excel 日期序列号 45356 已改为 2024-03-05"])
    assert correct(DATE, 20240305) == ("2024-03-05", ["日期 20240305 已改为 2024-03-05"])
    # Excel's phantom 1900-02-29 shifts serials before it by a day.
    assert correct(DATE, 59)[0] == "1900-02-28"
    assert correct(DATE, 61)[0] == "1900-03-01"


def test_date_full_width_and_time_part():
    value, notes = correct(DATE, "２０２４．３．５")
    assert value == "2024-03-05"
    assert notes == ["全角数字、符号已转为半角", "日期 2024.3.5 已改为 2024-03-05"]
    value, notes = correct(DATE, "2024/3/5 0:00:00")
    assert (value, notes) == ("2024-03-05", ["日期 2024/3/5 0:00:00 已改为 2024-03-05"])
    value, notes = correct(DATE, datetime(2024, 3, 5, 14, 30))
    assert value == "2024-03-05"
    assert notes == ["已去掉时间部分，只保留日期 2024-03-05"]


@pytest.mark.parametrize(
    "raw",
    [
        "24.3.5",  # two-digit year: which century?
        "3/5/2024",  # month/day order unknown
        "2024.2.30",  # no such day
        "2024-3/5",  # mixed separators
        "2024年3月",  # a month, not a day
        "下周二",
        "1850.1.1",  # outside 1900..2100
        2024,  # a year typed as a number, not serial 2024 (1905-07-16)
        0,
        60,  # Excel's non-existent 1900-02-29
        80001,
        -5,
        20241301,  # an 8-digit number that is no date
        "2024-13-01",
    ],
)
def test_dates_that_cannot_be_fixed_pass_through(raw):
    assert correct(DATE, raw) == (raw, [])


def test_datetimes():
    assert correct(DATETIME, datetime(2024, 3, 5, 14, 30)) == ("2024-03-05T14:30:00", [])
    # Excel keeps times as fractions of a day; 14:30 may come back a microsecond short.
    assert correct(DATETIME, datetime(2024, 3, 5, 14, 29, 59, 999_999))[0] == "2024-03-05T14:30:00"
    assert correct(DATETIME, 45356.5) == (
        "2024-03-05T12:00:00",
        ["Excel 日期序列号 45356.5 已改为 2024-03-05T12:00:00"],
    )
    assert correct(DATETIME, "2024/3/5 14:30") == (
        "2024-03-05T14:30:00",
        ["时间 2024/3/5 14:30 已改为 2024-03-05T14:30:00"],
    )
    assert correct(DATETIME, "2024年3月5日 14时30分")[0] == "2024-03-05T14:30:00"
    assert correct(DATETIME, "2024-03-05 14:30") == ("2024-03-05 14:30", [])  # already ISO
    assert correct(DATETIME, "2024/3/5 下午") == ("2024/3/5 下午", [])


# ----------------------------------------------------------------- ID numbers


def test_fifteen_digit_id_is_upgraded():
    value, notes = correct(ID, OLD_ID)
    assert value == NEW_ID
    assert is_valid_id_number(value)
    assert notes == ["15位身份证号已升级为18位"]


def test_id_spaces_width_and_lower_x():
    number = "11010519491231002X"
    assert number == NEW_ID  # the sample's check digit is X
    assert correct(ID, number.lower()) == (number, ["身份证号末位 x 已改为大写 X"])
    assert correct(ID, " 110105 19491231 002X ") == (number, ["已去除多余空格"])
    assert correct(ID, "１１０１０５１９４９１２３１００２Ｘ") == (
        number,
        ["全角数字、字母已转为半角"],
    )
    assert correct(ID, f'="{number}"') == (number, ['已去除 ="…" 公式写法'])
    assert correct(ID, f"'{number}") == (number, ["已去除开头的单引号"])


def test_id_numbers_stored_as_numbers_are_never_fixed():
    # 18 digits as a float: Excel kept 15 significant digits, the rest are gone. The text
    # is what the cell shows, so the validation message points at the real problem.
    assert correct(ID, 1.10105194912310e17) == ("1.1010519491231e+17", [])
    assert correct(ID, 110105194912310000) == ("110105194912310000", [])
    # Even 15 digits (exact in Excel) are not upgraded from a number: the column is
    # numeric, so the clerk must fix it anyway, and the brief's rule is never to guess.
    value, notes = correct(ID, 110105491231002)
    assert (value, notes) == ("110105491231002", [])


@pytest.mark.parametrize(
    "raw",
    [
        "110105491331002",  # 15 digits with month 13: no valid 18-digit form
        "11010519491231002",  # 17 digits
        "110105194912310021",  # wrong check digit: left for validation to report
        "身份证丢失",
    ],
)
def test_ids_that_cannot_be_fixed_pass_through(raw):
    assert correct(ID, raw) == (raw, [])


# ----------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("raw", "expected", "notes"),
    [
        ("13812345678", "13812345678", []),
        (13812345678, "13812345678", []),
        (13812345678.0, "13812345678", []),
        ("138 1234 5678", "13812345678", ["已去除多余空格"]),
        ("138-1234-5678", "13812345678", ["已去除手机号中的横线"]),
        ("+86 138 1234 5678", "13812345678", ["已去除多余空格", "已去除国际区号 +86"]),
        ("86-13812345678", "13812345678", ["已去除国际区号 +86"]),
        (
            "＋８６１３８１２３４５６７８",
            "13812345678",
            ["全角数字、符号已转为半角", "已去除国际区号 +86"],
        ),
        ("010-12345678", "010-12345678", []),  # a landline keeps its area-code hyphen
    ],
)
def test_phones(raw, expected, notes):
    assert correct(PHONE, raw) == (expected, notes)


@pytest.mark.parametrize("raw", ["13812345678/13987654321", "1381234567", "无", "12345"])
def test_phones_that_cannot_be_fixed_pass_through(raw):
    assert correct(PHONE, raw) == (raw, [])


# ----------------------------------------------------------------- choices and booleans


def test_choice_label_becomes_value():
    assert correct(CHOICE, "男") == ("male", [])
    assert correct(CHOICE, "female") == ("female", [])
    assert correct(CHOICE, " 女 ") == ("female", [])
    assert correct(LEVEL, "Ａ级") == ("A级", ["选项“Ａ级”已改为“A级”"])
    assert correct(LEVEL, "a级") == ("A级", ["选项“a级”已改为“A级”"])
    assert correct(CHOICE, "未知") == ("未知", [])


def test_multichoice_is_split_on_common_separators():
    assert correct(GROUPS, "低保、特困") == (["low_income", "extreme"], [])
    assert correct(GROUPS, "低保，残疾;特困") == (["low_income", "disabled", "extreme"], [])
    assert correct(GROUPS, "低保\n残疾\n") == (["low_income", "disabled"], [])
    assert correct(GROUPS, "低保、低保") == (["low_income"], [])
    # An option that contains a separator is matched whole.
    assert correct(GROUPS, "低保/特困、残疾") == (["both", "disabled"], [])
    assert correct(GROUPS, ["低保", "特困"]) == (["low_income", "extreme"], [])
    assert correct(GROUPS, "低保、五保") == ("低保、五保", [])  # 五保 is no option


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("是", True), ("否", False), ("√", True), ("×", False), ("Y", True), ("n", False),
     ("1", True), ("0", False), (1, True), (0, False), (True, True), ("Ｙ", True)],
)  # fmt: skip
def test_booleans(raw, expected):
    assert correct(BOOLEAN, raw) == (expected, [])


@pytest.mark.parametrize("raw", ["也许", "x", 2])
def test_booleans_that_cannot_be_fixed_pass_through(raw):
    assert correct(BOOLEAN, raw) == (raw, [])


def test_corrected_values_pass_the_entry_schema():
    fields = [DATE, ID, PHONE, CHOICE, GROUPS, INTEGER, BOOLEAN, DATETIME]
    fields = [{**f, "key": f"f{i}"} for i, f in enumerate(fields)]
    raw = ["2024年3月5日", OLD_ID, "+86 138-1234-5678", "女", "低保、残疾", 3.0, "√", 45356.5]
    data = {f["key"]: correct(f, value)[0] for f, value in zip(fields, raw, strict=True)}
    loaded = validate_data(fields, data)
    assert loaded == {
        "f0": "2024-03-05",
        "f1": NEW_ID,
        "f2": "13812345678",
        "f3": "female",
        "f4": ["low_income", "disabled"],
        "f5": 3,
        "f6": True,
        "f7": "2024-03-05T12:00:00+08:00",
    }
