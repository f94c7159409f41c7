"""Parsers on hand-made OCR lines: merged and split labels, any order, upside down, traditional."""

from __future__ import annotations

import random
from datetime import date

import pytest

from ocr.engine import TextLine
from ocr.parsers import classify, extract, parse

TODAY = date(2026, 6, 30)
NUMBER = "51013119741110208X"  # valid check digit, 四川省成都市蒲江县, 1974-11-10, female


def line(text, x0, y0, x1, y1, confidence=0.99):
    return TextLine(text, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], confidence)


def front_lines(**swap):
    """The photo side of a card as a 1000 px wide upright crop reads it, one item per line."""
    lines = {
        "name_label": line("姓名", 68, 75, 161, 121),
        "name": line("王蓓", 183, 72, 326, 124),
        "sex_label": line("性别", 68, 148, 168, 194),
        "sex": line("女", 178, 151, 234, 195),
        "eth": line("民族汉", 312, 143, 483, 200),
        "birth": line("出生 1974年11月10日", 70, 222, 524, 267),
        "addr_label": line("住址", 71, 299, 161, 342),
        "addr1": line("四川省成都市蒲江县甘溪", 186, 299, 624, 344),
        "addr2": line("镇新民村8组28号", 188, 352, 555, 400),
        "number": line("公民身份号码" + NUMBER, 69, 520, 923, 563),
    }
    lines.update(swap)
    return [v for v in lines.values() if v is not None]


FRONT = {
    "name": "王蓓",
    "sex": "女",
    "ethnicity": "汉",
    "birth_date": "1974-11-10",
    "address": "四川省成都市蒲江县甘溪镇新民村8组28号",
    "id_number": NUMBER,
}


def turned(lines, width=1000, height=631):
    """The same lines as OCR returns them from a photo taken upside down."""
    out = []
    for ln in lines:
        box = [[width - x, height - y] for x, y in ln.box]
        out.append(TextLine(ln.text, box[2:] + box[:2], ln.confidence))
    return out


def test_front_as_read_from_an_upright_crop():
    result = parse("id_card_front", front_lines())
    assert result.fields == FRONT
    assert set(result.field_confidence) == set(FRONT)
    assert all(0 < c <= 1 for c in result.field_confidence.values())


def test_front_lines_in_any_order():
    lines = front_lines()
    random.Random(3).shuffle(lines)
    assert parse("id_card_front", lines).fields == FRONT


def test_front_upside_down():
    assert parse("id_card_front", turned(front_lines())).fields == FRONT


def test_front_rotated_a_little():
    import math

    angle = math.radians(8)
    lines = []
    for ln in front_lines():
        box = [
            [x * math.cos(angle) - y * math.sin(angle), x * math.sin(angle) + y * math.cos(angle)]
            for x, y in ln.box
        ]
        lines.append(TextLine(ln.text, box, ln.confidence))
    assert parse("id_card_front", lines).fields == FRONT


def test_front_merged_and_split_labels():
    lines = front_lines(
        name_label=None,
        name=line("姓名王蓓", 68, 75, 326, 121),
        sex_label=None,
        sex=None,
        eth=line("性别女 民族汉", 68, 145, 483, 197),
        birth=line("出生", 70, 222, 163, 268),
        birth_value=line("1974年11月10日", 186, 225, 524, 267),
        addr_label=None,
        addr1=line("住址四川省成都市蒲江县甘溪", 71, 299, 624, 344),
        number=line("公民身份号码", 69, 520, 320, 563),
        number_value=line(" ".join([NUMBER[:6], NUMBER[6:14], NUMBER[14:]]), 340, 520, 923, 563),
    )
    assert parse("id_card_front", lines).fields == FRONT


def test_front_traditional_characters():
    lines = front_lines(
        eth=line("民族漢", 312, 143, 483, 200),
        addr_label=line("住址", 71, 299, 161, 342),
        number=line("公民身份號碼", 69, 520, 320, 563),
        number_value=line(NUMBER, 340, 520, 923, 563),
    )
    assert parse("id_card_front", lines).fields == FRONT


def test_front_number_alone_without_its_label():
    lines = front_lines(number=line(NUMBER, 340, 520, 923, 563))
    assert parse("id_card_front", lines).fields["id_number"] == NUMBER


