"""Field checks and check-digit repair: never a wrong ID number without a warning."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from ledger.registry.idnumber import check_digit
from ocr import regions
from ocr.checks import (
    check_household_home,
    check_household_member,
    check_id_card_back,
    check_id_card_front,
    complete_id_number,
    repair_id_number,
)
from ocr.parsers import extract

TODAY = date(2026, 6, 30)
ID_WARNINGS = {"checksum_failed", "id_number_corrected", "id_number_missing"}


def make_number(region: str, born: date, seq: int) -> str:
    first = f"{region}{born:%Y%m%d}{seq:03d}"
    return first + check_digit(first)


# 北京市东城区, born 1974-11-10, sequence 211 (odd: male).
GOOD = make_number("110101", date(1974, 11, 10), 211)


def front(number, birth="1974-11-10", sex=None, **extra):
    fields = {
        "name": "王蓓",
        "sex": sex if sex is not None else ("男" if int(GOOD[16]) % 2 else "女"),
        "ethnicity": "汉",
        "birth_date": birth,
        "address": "北京市东城区景山前街4号",
        "id_number": number,
    }
    fields.update(extra)
    return fields


def codes(warnings):
    return {code for code, _ in warnings}


def test_valid_number_passes_every_check():
    checks, warnings, fields = check_id_card_front(front(GOOD), TODAY)
    assert checks["id_number_checksum"] is True
    assert checks["birth_date_matches_id"] is True
    assert checks["sex_matches_id"] is True
    assert checks["region"] == "北京市东城区"
    assert warnings == []
    assert fields["id_number"] == GOOD


def test_input_fields_are_not_modified():
    fields = front(GOOD.replace("0", "O", 1))
    check_id_card_front(fields, TODAY)
    assert fields["id_number"] == GOOD.replace("0", "O", 1)


@pytest.mark.parametrize(
    "misread",
    [
        GOOD[:4] + "O" + GOOD[5:],  # O for 0
        GOOD[:1] + "l" + GOOD[2:],  # l for 1
        GOOD[:3] + "I" + GOOD[4:],  # I for 1
        " ".join([GOOD[:6], GOOD[6:14], GOOD[14:]]),  # spaced groups
        "１１０１０１" + GOOD[6:],  # full-width digits
    ],
)
def test_look_alike_glyphs_are_mapped_without_warning(misread):
    checks, warnings, fields = check_id_card_front(front(misread), TODAY)
    assert fields["id_number"] == GOOD
    assert checks["id_number_checksum"] is True
    assert not codes(warnings) & ID_WARNINGS


def test_lower_case_x_is_read_as_x():
    number = make_number("110101", date(1980, 1, 1), 3)
    seq = 3
    while not number.endswith("X"):
        seq += 2
        number = make_number("110101", date(1980, 1, 1), seq)
    repair = repair_id_number(number[:17] + "x", today=TODAY)
    assert repair.status == "ok"
    assert repair.number == number


def test_wrong_last_digit_warns_and_is_not_replaced_by_another_valid_number():
    wrong = GOOD[:17] + ("2" if GOOD[17] != "2" else "3")
    checks, warnings, fields = check_id_card_front(front(wrong), TODAY)
    if "id_number_corrected" in codes(warnings):
        assert fields["id_number"] == GOOD
    else:
        assert "checksum_failed" in codes(warnings)
        assert fields["id_number"] == wrong
        assert checks["id_number_checksum"] is False
        assert dict(warnings)["checksum_failed"].startswith("身份证号校验未通过")


def test_unique_confusable_digit_is_corrected_with_a_warning():
    # A 6 read as 8 in the sequence digits: exactly one confusable candidate fits.
    truth = make_number("451103", date(1989, 12, 6), 689)
    misread = truth[:14] + "8" + truth[15:]
    repair = repair_id_number(misread, today=TODAY, birth_date=date(1989, 12, 6), sex="男")
    assert repair.status == "corrected"
    assert repair.number == truth
    assert repair.changes == ["8→6@15"]
    _, warnings, fields = check_id_card_front(front(misread, birth="1989-12-06", sex="男"), TODAY)
    assert fields["id_number"] == truth
    assert "id_number_corrected" in codes(warnings)


def test_one_unreadable_character_is_solved_by_the_check_digit():
    misread = GOOD[:9] + "#" + GOOD[10:]
    checks, warnings, fields = check_id_card_front(front(misread), TODAY)
    assert fields["id_number"] == GOOD
    assert "id_number_corrected" in codes(warnings)
    assert checks["id_number_checksum"] is True


def test_x_inside_the_number_is_not_a_digit():
    misread = GOOD[:5] + "X" + GOOD[6:]
    repair = repair_id_number(misread, today=TODAY, birth_date=date(1974, 11, 10))
    assert repair.status in ("corrected", "failed")
    if repair.status == "corrected":
        assert repair.number == GOOD


def test_printed_birth_date_breaks_ties_and_fixes_a_date_digit():
    # The day digit 1 read as 7; the printed date says 10.
    misread = GOOD[:12] + "7" + GOOD[13:]
    repair = repair_id_number(misread, today=TODAY, birth_date=date(1974, 11, 10), sex="男")
    assert repair.status == "corrected"
    assert repair.number == GOOD


@pytest.mark.parametrize("raw", [GOOD[:-1], GOOD + "1", "1101011974", "身份证"])
def test_wrong_length_fails_with_checksum_warning(raw):
    checks, warnings, _fields = check_id_card_front(front(raw), TODAY)
    assert "checksum_failed" in codes(warnings)
    assert checks["id_number_checksum"] is False


def test_missing_number_warns():
    checks, warnings, fields = check_id_card_front(front(None), TODAY)
    assert "id_number_missing" in codes(warnings)
    assert fields["id_number"] is None
    assert checks["region"] is None


def test_birth_date_and_sex_mismatch_warn():
    checks, warnings, _ = check_id_card_front(front(GOOD, birth="1974-11-11", sex="女"), TODAY)
    assert checks["id_number_checksum"] is True
    assert checks["birth_date_matches_id"] is False
    assert checks["sex_matches_id"] is False
    assert {"birth_date_mismatch", "sex_mismatch"} <= codes(warnings)


def test_historical_region_code_resolves_by_birth_year():
    # 370103 was 济南市市中区 for decades; any name the table gives for the year is fine.
    number = make_number("370103", date(1965, 5, 5), 11)
    checks, _, _ = check_id_card_front(front(number, birth="1965-05-05", sex="男"), TODAY)
    assert checks["region"] == regions.region_name("370103", 1965)
    assert checks["region"].startswith("山东省")


def test_number_passing_checksum_with_unknown_region_warns():
    number = make_number("119901", date(1974, 11, 10), 21)
    checks, warnings, fields = check_id_card_front(front(number, sex="男"), TODAY)
    assert fields["id_number"] == number
    assert checks["region"] is None
    assert "region_unknown" in codes(warnings)


def test_ethnicity_and_date_validity():
    _, warnings, _ = check_id_card_front(front(GOOD, ethnicity="火星"), TODAY)
    assert "ethnicity_invalid" in codes(warnings)
    checks, warnings, _ = check_id_card_front(front(GOOD, birth="2030-01-01"), TODAY)
    assert checks["birth_date_valid"] is False
    assert "date_invalid" in codes(warnings)


def test_missing_fields_are_listed():
    _, warnings, _ = check_id_card_front(front(GOOD, name=None, address=None), TODAY)
    message = dict(warnings)["fields_missing"]
    assert "姓名" in message and "住址" in message


def test_single_misreads_never_yield_a_wrong_number_without_warning():
    rng = random.Random(20260630)
    corrected = failed = 0
    for _ in range(3000):
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(30000))
        truth = make_number(regions.random_region(rng), born, rng.randrange(1000))
        sex = "男" if int(truth[16]) % 2 else "女"
        pos = rng.randrange(18)
        glyph = rng.choice("0123456789" + ("X" if pos == 17 else "") + "OIl#B")
        misread = truth[:pos] + glyph + truth[pos + 1 :]
        printed = born.isoformat() if rng.random() < 0.8 else None
        _checks, warnings, fields = check_household_member(
            {"id_number": misread, "birth_date": printed, "sex": sex}, TODAY
        )
        if fields["id_number"] != truth:
            assert codes(warnings) & ID_WARNINGS, (truth, misread)
            failed += 1
        elif "id_number_corrected" in codes(warnings):
            corrected += 1
    # Most single misreads are either left for a person to check or fixed with a warning.
    assert corrected > 0 and failed > 0


def test_back_expired_relative_to_today():
    fields = {
        "issuing_authority": "永兴县公安局",
        "valid_from": "2006-02-07",
        "valid_until": "2016-02-07",
        "long_term": False,
    }
    checks, warnings, _ = check_id_card_back(fields, TODAY)
    assert checks["expired"] is True
    assert checks["validity_order"] is True
    assert checks["validity_period_standard"] is True
    assert dict(warnings)["expired"].startswith("该身份证已过有效期，请提醒居民及时换领")
    checks, warnings, _ = check_id_card_back(fields, date(2016, 2, 7))
    assert checks["expired"] is False
    assert "expired" not in codes(warnings)


def test_back_long_term_never_expires():
    fields = {
        "issuing_authority": "永兴县公安局",
        "valid_from": "2006-02-07",
        "valid_until": None,
        "long_term": True,
    }
    checks, warnings, out = check_id_card_back(fields, TODAY)
    assert checks["expired"] is False
    assert out["valid_until"] is None
    assert warnings == []


def test_back_order_and_unusual_period():
    fields = {"issuing_authority": "X公安局", "valid_from": "2016-02-07", "long_term": False}
    _, warnings, _ = check_id_card_back({**fields, "valid_until": "2006-02-07"}, TODAY)
    assert "validity_order" in codes(warnings)
    _, warnings, _ = check_id_card_back({**fields, "valid_until": "2026-02-08"}, TODAY)
    assert "validity_period_unusual" in codes(warnings)
    _, warnings, _ = check_id_card_back({**fields, "valid_from": "2016-02-31"}, TODAY)
    assert "date_invalid" in codes(warnings)


def test_household_home_checks():
    fields = {
        "household_type": "家庭户",
        "head_name": "王宏晨",
        "household_number": "096106497",
        "address": "河南省平顶山市湛河区胜利巷824号",
        "issue_date": "2012-10-21",
    }
    checks, warnings, _ = check_household_home(fields, TODAY)
    assert checks == {"issue_date_valid": True, "household_number_valid": True}
    assert warnings == []
    checks, warnings, _ = check_household_home(
        {**fields, "issue_date": "2027-01-01", "household_number": "09A"}, TODAY
    )
    assert checks["issue_date_valid"] is False
    assert {"date_invalid", "household_number_unusual"} <= codes(warnings)


def test_household_member_runs_the_id_checks():
    fields = {
        "name": "王宏晨",
        "relationship_to_head": "户主",
        "sex": "男",
        "birth_date": "1974-11-10",
        "ethnicity": "汉族",
        "id_number": GOOD,
        "registration_date": "2016-07-16",
    }
    checks, warnings, _ = check_household_member(fields, TODAY)
    assert checks["id_number_checksum"] and checks["birth_date_matches_id"]
    assert checks["ethnicity_valid"] is True
    assert warnings == []


def _line(text, x0, y0, x1, y1, confidence=0.99):
    return {"text": text, "box": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], "confidence": confidence}


def _card_front(name, ethnicity, birth, address):
    """An ID card front's lines above the number, where a real card prints them."""
    return [
        _line("姓名", 68, 75, 161, 121),
        _line(name, 183, 72, 326, 124),
        _line("性别男", 68, 148, 234, 195),
        _line("民族" + ethnicity, 312, 143, 483, 200),
        _line("出生 " + birth, 70, 222, 524, 267),
        _line("住址" + address, 71, 299, 624, 344),
    ]


