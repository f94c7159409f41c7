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


def test_province_name_partly_lost_is_restored_from_the_city_and_county():
    # Seen on generated cards under glare: 治区 or the whole of 黑龙江 bleached out.
    assert fix_place("广西壮族自柳州市柳北区和平西街487号") == (
        "广西壮族自治区柳州市柳北区和平西街487号",
        True,
    )
    assert fix_place("省大庆市肇州县朝阳乡南岗村8组4号") == (
        "黑龙江省大庆市肇州县朝阳乡南岗村8组4号",
        True,
    )
    assert fix_place("江省哈尔滨市", whole=True) == ("黑龙江省哈尔滨市", True)


def test_province_is_not_added_where_none_was_printed():
    # An address may start at the city; only a fragment of a province name is completed.
    assert fix_place("大庆市肇州县朝阳乡南岗村8组4号") == ("大庆市肇州县朝阳乡南岗村8组4号", False)
    assert fix_place("吉林省吉林市", whole=True) == ("吉林省吉林市", False)


def test_stray_character_before_a_whole_place_is_dropped():
    assert fix_place("旗黑龙江省哈尔滨市", whole=True) == ("黑龙江省哈尔滨市", True)
    # Not from an address, where it would have to be a name down to the county.
    assert fix_place("旗黑龙江省哈尔滨市", whole=False) == ("旗黑龙江省哈尔滨市", False)


def test_a_place_printed_elsewhere_breaks_a_tie():
    # 郡州 is one character from 郑州, 汝州, 禹州, 邓州 and 林州, all in 河南省.
    assert fix_place("河南省郡州市", whole=True) == ("河南省郡州市", False)
    assert fix_place("河南省郡州市", whole=True, prefer="河南省郑州市") == ("河南省郑州市", True)
    # A preference that is not among the nearest names changes nothing.
    assert fix_place("河南省郡州市", whole=True, prefer="湖北省鄂州市") == ("河南省郡州市", False)
