"""Header normalisation and matching of spreadsheet columns to template fields."""

from __future__ import annotations

import pytest

from ledger.ledgers.imports.headers import (
    VARIANTS,
    count_recognised,
    match_headers,
    normalize_label,
)

FIELDS = [
    {"key": "name", "label": "姓名", "type": "text", "required": True},
    {"key": "id_number", "label": "身份证号", "type": "id_number", "required": True},
    {"key": "phone", "label": "联系电话", "type": "phone", "required": False},
    {"key": "visit_date", "label": "走访日期", "type": "date", "required": True},
    {"key": "note", "label": "备注", "type": "longtext", "required": False},
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("姓名", "姓名"),
        ("  姓　名\n", "姓名"),  # full-width space and a line break inside the cell
        ("*身份证号", "身份证号"),
        ("身份证号＊", "身份证号"),
        ("＊身份证号（必填）", "身份证号"),
        ("出生日期(YYYY-MM-DD)", "出生日期"),
        ("走访日期（ＹＹＹＹ－ＭＭ－ＤＤ）", "走访日期"),
        ("金额(元)", "金额"),
        ("备注 (选填) *", "备注"),
        ("ＩＤ", "id"),
        ("Phone", "phone"),
        ("(元)", "(元)"),  # nothing but a note: kept rather than emptied
        (None, ""),
        (12, "12"),
    ],
)
def test_normalize_label(raw, expected):
    assert normalize_label(raw) == expected


def test_variant_groups_cover_the_common_synonyms():
    for group, members in {
        "身份证号": ["公民身份号码", "身份证号码", "身份证", "证件号码", "居民身份证号码"],
        "姓名": ["名字", "居民姓名"],
        "联系电话": ["电话", "手机", "手机号", "手机号码", "联系方式"],
        "地址": ["住址", "居住地址", "现住址", "家庭住址"],
        "出生日期": ["出生年月"],
        "备注": ["说明"],
        "所属网格": ["网格", "网格名称"],
        "走访日期": ["走访时间"],
        "走访人": ["走访人员"],
        "房东": ["房主", "出租人"],
        "承租人": ["租户"],
    }.items():
        assert group in VARIANTS[group]
        assert set(members) <= set(VARIANTS[group])
    # Every member is stored normalised, so lookups can be plain dict hits.
    for members in VARIANTS.values():
        assert all(normalize_label(m) == m for m in members)


def test_exact_labels_keys_and_variants_map_to_fields():
    headers = ["序号", "*姓名", "公民身份号码", "手机号码", "visit_date", "说明"]
    match = match_headers(headers, FIELDS)
    assert match.columns == {
        1: "name",
        2: "id_number",  # 公民身份号码 is in the 身份证号 group
        3: "phone",  # 手机号码 is in the 联系电话 group
        4: "visit_date",  # the field key itself
        5: "note",
    }
    assert match.ignored == []  # 序号 is a system column, not worth a mention
    assert match.missing_required == []
    assert match.area_column is None


def test_missing_required_and_ignored_columns_are_reported():
    match = match_headers(["姓名", "民族", "家庭人口", ""], FIELDS)
    assert match.columns == {0: "name"}
    assert match.ignored == ["民族", "家庭人口"]  # empty headers are not worth a mention
    assert match.missing_required == ["身份证号", "走访日期"]


def test_area_and_system_columns():
    headers = ["所属网格", "姓名", "登记人", "登记时间", "填报人", "网格名称"]
    match = match_headers(headers, FIELDS)
    assert match.area_column == 0
    assert match.columns == {1: "name"}
    assert match.ignored == ["网格名称"]  # a second grid column is not used


def test_second_column_for_a_field_is_ignored():
    match = match_headers(["姓名", "身份证号", "姓名", "身份证"], FIELDS)
    assert match.columns == {0: "name", 1: "id_number"}
    assert match.ignored == ["姓名", "身份证"]


def test_exact_label_beats_an_earlier_variant():
    match = match_headers(["电话", "联系电话"], FIELDS)
    assert match.columns == {1: "phone"}
    assert match.ignored == ["电话"]


def test_id_and_phone_columns_fall_back_to_the_only_field_of_their_type():
    fields = [
        {"key": "tenant_id", "label": "承租人证件", "type": "id_number", "required": True},
        {"key": "tenant_phone", "label": "承租人联系方式", "type": "phone", "required": False},
    ]
    match = match_headers(["身份证号码", "手机"], fields)
    assert match.columns == {0: "tenant_id", 1: "tenant_phone"}

    # With two ID fields the column could be either: leave it to the clerk.
    two = [*fields, {"key": "owner_id", "label": "房东证件", "type": "id_number"}]
    match = match_headers(["身份证号码"], two)
    assert match.columns == {}
    assert match.ignored == ["身份证号码"]


def test_variant_of_a_field_label_that_is_itself_a_variant():
    fields = [{"key": "owner", "label": "出租人", "type": "text", "required": True}]
    assert match_headers(["房东"], fields).columns == {0: "owner"}


def test_count_recognised():
    assert count_recognised(["XX社区走访记录台账", None, None]) == 0
    assert count_recognised(["制表单位：XX社区", "制表日期：2026-11-24"]) == 0
    assert count_recognised(["序号", "姓名", "身份证号", "自定义列"]) == 3
    # A template's own labels count even when they are not common ledger words.
    fields = [
        {"key": "a", "label": "楼长", "type": "text"},
        {"key": "b", "label": "单元长", "type": "text"},
    ]
    assert count_recognised(["楼长", "单元长"], fields) == 2
    assert count_recognised(["楼长", "单元长"]) == 0