def test_extract_lowers_confidence_of_a_repaired_number():
    misread = GOOD[:4] + "O" + GOOD[5:]
    lines = [
        *_card_front("王蓓", "漢", "1974年11月10日", "北京市东城区景山前街4号"),
        _line("公民身份号码" + misread, 69, 520, 923, 563, 0.98),
    ]
    result = extract(lines, today=TODAY)
    assert result.document_type == "id_card_front"
    assert result.fields["id_number"] == GOOD
    assert result.fields["ethnicity"] == "汉"
    assert result.field_confidence["id_number"] == pytest.approx(0.98 * 0.9)
    assert not codes(result.warnings) & ID_WARNINGS


def test_unreadable_birth_date_and_sex_are_taken_from_a_valid_number():
    checks, warnings, fields = check_id_card_front(front(GOOD, birth=None, sex=""), TODAY)
    assert fields["birth_date"] == "1974-11-10"
    assert checks["filled_from_id"] == ["birth_date", "sex"]
    assert "fields_missing" not in codes(warnings)
    _, _, fields = check_household_member({"id_number": GOOD, "sex": None}, TODAY)
    assert fields["sex"] == "男"
    # Not from a number that fails its check digit.
    bad = GOOD[:-1] + ("1" if GOOD[-1] != "1" else "2")
    _, _, fields = check_household_member({"id_number": bad, "birth_date": None}, TODAY)
    assert fields["birth_date"] is None


