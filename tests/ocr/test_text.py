"""Text normalisation: simplified characters, half-width folding, whitespace and dates."""

from __future__ import annotations

import pytest

from ocr import text
from ocr.text import (
    clean_spaces,
    digits_from_glyphs,
    find_dates,
    normalize,
    parse_date,
    to_halfwidth,
    to_simplified,
)


def test_to_simplified_converts_label_and_value_characters():
    assert to_simplified("民族漢") == "民族汉"
    assert to_simplified("簽發機關") == "签发机关"
    assert to_simplified("與戶主關係") == "与户主关系"
    assert to_simplified("籍貫 遷來") == "籍贯 迁来"


def test_to_simplified_keeps_standard_characters_t2s_would_rewrite():
    # Real place names and given names: OpenCC alone would turn these into 干安县, 于 and 升.
    assert to_simplified("吉林省松原市乾安县") == "吉林省松原市乾安县"
    assert to_simplified("於小明") == "於小明"
    assert to_simplified("李昇") == "李昇"
    assert to_simplified("南磑镇") == "南磑镇"


def test_to_simplified_passes_ascii_and_empty_through():
    assert to_simplified("") == ""
    assert to_simplified("2015.03.05") == "2015.03.05"


def test_fallback_table_without_opencc(monkeypatch):
    monkeypatch.setattr(text, "_converter", False)
    assert to_simplified("民族漢 簽發機關 戶號") == "民族汉 签发机关 户号"


def test_to_halfwidth_folds_digits_letters_and_brackets():
    assert to_halfwidth("１２３ＡＢｘ（县）：－") == "123ABx(县):-"
    assert to_halfwidth("姓名\u3000王") == "姓名 王"
    assert to_halfwidth("，。、") == ",。、"


def test_clean_spaces_drops_spaces_between_chinese_only():
    assert clean_spaces("  姓 名   王 宏晨 ") == "姓名王宏晨"
    assert clean_spaces("出生 1974年") == "出生 1974年"
    assert clean_spaces("A  B") == "A B"


def test_normalize_combines_all_steps():
    assert normalize("民 族　漢") == "民族汉"
    assert normalize("公民身份號碼 ４５１１０３") == "公民身份号码 451103"


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("1974年11月10日", "1974-11-10"),
        ("出生 1974年1月5日", "1974-01-05"),
        ("1974 年 11 月 10 日", "1974-11-10"),
        ("2015.03.05", "2015-03-05"),
        ("2015-03-05", "2015-03-05"),
        ("2015/3/5", "2015-03-05"),
        ("20150305", "2015-03-05"),
        ("签发日期2010年02月07日", "2010-02-07"),
        ("1974年1l月1O日", "1974-11-10"),  # l and O read for 1 and 0
        ("2016年07月16", "2016-07-16"),  # 日 dropped after a two-digit day
    ],
)
def test_parse_date_formats(raw, iso):
    assert parse_date(raw) == iso


@pytest.mark.parametrize(
    "raw",
    [
        "2015年02月30日",  # no such day
        "2015.13.01",
        "2021年12月2",  # cut off: could be 20-29
        "2016年07月由广西迁来",  # month only
        "451103198912067896",  # an ID number is not a compact date
        "",
        "长期",
    ],
)
def test_parse_date_rejects(raw):
    assert parse_date(raw) is None


def test_find_dates_returns_both_ends_of_a_validity_period():
    assert [d for d, _, _ in find_dates("有效期限2018.01.29-2038.01.29")] == [
        "2018-01-29",
        "2038-01-29",
    ]
    assert [d for d, _, _ in find_dates("2018.01.29-长期")] == ["2018-01-29"]


def test_digits_from_glyphs():
    assert digits_from_glyphs("4511O3l9891IO6") == "45110319891106"