def test_front_missed_labels_are_put_back_from_the_others():
    # OCR lost the 性别 and 民族 labels: values must not be given to the 姓名 row or each other.
    lines = front_lines(sex_label=None, eth=line("汉", 390, 143, 430, 200))
    fields = parse("id_card_front", lines).fields
    assert fields["sex"] == "女"
    assert fields["ethnicity"] == "汉"
    assert fields["name"] == "王蓓"


def test_front_glyph_confusions_are_left_to_the_checks():
    misread = NUMBER.replace("0", "O", 1)
    lines = front_lines(number=line("公民身份号码" + misread, 69, 520, 923, 563, 0.9))
    assert parse("id_card_front", lines).fields["id_number"] == misread
    result = extract(lines, today=TODAY)
    assert result.fields["id_number"] == NUMBER
    assert result.checks["id_repair"] == "mapped"
    assert result.field_confidence["id_number"] < 0.9
    assert result.checks["region"] == "四川省成都市蒲江县"


def test_front_ethnicity_one_edit_away_is_corrected():
    lines = front_lines(eth=line("民族维吾尓", 312, 143, 520, 200))
    result = parse("id_card_front", lines)
    assert result.fields["ethnicity"] == "维吾尔"
    assert result.field_confidence["ethnicity"] < 0.99
    assert result.notes


def test_front_nothing_found():
    result = parse("id_card_front", [])
    assert result.fields == dict.fromkeys(FRONT)
    assert result.field_confidence == {}


def test_front_extract_warns_on_a_bad_number():
    bad = NUMBER[:10] + "9" + NUMBER[11:]
    result = extract(front_lines(number=line("公民身份号码" + bad, 69, 520, 923, 563)), today=TODAY)
    codes = {code for code, _ in result.warnings}
    assert codes & {"checksum_failed", "id_number_corrected"}
    if "checksum_failed" in codes:
        assert result.fields["id_number"] == bad


def back_lines(validity="2015.03.05-2035.03.05"):
    return [
        line("中华人民共和国", 345, 50, 880, 110),
        line("居民身份证", 290, 150, 890, 260),
        line("签发机关", 200, 455, 355, 490),
        line("成都市公安局蒲江分局", 370, 450, 760, 495),
        line("有效期限" + validity, 200, 530, 760, 570),
    ]


def test_back_dated_and_long_term():
    result = parse("id_card_back", back_lines())
    assert result.fields == {
        "issuing_authority": "成都市公安局蒲江分局",
        "valid_from": "2015-03-05",
        "valid_until": "2035-03-05",
        "long_term": False,
    }
    result = parse("id_card_back", back_lines("2015.03.05-长期"))
    assert result.fields["valid_until"] is None
    assert result.fields["long_term"] is True
    assert parse("id_card_back", turned(back_lines("2015.03.05-长期"))).fields == result.fields


def test_back_traditional_labels_and_expiry():
    lines = back_lines("2005.03.05-2015.03.05")
    lines[2] = line("簽發機關", 200, 455, 355, 490)
    result = extract(lines, today=TODAY)
    assert result.document_type == "id_card_back"
    assert result.fields["issuing_authority"] == "成都市公安局蒲江分局"
    assert result.checks["expired"] is True
    assert (
        "expired",
        "该身份证已过有效期，请提醒居民及时换领（有效期至2015-03-05）",
    ) in result.warnings


HOME = {
    "household_type": "家庭户",
    "head_name": "王宏晨",
    "household_number": "096106497",
    "address": "河南省平顶山市湛河区胜利巷824号春晖家园28幢2单元2301室",
    "issue_date": "2012-10-21",
}


def home_lines():
    return [
        line("户别", 150, 165, 230, 200),
        line("家庭户", 425, 165, 515, 200),
        line("户主姓名", 700, 165, 830, 200),
        line("王宏晨", 1045, 165, 1145, 200),
        line("户号", 150, 335, 230, 370),
        line("096106497", 390, 335, 560, 370),
        line("住址", 720, 335, 805, 370),
        line("河南省平顶山市湛河区胜利巷824号", 885, 315, 1300, 348),
        line("春晖家园28幢2单元2301室", 885, 355, 1200, 388),
        line("户口登记机关", 180, 500, 440, 535),
        line("承办人签章", 1200, 500, 1420, 535),
        line("签发日期", 1200, 860, 1370, 895),
        line("2012年10月21日", 1400, 855, 1660, 900),
    ]


