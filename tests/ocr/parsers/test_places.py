"""Region names at the start of addresses are repaired against GB/T 2260, and only then."""

import pytest

from ocr.parsers.places import fix_place


def test_real_address_is_left_alone():
    text = "北京市东城区东华门街道南池子大街12号"
    assert fix_place(text) == (text, False)


def test_one_misread_character_inside_the_name_is_repaired():
    assert fix_place("四川省成都市蒲汀县甘溪镇新民村8组28号") == (
        "四川省成都市蒲江县甘溪镇新民村8组28号",
        True,
    )


def test_misread_first_character_is_repaired():
    # Seen on a generated card: the recognizer read 辽 as 江, and no real name starts 江宁省.
    assert fix_place("江宁省沈阳市沈北新区环城北路137号枫林小区17幢4单元1501室") == (
        "辽宁省沈阳市沈北新区环城北路137号枫林小区17幢4单元1501室",
        True,
    )


@pytest.mark.parametrize("text", ["解放路12号幸福小区3幢", "幸福雅苑19幢1单元1504室", "村委会"])
def test_addresses_without_a_region_are_not_invented_one(text):
    assert fix_place(text) == (text, False)


def test_whole_birthplace_is_matched_whole():
    assert fix_place("江宁省沈阳市", whole=True) == ("辽宁省沈阳市", True)
    assert fix_place("辽宁省沈阳市", whole=True) == ("辽宁省沈阳市", False)
