"""Snapping register cells onto their national code tables."""

import pytest

from ocr.parsers.vocab import EDUCATION, MARITAL_STATUS, MILITARY_SERVICE, RELIGION, find_term, snap


@pytest.mark.parametrize(
    ("read", "terms", "want"),
    [
        ("已婚", MARITAL_STATUS, ("已婚", False)),
        ("已婚民", MARITAL_STATUS, ("已婚", True)),  # the next label ran on
        ("离婚投统况", MARITAL_STATUS, ("离婚", True)),
        ("况未服兵役", MILITARY_SERVICE, ("未服兵役", True)),  # a stray first character
        ("中等专料", EDUCATION, ("中等专科", True)),  # one character misread
        ("预备换", MILITARY_SERVICE, ("预备役", True)),
        ("博士研究生", EDUCATION, ("博士研究生", False)),  # not cut to 博士
        (" 高中 ", EDUCATION, ("高中", False)),
    ],
)
def test_snap_corrects_what_has_one_meaning(read, terms, want):
    assert snap(read, terms) == want


@pytest.mark.parametrize(
    ("read", "terms"),
    [
        ("快教", RELIGION),  # 佛教 or 道教: two terms one edit away, so no guess
        ("离始状", MARITAL_STATUS),  # two edits from anything
        ("丙", RELIGION),  # single characters are never guessed
    ],
)
def test_snap_leaves_what_is_ambiguous(read, terms):
    assert snap(read, terms) == (read, False)


def test_snap_empty():
    assert snap(None, EDUCATION) == (None, False)
    assert snap("  ", EDUCATION) == (None, False)


def test_find_term_in_a_neighbouring_read():
    assert find_term("丧偶未服兵役", MILITARY_SERVICE) == "未服兵役"
    assert find_term("丧偶", MILITARY_SERVICE) is None