def test_home_page():
    result = parse("household_register_home", home_lines())
    assert result.fields == HOME
    assert classify(home_lines())[0] == "household_register_home"


def test_home_page_merged_date_and_upside_down():
    lines = [*home_lines()[:-2], line("签发日期 2012年10月21日", 1200, 858, 1660, 898)]
    assert parse("household_register_home", turned(lines, 2000, 1470)).fields == HOME


def member_lines():
    rows = [
        (("姓名", "王宏晨"), ("户主或与|户主关系", "户主")),
        (("曾用名", None), ("性别", "男")),
        (("出生地", "广西壮族自治区贺州市"), ("民族", "汉族")),
        (("籍贯", "广西壮族自治区贺州市"), ("出生日期", "1989年12月06日")),
        (("本市(县)|其他住址", None), ("宗教信仰", None)),
    ]
    out = [line("常住人口登记卡", 476, 51, 924, 104)]
    for i, ((l1, v1), (l2, v2)) in enumerate(rows):
        y = 170 + 77 * i
        for x_label, x_value, label, value in ((106, 250, l1, v1), (815, 975, l2, v2)):
            parts = label.split("|")
            for j, part in enumerate(parts):
                dy = 0 if len(parts) == 1 else (-15 if j == 0 else 15)
                out.append(line(part, x_label, y - 20 + dy, x_label + 30 * len(part), y + 20 + dy))
            if value:
                out.append(line(value, x_value, y - 20, x_value + 30 * len(value), y + 20))
    y = 170 + 77 * 5
    out += [
        line("公民身份", 95, y - 35, 210, y - 5),
        line("证件编号", 96, y + 5, 212, y + 35),
        line("451103198912067896", 250, y - 18, 562, y + 18),
        line("身高", 765, y - 20, 847, y + 20),
        line("177", 870, y - 20, 936, y + 20),
        line("血型", 980, y - 20, 1061, y + 20),
    ]
    y += 77
    out += [
        line("文化程度", 95, y - 20, 213, y + 20),
        line("大学专科", 246, y - 20, 382, y + 20),
        line("婚姻状况已婚", 522, y - 20, 720, y + 20),
        line("兵役状况", 913, y - 20, 1031, y + 20),
        line("未服兵役", 1037, y - 20, 1173, y + 20),
    ]
    y += 77
    out += [
        line("服务处所", 95, y - 20, 214, y + 20),
        line("平顶山新锐物流有限公司", 249, y - 20, 594, y + 20),
        line("职業", 867, y - 20, 961, y + 20),
        line("工程技术人员", 983, y - 20, 1180, y + 20),
    ]
    y += 77
    out += [
        line("何时由何地迁来本市(县)", 119, y - 17, 419, y + 17),
        line("2016年07月由广西壮族自治区贺州市迁来", 500, y - 17, 1000, y + 17),
    ]
    y += 77
    out += [
        line("何时由何地迁来本址", 158, y - 17, 397, y + 17),
        line("户口专用章", 1080, y + 30, 1264, y + 100),
        line("承办人签章", 87, y + 70, 247, y + 110),
        line("登记日期2016年07月16日", 820, y + 65, 1185, y + 110),
    ]
    return out


MEMBER = {
    "name": "王宏晨",
    "relationship_to_head": "户主",
    "former_name": None,
    "sex": "男",
    "birthplace": "广西壮族自治区贺州市",
    "ethnicity": "汉族",
    "native_place": "广西壮族自治区贺州市",
    "birth_date": "1989-12-06",
    "other_address": None,
    "religion": None,
    "id_number": "451103198912067896",
    "height": "177",
    "blood_type": None,
    "education": "大学专科",
    "marital_status": "已婚",
    "military_service": "未服兵役",
    "employer": "平顶山新锐物流有限公司",
    "occupation": "工程技术人员",
    "moved_to_city_info": "2016年07月由广西壮族自治区贺州市迁来",
    "moved_to_address_info": None,
    "registration_date": "2016-07-16",
}