# 黑龙江省大庆市肇州县, born 1994-02-02, sequence 749 (odd: male).
GLARED = make_number("230621", date(1994, 2, 2), 749)
GLARED_ADDRESS = "黑龙江省大庆市肇州县朝阳乡南岗村8组4号"


def test_digits_lost_at_the_start_come_back_from_the_address_and_birth_date():
    # Glare over the left of the number: the first four digits were not read at all.
    checks, warnings, fields = check_id_card_front(
        front(GLARED[4:], birth="1994-02-02", sex="男", address=GLARED_ADDRESS), TODAY
    )
    assert fields["id_number"] == GLARED
    assert checks["id_repair"] == "completed"
    assert checks["region"] == "黑龙江省大庆市肇州县"
    assert "id_number_completed" in codes(warnings)
    assert "checksum_failed" not in codes(warnings)


def test_digits_lost_in_the_middle_come_back_from_the_birth_date_and_check_digit():
    # Month, day and the first sequence digit under the glare: the date gives three, the check
    # digit the fourth.
    lost = GLARED[:11] + GLARED[15:]
    _checks, warnings, fields = check_id_card_front(
        front(lost, birth="1994-02-02", sex="男", address=GLARED_ADDRESS), TODAY
    )
    assert fields["id_number"] == GLARED
    assert "id_number_completed" in codes(warnings)
    # Where the digits read repeat, the gap could sit in several places that give different
    # valid numbers: then nothing is completed.
    ambiguous = GOOD[:11] + GOOD[15:]
    _checks, warnings, fields = check_id_card_front(front(ambiguous), TODAY)
    assert fields["id_number"] == ambiguous
    assert "checksum_failed" in codes(warnings)


