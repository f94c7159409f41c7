"""Registry operations called directly: households, heads and members, scope and encryption."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ledger.areas.models import Area
from ledger.areas.scope import Scope
from ledger.audit.operations import Actor
from ledger.context import Ctx
from ledger.errors import InvalidInput
from ledger.registry import households as hh_ops
from ledger.registry import people as people_ops
from ledger.registry.errors import HouseholdNotEmpty, HouseholdNotFound
from ledger.registry.models import Household, Person
from ledger.registry.pii import PiiCipher
from tests.conftest import TEST_PII_KEY, make_id_number


@pytest.fixture
def session(app, tree):
    s = app.extensions["wangge_sessionmaker"]()
    yield s
    s.rollback()
    s.close()


def make_ctx(session, area_code: str | None) -> Ctx:
    if area_code is None:
        scope = Scope.everything()
    else:
        area = session.scalar(select(Area).where(Area.code == area_code))
        scope = Scope.for_area(session, area)
    return Ctx(
        session=session,
        actor=Actor(id=None, username="tester", role="grid_worker"),
        scope=scope,
        pii=PiiCipher(TEST_PII_KEY),
    )


def person(ctx: Ctx, name: str, area: str = "G1", **fields) -> Person:
    return people_ops.create_person(ctx, {"name": name, "sex": "男", "area": area, **fields})


def test_create_household_with_head_is_version_one(session):
    ctx = make_ctx(session, "G1")
    head = person(ctx, "户主")
    household = hh_ops.create_household(ctx, {"area": "G1", "head_person_id": head.id})
    session.commit()
    session.expire_all()
    stored = session.get(Household, household.id)
    assert stored.version == 1
    assert stored.head_person_id == head.id
    linked = session.get(Person, head.id)
    assert linked.household_id == household.id
    assert linked.relationship_to_head == "本人"
    assert [p.id for p in hh_ops.household_members(ctx, stored)] == [head.id]


def test_head_out_of_scope_is_rejected_without_side_effects(session):
    staff_ctx = make_ctx(session, "C1")
    other = person(staff_ctx, "二网格", area="G2")
    session.commit()
    ctx_a = make_ctx(session, "G1")
    with pytest.raises(InvalidInput) as info:
        hh_ops.create_household(ctx_a, {"area": "G1", "head_person_id": other.id})
    assert "head_person_id" in info.value.details["fields"]
    session.rollback()
    assert session.scalars(select(Household)).all() == []
    assert session.get(Person, other.id).household_id is None


def test_delete_person_clears_head_and_household_empties(session):
    ctx = make_ctx(session, None)
    head = person(ctx, "户主")
    household = hh_ops.create_household(ctx, {"area": "G1", "head_person_id": head.id})
    with pytest.raises(HouseholdNotEmpty):
        hh_ops.delete_household(ctx, household.id)
    people_ops.delete_person(ctx, head.id)
    session.commit()
    session.expire_all()
    assert session.get(Household, household.id).head_person_id is None
    hh_ops.delete_household(ctx, household.id)
    session.commit()
    with pytest.raises(HouseholdNotFound):
        hh_ops.get_household(ctx, household.id)


def test_moving_the_head_out_clears_the_head(session):
    ctx = make_ctx(session, "G1")
    head = person(ctx, "户主")
    first = hh_ops.create_household(ctx, {"area": "G1", "head_person_id": head.id})
    second = hh_ops.create_household(ctx, {"area": "G1"})
    people_ops.update_person(ctx, head.id, {"household_id": second.id}, None)
    session.commit()
    session.expire_all()
    assert session.get(Household, first.id).head_person_id is None
    assert session.get(Person, head.id).household_id == second.id


def test_list_people_by_household_respects_scope(session):
    staff_ctx = make_ctx(session, "C1")
    a = person(staff_ctx, "甲", area="G1")
    b = person(staff_ctx, "乙", area="G2")
    household = hh_ops.create_household(staff_ctx, {"area": "G1", "head_person_id": a.id})
    people_ops.update_person(staff_ctx, b.id, {"household_id": household.id}, None)
    session.commit()
    everyone = people_ops.PeopleFilter(household_id=household.id)
    rows, _ = people_ops.list_people(staff_ctx, everyone)
    assert {p.id for p in rows} == {a.id, b.id}
    ctx_a = make_ctx(session, "G1")
    rows, _ = people_ops.list_people(ctx_a, everyone)
    assert [p.id for p in rows] == [a.id]
    assert [p.id for p in hh_ops.household_members(ctx_a, household)] == [a.id]


def test_pii_is_stored_encrypted_and_indexed(session):
    ctx = make_ctx(session, "G1")
    number = make_id_number(date(1988, 8, 8), "女")
    created = people_ops.create_person(
        ctx, {"name": "加密", "area": "G1", "id_number": number, "phone": "+86 139 0000 1234"}
    )
    session.commit()
    session.expire_all()
    row = session.get(Person, created.id)
    assert number.encode() not in bytes(row.id_number_enc)
    assert b"13900001234" not in bytes(row.phone_enc)
    assert ctx.pii.decrypt(row.id_number_enc, field="id_number") == number
    assert ctx.pii.decrypt(row.phone_enc, field="phone") == "13900001234"
    assert row.sex == "女" and row.birth_date == date(1988, 8, 8)
    view = people_ops.person_view(ctx, row)
    assert view["id_number"] != number and view["masked"] is True
    found, _ = people_ops.list_people(ctx, people_ops.PeopleFilter(id_number=number.lower()))
    assert [p.id for p in found] == [created.id]
