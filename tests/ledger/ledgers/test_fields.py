"""Template field definitions and the entry schema built from them."""

from __future__ import annotations

import marshmallow as ma
import pytest

from ledger.ledgers.builtin import BUILTIN
from ledger.ledgers.errors import TemplateInvalid
from ledger.ledgers.fields import check_fields, labels_of, validate_data
from tests.conftest import make_id_number

FIELDS = check_fields(
    [
        {"key": "visit_date", "label": "走访日期", "type": "date", "required": True},
        {"key": "when", "label": "时间", "type": "datetime"},
        {"key": "purpose", "label": "事由", "type": "choice",
         "options": [{"value": "routine", "label": "日常走访"}, "政策宣传"]},
        {"key": "groups", "label": "类别", "type": "multichoice", "options": ["低保", "特困"]},
        {"key": "count", "label": "人数", "type": "integer"},
        {"key": "amount", "label": "金额", "type": "decimal"},
        {"key": "alone", "label": "独居", "type": "boolean"},
        {"key": "id_number", "label": "身份证号", "type": "id_number"},
        {"key": "phone", "label": "电话", "type": "phone"},
        {"key": "photos", "label": "照片", "type": "photo"},
        {"key": "where", "label": "位置", "type": "location"},
        {"key": "person", "label": "居民", "type": "person"},
        {"key": "name", "label": "姓名", "type": "text", "source": "person.name"},
    ]
)  # fmt: skip


def test_values_are_normalised():
    number = make_id_number()
    data = validate_data(FIELDS, {
        "visit_date": "2026-11-03", "when": "2026-11-03T09:30", "purpose": "日常走访",
        "groups": ["特困", "低保", "特困"], "count": "3", "amount": 12.5, "alone": "是",
        "id_number": number.lower(), "phone": "139-0000-1234", "photos": "A" * 64,
        "where": {"lat": 30.27, "lon": 120.15}, "name": "  王芳 ",
    })  # fmt: skip
    assert data["visit_date"] == "2026-11-03"
    assert data["when"] == "2026-11-03T09:30:00+08:00"  # naive times are the office's clock
    assert data["purpose"] == "routine"  # a label is taken as its value
    assert data["groups"] == ["特困", "低保"]
    assert (data["count"], data["amount"], data["alone"]) == (3, "12.5", True)
    assert data["id_number"] == number.upper() and data["phone"] == "13900001234"
    assert data["photos"] == ["a" * 64]
    assert data["where"] == {"lat": 30.27, "lon": 120.15}
    assert data["name"] == "王芳" and data["person"] is None  # absent fields are None


def test_errors_are_per_field_and_in_chinese():
    with pytest.raises(ma.ValidationError) as exc:
        validate_data(FIELDS, {
            "when": "下午", "purpose": "闲聊", "count": "2.5", "alone": "也许",
            "id_number": "110101199003070000", "phone": "12", "photos": ["x"],
            "where": {"lat": 95, "lon": 0}, "person": "not-a-uuid", "extra": 1,
        })  # fmt: skip
    errors = exc.value.messages
    assert errors["visit_date"] == ["必填"]
    assert set(errors) == {"visit_date", "when", "purpose", "count", "alone", "id_number",
                           "phone", "photos", "where", "person", "extra"}  # fmt: skip
    assert "日常走访" in errors["purpose"][0] and "政策宣传" in errors["purpose"][0]
    assert errors["extra"] == ["模板中没有这个字段"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m[0]) for m in errors.values())


def test_an_edit_may_not_empty_a_required_field():
    assert validate_data(FIELDS, {"count": 4}, partial=True) == {"count": 4}
    with pytest.raises(ma.ValidationError) as exc:
        validate_data(FIELDS, {"visit_date": ""}, partial=True)
    assert exc.value.messages == {"visit_date": ["必填"]}


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ([], "fields"),
        ([{"key": "Bad Key", "label": "x", "type": "text"}], "fields[0]"),
        ([{"key": "id", "label": "编号", "type": "text"}], "fields[0]"),
        ([{"key": "a", "label": "甲", "type": "text"}, {"key": "a", "label": "乙", "type": "text"}],
         "fields[1]"),
        ([{"key": "c", "label": "选", "type": "choice"}], "fields[0]"),
        ([{"key": "t", "label": "类", "type": "colour"}], "fields[0]"),
        ([{"key": "n", "label": "名", "type": "text", "source": "person.name"}], "fields"),
        ([{"key": "n", "label": "名", "type": "text", "source": "person.salary"}], "fields[0]"),
    ],
)  # fmt: skip
def test_bad_definitions_are_refused_with_the_field_named(fields, where):
    with pytest.raises(TemplateInvalid) as exc:
        check_fields(fields)
    assert where in exc.value.details["fields"]


def test_builtin_templates_are_valid_and_labels_read_back():
    for spec in BUILTIN:
        assert check_fields(spec["fields"])
    purpose = next(f for f in FIELDS if f["key"] == "purpose")
    assert labels_of(purpose, "routine") == "日常走访"
    groups = next(f for f in FIELDS if f["key"] == "groups")
    assert labels_of(groups, ["低保"]) == ["低保"]
