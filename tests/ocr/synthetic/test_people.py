"""Random people are internally consistent: ID numbers, dates, regions, card validity."""

from __future__ import annotations

import random
from datetime import date

import pytest

from ledger.registry.idnumber import ETHNICITIES, parse_id_number
from ocr import regions
from ocr.synthetic import people
from ocr.synthetic.fonts import has_glyph
from ocr.synthetic.people import AS_OF, add_years, age_on, validity_years

N = 300


@pytest.fixture(scope="module")
def population():
    out = []
    for i in range(N):
        rng = random.Random(f"people-test:{i}")
        person = people.make_person(rng, min_age=0 if i % 10 == 0 else 16)
        back = people.make_id_card_back(rng, person, expired=i % 7 == 0)
        household = people.make_household(rng, person)
        record = people.make_member_record(rng, person, household)
        out.append((person, back, household, record))
    return out


def test_id_numbers_are_valid_and_agree_with_the_person(population):
    for person, *_ in population:
        info = parse_id_number(person.id_number, today=AS_OF)
        assert info.birth_date == person.birth_date
        assert info.sex == person.sex
        assert regions.region_name(info.region_code) is not None, person.id_number
        assert person.ethnicity in ETHNICITIES


def test_some_numbers_carry_abolished_region_codes(population):
    assert any(not regions.is_current(p.id_number[:6]) for p, *_ in population)


def test_addresses_start_with_the_residence_region_and_fit_the_card(population):
    for person, *_ in population:
        assert person.address.startswith(regions.region_name(person.residence_region))
        assert len(person.address) <= 33


def test_names_include_rare_and_compound_forms(population):
    names = [p.name for p, *_ in population]
    assert any(ch in people.RARE_CHARS for name in names for ch in name)
    assert all(2 <= len(name) <= 12 for name in names)


def test_card_validity_follows_the_law(population):
    for person, back, *_ in population:
        assert back.valid_from > person.birth_date
        assert back.valid_from <= AS_OF
        years = validity_years(age_on(person.birth_date, back.valid_from))
        if years is None:
            assert back.long_term and back.valid_until is None
        else:
            assert back.valid_until == add_years(back.valid_from, years)
            assert back.valid_until > back.valid_from
        assert back.expired == (back.valid_until is not None and back.valid_until < AS_OF)


def test_expired_cards_are_produced_when_asked(population):
    asked = [back for i, (_, back, *_) in enumerate(population) if i % 7 == 0]
    assert sum(b.expired for b in asked) >= len(asked) // 2
    unasked = [back for i, (_, back, *_) in enumerate(population) if i % 7 != 0]
    assert not any(b.expired for b in unasked)


@pytest.mark.parametrize(
    ("code", "authority"),
    [
        ("330106", "杭州市公安局西湖分局"),
        ("110101", "北京市公安局东城分局"),
        ("330182", "建德市公安局"),
        ("330122", "桐庐县公安局"),
        ("441900", "东莞市公安局"),
        ("120116", "天津市公安局滨海新区分局"),
    ],
)
def test_issuing_authority(code, authority):
    assert people.issuing_authority(code) == authority


def test_member_records_match_the_person(population):
    keys = {
        "name", "relationship_to_head", "former_name", "sex", "birthplace", "ethnicity",
        "native_place", "birth_date", "other_address", "religion", "id_number", "height",
        "blood_type", "education", "marital_status", "military_service", "employer",
        "occupation", "moved_to_city_info", "moved_to_address_info", "registration_date",
    }  # fmt: skip
    for person, _, household, record in population:
        f = record.fields
        assert set(f) == keys
        assert f["id_number"] == person.id_number
        assert f["birth_date"] == person.birth_date.isoformat()
        assert f["ethnicity"] == person.ethnicity + "族"
        registered = date.fromisoformat(f["registration_date"])
        assert person.birth_date <= registered <= AS_OF
        if person.age < 22:
            assert f["marital_status"] == "未婚"
        if household.relationship == "户主":
            assert household.head_name == person.name


def test_every_generated_character_renders_in_every_font(population):
    chars = set(people.RARE_CHARS)
    for person, back, household, record in population:
        chars |= set(person.name + person.address + back.issuing_authority)
        chars |= set(household.head_name + household.registration_authority)
        chars |= set("".join(v for v in record.fields.values() if v))
    chars -= {" "}
    for role in ("sans", "serif"):
        missing = sorted(ch for ch in chars if not has_glyph(role, ch))
        assert not missing, (role, missing)
    # Handwriting falls back to Noto per character, but the Kai font should cover most text.
    kai_missing = [ch for ch in chars if not has_glyph("kai", ch)]
    assert len(kai_missing) < len(chars) * 0.02
