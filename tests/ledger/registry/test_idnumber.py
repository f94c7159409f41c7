"""Tests for resident ID number parsing, masking and ethnicity normalisation."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.errors import InvalidInput
from ledger.registry.idnumber import (
    ETHNICITIES,
    IdNumberInfo,
    InvalidIdNumber,
    check_digit,
    is_valid_id_number,
    mask_id_number,
    mask_phone,
    normalize_ethnicity,
    normalize_id_number,
    parse_id_number,
)

TODAY = date(2024, 6, 1)


def make_number(first17: str) -> str:
    return first17 + check_digit(first17)


def reason_of(raw: str, today: date = TODAY) -> str:
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_id_number(raw, today=today)
    return excinfo.value.details["reason"]


# --- check digit --------------------------------------------------------------------------


def test_check_digit_of_well_known_sample() -> None:
    assert check_digit("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        ("11010119900307001", "1"),
        ("44030419851120001", "3"),
        ("31011520000229002", "1"),
        ("65010219791015123", "X"),
        ("81000019880808123", "5"),
    ],
)
def test_check_digit_matches_hand_computed_values(first17: str, expected: str) -> None:
    # Independent re-computation of ISO 7064 MOD 11-2: sum(a_i * 2^(17-i)) + check ≡ 1 (mod 11).
    total = sum(int(ch) * pow(2, 17 - i, 11) for i, ch in enumerate(first17))
    value = 10 if expected == "X" else int(expected)
    assert (total + value) % 11 == 1
    assert check_digit(first17) == expected


@pytest.mark.parametrize("bad", ["1101051949123100", "110105194912310021", "1101051949123100a", ""])
def test_check_digit_rejects_anything_but_17_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="17 ASCII digits"):
        check_digit(bad)


# --- normalisation ------------------------------------------------------------------------


def test_normalize_strips_spaces_and_folds_full_width() -> None:
    raw = " １１０１０５ 1949１２３１\u3000００２ｘ "
    assert normalize_id_number(raw) == "11010519491231002X"


def test_normalize_upper_cases_trailing_x() -> None:
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"


# --- parsing valid numbers ----------------------------------------------------------------


def test_parse_well_known_sample() -> None:
    info = parse_id_number("11010519491231002X", today=TODAY)
    assert info == IdNumberInfo(
        number="11010519491231002X",
        region_code="110105",
        birth_date=date(1949, 12, 31),
        sex="女",
    )


@pytest.mark.parametrize(
    "first17",
    [
        "11010119900307001",
        "44030419851120002",
        "31011520000229123",  # leap day
        "65010219791015123",
        "81000019880808123",  # Hong Kong
        "71000019000101001",  # earliest accepted year, Taiwan
        "54010220240601002",  # born "today"
    ],
)
def test_parse_accepts_computed_valid_numbers(first17: str) -> None:
    number = make_number(first17)
    info = parse_id_number(number, today=TODAY)
    assert info.number == number
    assert info.region_code == first17[:6]
    assert info.birth_date == date(int(first17[6:10]), int(first17[10:12]), int(first17[12:14]))
    assert is_valid_id_number(number)


def test_parse_accepts_lower_case_x() -> None:
    info = parse_id_number("11010519491231002x", today=TODAY)
    assert info.number == "11010519491231002X"


def test_parse_accepts_full_width_digits() -> None:
    info = parse_id_number("１１０１０５１９４９１２３１００２Ｘ", today=TODAY)
    assert info.number == "11010519491231002X"


def test_sex_from_odd_17th_digit_is_male() -> None:
    assert parse_id_number(make_number("11010119900307001"), today=TODAY).sex == "男"
    assert parse_id_number(make_number("11010119900307009"), today=TODAY).sex == "男"


def test_sex_from_even_17th_digit_is_female() -> None:
    assert parse_id_number(make_number("11010119900307002"), today=TODAY).sex == "女"
    assert parse_id_number(make_number("11010119900307000"), today=TODAY).sex == "女"


def test_today_defaults_to_current_date() -> None:
    assert parse_id_number("11010519491231002X").birth_date == date(1949, 12, 31)


def test_repr_does_not_reveal_the_full_number() -> None:
    text = repr(parse_id_number("11010519491231002X", today=TODAY))
    assert "11010519491231002X" not in text
    assert "19491231" not in text


# --- parsing invalid numbers --------------------------------------------------------------


def test_wrong_check_digit() -> None:
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_id_number("110105194912310021", today=TODAY)
    err = excinfo.value
    assert err.message == "身份证号校验位不正确，请核对后重新输入"
    assert err.details == {"reason": "checksum"}
    assert err.code == "people.invalid_id_number"
    assert err.kind == "invalid"
    assert isinstance(err, InvalidInput)
    assert not is_valid_id_number("110105194912310021")


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002",  # 17 characters
        "11010519491231002X1",  # 19 characters
        "110105194912310",  # old 15-digit format
        "X1010519491231002X",  # X not in last position
        "1101051949123100-X",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits are not ASCII digits
        "",
    ],
)
def test_wrong_length_or_characters(raw: str) -> None:
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_id_number(raw, today=TODAY)
    assert excinfo.value.message == "身份证号应为18位，最后一位可以是数字或X"
    assert excinfo.value.details == {"reason": "length"}


def test_none_is_rejected_as_length() -> None:
    assert reason_of(None) == "length"  # type: ignore[arg-type]
    assert not is_valid_id_number(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["00", "10", "16", "20", "24", "30", "38", "40", "47", "49"])
def test_bad_province_even_with_correct_check_digit(prefix: str) -> None:
    number = make_number(prefix + "010519491231002")
    assert reason_of(number) == "province"


@pytest.mark.parametrize(
    "prefix", ["11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71", "82"]
)
def test_every_province_range_boundary_is_accepted(prefix: str) -> None:
    assert parse_id_number(make_number(prefix + "010519491231002"), today=TODAY)


def test_feb_30_is_rejected() -> None:
    number = make_number("11010519900230002")
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_id_number(number, today=TODAY)
    assert excinfo.value.details == {"reason": "birth_date"}
    assert "出生日期" in excinfo.value.message


@pytest.mark.parametrize("birth", ["19900229", "19901301", "19900001", "19900100", "20230431"])
def test_impossible_dates_are_rejected(birth: str) -> None:
    assert reason_of(make_number("110105" + birth + "002")) == "birth_date"


def test_future_birth_date_is_rejected() -> None:
    number = make_number("11010520240602002")
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_id_number(number, today=TODAY)
    assert excinfo.value.details == {"reason": "birth_date"}
    assert "晚于今天" in excinfo.value.message
    assert parse_id_number(number, today=date(2024, 6, 2)).birth_date == date(2024, 6, 2)


def test_birth_year_before_1900_is_rejected() -> None:
    number = make_number("11010518991231002")
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_id_number(number, today=TODAY)
    assert excinfo.value.details == {"reason": "birth_date"}
    assert "1900" in excinfo.value.message


def test_error_message_does_not_echo_the_number() -> None:
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_id_number("110105194912310021", today=TODAY)
    assert "110105194912310021" not in str(excinfo.value)


# --- masking ------------------------------------------------------------------------------


def test_mask_18_char_id_number() -> None:
    assert mask_id_number("11010119900307123X") == "110101********123X"
    assert mask_id_number("11010519491231002X") == "110105********002X"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("110105194912310", "110**********10"),  # legacy 15-digit number
        ("1101051949123100", "110***********00"),
        ("1101051949123100212", "110**************12"),
        ("123456", "123*56"),
        ("12345", "*****"),
        ("1", "*"),
    ],
)
def test_mask_other_lengths(raw: str, masked: str) -> None:
    result = mask_id_number(raw)
    assert result == masked
    assert len(result) == len(raw)
    assert len(result) - result.count("*") <= 10


@pytest.mark.parametrize("empty", ["", None])
def test_mask_id_number_passes_empty_values_through(empty: str | None) -> None:
    assert mask_id_number(empty) is empty  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("19900001111", "199****1111"),
        ("010-12345678", "010*****5678"),
        ("12345678", "123*5678"),
        ("1234567", "*****67"),
        ("110", "*10"),
        ("12", "**"),
    ],
)
def test_mask_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


@pytest.mark.parametrize("empty", ["", None])
def test_mask_phone_passes_empty_values_through(empty: str | None) -> None:
    assert mask_phone(empty) is empty  # type: ignore[arg-type]


# --- ethnicities --------------------------------------------------------------------------


def test_there_are_exactly_56_distinct_ethnicities_in_gb_3304_order() -> None:
    assert len(ETHNICITIES) == 56
    assert len(set(ETHNICITIES)) == 56
    assert ETHNICITIES[0] == "汉"
    assert ETHNICITIES[14] == "土家"  # code 15
    assert ETHNICITIES[29] == "土"  # code 30
    assert ETHNICITIES[-1] == "基诺"  # code 56
    assert all(not name.endswith("族") for name in ETHNICITIES)


@pytest.mark.parametrize("name", ETHNICITIES)
def test_every_ethnicity_accepted_with_and_without_suffix(name: str) -> None:
    assert normalize_ethnicity(name) == name
    assert normalize_ethnicity(name + "族") == name
    assert normalize_ethnicity(f"  {name}族 ") == name


@pytest.mark.parametrize(
    "value", ["汉人", "汉族人", "族", "", "   ", "汉族族", "穿青人", "Han", None, 1]
)
def test_unknown_ethnicities_are_rejected(value: object) -> None:
    assert normalize_ethnicity(value) is None  # type: ignore[arg-type]