def test_completion_needs_the_check_digit_read():
    # The number's last two characters lost: every sequence digit would fit.
    _checks, warnings, fields = check_id_card_front(front(GOOD[:-2]), TODAY)
    assert fields["id_number"] == GOOD[:-2]
    assert "checksum_failed" in codes(warnings)
    # Only the check digit lost: computing it would confirm nothing.
    assert complete_id_number(GOOD[:-1], today=TODAY, birth_date=date(1974, 11, 10)) is None


def test_completion_needs_the_region_printed_on_the_document():
    # The region digits are lost and the address names no county: nothing to take them from.
    fields = front(GLARED[4:], birth="1994-02-02", sex="男", address="朝阳乡南岗村8组4号")
    _checks, warnings, fields = check_id_card_front(fields, TODAY)
    assert fields["id_number"] == GLARED[4:]
    assert "checksum_failed" in codes(warnings)
    assert "id_number_completed" not in codes(warnings)


def test_completed_numbers_are_right_or_left_alone_when_only_digits_were_lost():
    rng = random.Random(20261124)
    completed = 0
    for _ in range(400):
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(30000))
        code = regions.random_region(rng)
        truth = make_number(code, born, rng.randrange(1000))
        gap = rng.randint(1, 6)
        start = rng.randint(0, 18 - gap)
        result = complete_id_number(
            truth[:start] + truth[start + gap :],
            today=TODAY,
            birth_date=born,
            sex="男" if int(truth[16]) % 2 else "女",
            places=(regions.region_name(code) + "人民路1号",),
        )
        if result is not None:
            assert result.number == truth
            completed += 1
    assert completed > 200


def test_extract_lowers_confidence_of_a_completed_number():
    lines = [
        *_card_front("杨清", "汉", "1994年2月2日", GLARED_ADDRESS),
        _line("公民身份号码", 69, 520, 300, 563),
        _line(GLARED[4:], 480, 520, 923, 563, 0.96),
    ]
    result = extract(lines, today=TODAY)
    assert result.fields["id_number"] == GLARED
    assert result.field_confidence["id_number"] == pytest.approx(0.96 * 0.5)
    assert "id_number_completed" in codes(result.warnings)
