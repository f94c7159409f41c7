"""Document classification from printed keywords."""

from __future__ import annotations

import pytest

from ocr.parsers import classify


@pytest.mark.parametrize(
    ("texts", "kind"),
    [
        (
            ["姓名 王蓓", "性别女 民族汉", "住址 四川省", "公民身份号码 51013119741110208X"],
            "id_card_front",
        ),
        (
            ["中华人民共和国", "居民身份证", "签发机关 成都市公安局", "有效期限 2015.03.05-长期"],
            "id_card_back",
        ),
        (
            ["户别 家庭户", "户主姓名 王宏晨", "户号 096106497", "住址", "签发日期"],
            "household_register_home",
        ),
        (
            ["常住人口登记卡", "姓名", "户主或与", "户主关系", "曾用名", "籍贯"],
            "household_register_member",
        ),
        # Traditional characters.
        (["簽發機關 成都市公安局", "有效期限 2015.03.05-2025.03.05"], "id_card_back"),
        (["戶別", "戶主姓名", "戶號"], "household_register_home"),
        # Only the number and part of a label survived the photo.
        (["河南省周口市", "公号码411628200109025045"], "id_card_front"),
        # Two misread characters in a long keyword, one in a short one.
        (["户口整记机天", "概发日期 2003年01月19日"], "household_register_home"),
    ],
)
def test_classify(texts, kind):
    got, score = classify(texts)
    assert got == kind
    assert 0 < score <= 1


def test_unrelated_text_is_not_a_document():
    assert classify(["今日菜单", "红烧肉 25元", "米饭 2元"]) == (None, 0.0)
    assert classify([]) == (None, 0.0)


def test_classify_among_expected_kinds():
    texts = ["公民身份证件编号", "41162820010902504X", "户主关系"]
    register = ("household_register_home", "household_register_member")
    assert classify(texts, among=register)[0] == "household_register_member"
    assert classify(["签发机关", "有效期限"], among=register) == (None, 0.0)


def test_score_grows_with_evidence():
    _, weak = classify(["有效期限 2015.03.05-长期"])
    _, strong = classify(
        ["中华人民共和国", "居民身份证", "签发机关 X公安局", "有效期限 2015.03.05-长期"]
    )
    assert strong > weak
