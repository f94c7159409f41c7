"""GB/T 2260 lookups: current and historical codes, provinces, random picks and lazy loading."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from ocr import regions


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("110101", "北京市东城区"),
        ("330106", "浙江省杭州市西湖区"),
        ("440305", "广东省深圳市南山区"),
        ("500101", "重庆市万州区"),
        ("441900", "广东省东莞市"),  # prefecture-level city without counties
        ("429004", "湖北省仙桃市"),  # county-level city directly under the province
        ("652301", "新疆维吾尔自治区昌吉回族自治州昌吉市"),
        ("440300", "广东省深圳市"),
        ("330000", "浙江省"),
    ],
)
def test_known_codes(code, name):
    assert regions.region_name(code) == name


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("110103", "北京市崇文区"),  # merged into 东城区 in 2010
        ("110104", "北京市宣武区"),
        ("130106", "河北省石家庄市郊区"),
        ("320102", "江苏省南京市玄武区"),
    ],
)
def test_historical_codes_still_resolve(code, name):
    assert regions.region_name(code) == name


def test_abolished_codes_are_not_current():
    assert not regions.is_current("110103")
    assert regions.is_current("110101")


def test_name_in_a_given_year():
    assert regions.region_name("420600", 2005) == "湖北省襄樊市"
    assert regions.region_name("420600") == "湖北省襄阳市"
    assert regions.region_name("500101", 1997) == "重庆市万县区"


@pytest.mark.parametrize("bad", ["", "11010", "1101011", "abcdef", "999999", None, "１１０１０１"])
def test_unknown_or_malformed_codes(bad):
    assert regions.region_name(bad) is None


def test_province_of():
    assert regions.province_of("330106") == "浙江省"
    assert regions.province_of("33010619900101001X") == "浙江省"
    assert regions.province_of("65") == "新疆维吾尔自治区"
    assert regions.province_of("99") is None
    assert regions.province_of("x") is None


def test_random_region_is_current_and_deterministic():
    picks = [regions.random_region(random.Random(7)) for _ in range(3)]
    assert len(set(picks)) == 1
    rng = random.Random(1)
    for _ in range(300):
        code = regions.random_region(rng)
        assert regions.is_current(code)
        name = regions.region_name(code)
        assert name and name.startswith(regions.province_of(code))


def test_random_region_for_a_past_year_can_be_historical():
    rng = random.Random(3)
    codes = {regions.random_region(rng, 1990) for _ in range(400)}
    assert all(regions.region(code, 1990) is not None for code in codes)
    assert any(not regions.is_current(code) for code in codes)


def test_every_current_county_has_a_full_name():
    codes = regions.codes_in_year(regions.current_year())
    assert len(codes) > 2800
    for code in codes:
        found = regions.region(code)
        assert found.province and (found.city or found.county), code


def test_townships_are_real_names():
    towns = regions.townships("110101")
    assert towns and all(t.endswith(("街道", "镇", "乡", "地区")) for t in towns)


def test_table_loads_lazily_and_without_web_frameworks():
    code = (
        "import sys, ocr.regions as r, ocr.synthetic.generate\n"
        "assert r._table.cache_info().currsize == 0\n"
        "r.region_name('110101'); r.region_name('330106')\n"
        "assert r._table.cache_info().misses == 1\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("黑龙江省大庆市肇州县朝阳乡南岗村8组4号", ("230621",)),
        ("北京市东城区景山前街4号", ("110101",)),
        # A city with no county level under it.
        ("广东省东莞市虎门镇", ("441900",)),
        # Down to the city only: no single code.
        ("河南省郑州市", ()),
        ("人民路1号", ()),
    ],
)
def test_codes_for_place(text, expected):
    assert regions.codes_for_place(text) == expected