def test_member_page():
    lines = member_lines()
    assert parse("household_register_member", lines).fields == MEMBER
    assert classify(lines)[0] == "household_register_member"
    result = extract(lines, today=TODAY)
    assert result.warnings == []
    assert result.checks["birth_date_matches_id"] is True


def test_member_page_shuffled_and_upside_down():
    lines = member_lines()
    random.Random(5).shuffle(lines)
    assert parse("household_register_member", turned(lines, 1400, 1028)).fields == MEMBER


def test_member_page_lost_label_keeps_values_apart():
    # 身高 unread: 177 is still the height, not part of the ID number.
    lines = [ln for ln in member_lines() if ln.text != "身高"]
    fields = parse("household_register_member", lines).fields
    assert fields["height"] == "177"
    assert fields["id_number"] == MEMBER["id_number"]


def _member_with(**reads):
    """The member page with some cells read differently: {text as printed: text as read}."""
    return [
        line(reads.get(ln.text, ln.text), *(int(v) for v in (*ln.box[0], *ln.box[2])))
        for ln in member_lines()
    ]


def test_member_page_coded_cells_snap_to_their_code_tables():
    lines = _member_with(
        **{"大学专科": "大学专料", "婚姻状况已婚": "婚姻状况已婚兵", "未服兵役": "况未服兵役"}
    )
    result = parse("household_register_member", lines)
    assert result.fields["education"] == "大学专科"
    assert result.fields["marital_status"] == "已婚"
    assert result.fields["military_service"] == "未服兵役"
    # A corrected cell says so: its confidence drops and the note names the read.
    assert result.field_confidence["education"] < 0.9
    assert any(n.startswith("education: read '大学专料'") for n in result.notes)


def test_member_page_value_swallowed_by_the_next_cell_is_taken_back():
    lines = [
        ln
        for ln in _member_with(**{"婚姻状况已婚": "婚姻状况已婚未服兵役"})
        if ln.text != "未服兵役"
    ]
    fields = parse("household_register_member", lines).fields
    assert fields["marital_status"] == "已婚"
    assert fields["military_service"] == "未服兵役"


def test_member_page_name_without_the_relationship_label_run_on():
    fields = parse("household_register_member", _member_with(王宏晨="王宏晨户主或与")).fields
    assert fields["name"] == "王宏晨"
    assert fields["relationship_to_head"] == "户主"


def test_member_page_misread_places_and_ethnicity_are_repaired():
    lines = _member_with(汉族="汉於")
    # The birthplace cell read with a stray character, the native place one character off
    # from several 广西 cities; the birthplace, read right, settles which.
    places = iter(("旗广西壮族自治区贺州市", "广西壮族自治区贸州市"))
    for i, ln in enumerate(lines):
        if ln.text == "广西壮族自治区贺州市":
            lines[i] = line(next(places), *(int(v) for v in (*ln.box[0], *ln.box[2])))
    result = parse("household_register_member", lines)
    assert result.fields["ethnicity"] == "汉族"
    assert result.fields["birthplace"] == "广西壮族自治区贺州市"
    assert result.fields["native_place"] == "广西壮族自治区贺州市"
    assert result.field_confidence["native_place"] < 0.9
    assert any(n.startswith("ethnicity: read '汉於'") for n in result.notes)


def test_member_page_registration_date_is_not_a_migration_note():
    lines = member_lines()
    moved = next(ln for ln in lines if ln.text == "何时由何地迁来本址")
    # The 登记日期 line below, half read, lands in the empty cell.
    lines.append(line("记日2016年07月16日", 500, int(moved.y0), 900, int(moved.y1)))
    result = parse("household_register_member", lines)
    assert result.fields["moved_to_address_info"] is None
    assert result.fields["registration_date"] == "2016-07-16"


def test_parse_accepts_dicts_and_rejects_unknown_types():
    as_dicts = [ln.as_dict() for ln in front_lines()]
    assert parse("id_card_front", as_dicts).fields == FRONT
    with pytest.raises(ValueError):
        parse("passport", as_dicts)
