"""Household operations: register, read, edit, delete and list households within scope."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select

from ledger.areas.models import Area
from ledger.audit import operations as audit
from ledger.context import Ctx
from ledger.db import atomic, new_uuid, utcnow
from ledger.registry.common import (
    check_version,
    client_id,
    field_error,
    grid_in_scope,
    newest_first_page,
)
from ledger.registry.errors import (
    DuplicateHouseholdNumber,
    DuplicateRecordId,
    HouseholdNotEmpty,
    HouseholdNotFound,
)
from ledger.registry.models import Household, Person

HOUSEHOLD_NUMBER_RE = re.compile(r"^[0-9A-Za-z-]{1,32}$")


def _apply(ctx: Ctx, household: Household, data: dict[str, Any]) -> None:
    if "household_number" in data:
        number = (data["household_number"] or "").strip() or None
        if number is not None and not HOUSEHOLD_NUMBER_RE.match(number):
            raise field_error("household_number", "户号只能包含数字、字母和短横线")
        if number is not None:
            existing = ctx.session.scalar(
                select(Household).where(Household.household_number == number)
            )
            if existing is not None and existing.id != household.id:
                raise DuplicateHouseholdNumber(details={"existing_id": existing.id})
        household.household_number = number
    if data.get("household_type"):
        household.household_type = data["household_type"]
    if "address" in data:
        household.address = (data["address"] or "").strip() or None
    if "area" in data:
        household.area = grid_in_scope(ctx, data["area"])
        household.area_id = household.area.id
    if "head_person_id" in data:
        head = _head_in_scope(ctx, household, data["head_person_id"])
        _set_head(ctx, household, head)


def _head_in_scope(ctx: Ctx, household: Household, head_id: str | None) -> Person | None:
    """The person named as head, checked: in the caller's scope and in no other household."""
    if head_id is None:
        return None
    head = ctx.session.get(Person, head_id)
    if head is None or not ctx.scope.allows(head.area_id):
        raise field_error("head_person_id", "户主不存在或不在您负责的范围内")
    if head.household_id not in (None, household.id):
        raise field_error("head_person_id", "该居民已属于其他户，请先调整其所属户")
    return head


def _set_head(ctx: Ctx, household: Household, head: Person | None) -> None:
    previous_id = household.head_person_id
    if previous_id is not None and (head is None or head.id != previous_id):
        previous = ctx.session.get(Person, previous_id)
        # The former head stays a member, but only the head is "本人" (self).
        if (
            previous is not None
            and previous.household_id == household.id
            and previous.relationship_to_head == "本人"
        ):
            previous.relationship_to_head = None
    if head is not None:
        # Naming a head makes them a member: a head outside the household makes no sense.
        head.household_id = household.id
        head.relationship_to_head = "本人"
    household.head_person_id = head.id if head is not None else None


@contextmanager
def _saving(ctx: Ctx, household: Household) -> Iterator[None]:
    """Apply and flush in a savepoint; a concurrent duplicate 户号 gets the pre-check's 409."""
    attempted: dict[str, str | None] = {}

    def duplicate_error() -> Exception:
        number = attempted.get("number")
        existing = None
        if number:
            existing = ctx.session.scalar(
                select(Household).where(Household.household_number == number)
            )
        if existing is not None and existing.id != attempted.get("id"):
            return DuplicateHouseholdNumber(details={"existing_id": existing.id})
        return DuplicateRecordId(details={"existing_id": attempted.get("id")})

    with atomic(ctx.session, duplicate_error):
        yield
        attempted.update(number=household.household_number, id=household.id)


def create_household(ctx: Ctx, data: dict[str, Any]) -> Household:
    record_id = client_id(data.get("id")) or new_uuid()
    if ctx.session.get(Household, record_id) is not None:
        raise DuplicateRecordId(details={"existing_id": record_id})
    if not data.get("area"):
        raise field_error("area", "请选择所属网格")
    household = Household(id=record_id, created_by=ctx.actor.id, version=1)
    household.created_at = household.updated_at = utcnow()
    with _saving(ctx, household):
        _apply(ctx, household, {k: v for k, v in data.items() if k != "head_person_id"})
        head = _head_in_scope(ctx, household, data.get("head_person_id"))
        # The household row is inserted (as version 1, already naming its head) before the
        # head is linked to it, so the people.household_id foreign key points at a real row.
        household.head_person_id = head.id if head is not None else None
        ctx.session.add(household)
        ctx.session.flush()
        if head is not None:
            _set_head(ctx, household, head)
    return household


def get_household(ctx: Ctx, household_id: str) -> Household:
    household = ctx.session.get(Household, household_id)
    if household is None or not ctx.scope.allows(household.area_id):
        raise HouseholdNotFound(details={"id": household_id})
    return household


def household_members(ctx: Ctx, household: Household) -> list[Person]:
    """Members the caller may see: a member registered in another grid stays hidden."""
    return list(
        ctx.session.scalars(
            select(Person)
            .where(Person.household_id == household.id, ctx.scope.filter(Person.area_id))
            .order_by(Person.birth_date.is_(None), Person.birth_date, Person.name)
        ).unique()
    )


def update_household(
    ctx: Ctx, household_id: str, changes: dict[str, Any], expected_version: int | None
) -> Household:
    household = get_household(ctx, household_id)
    check_version(household.version, expected_version)
    with _saving(ctx, household):
        _apply(ctx, household, {k: v for k, v in changes.items() if k != "id"})
        household.updated_at = utcnow()
    return household


def delete_household(ctx: Ctx, household_id: str, expected_version: int | None = None) -> None:
    household = get_household(ctx, household_id)
    check_version(household.version, expected_version)
    members = ctx.session.scalar(
        select(func.count()).select_from(Person).where(Person.household_id == household.id)
    )
    if members:
        raise HouseholdNotEmpty(details={"members": members})
    audit.record(
        ctx.session,
        ctx.actor,
        "household.delete",
        object_type="household",
        object_id=household.id,
        details={"household_number": household.household_number, "area": household.area.code},
    )
    with atomic(ctx.session, lambda: HouseholdNotFound(details={"id": household_id})):
        ctx.session.delete(household)


def list_households(
    ctx: Ctx,
    *,
    area: str | None = None,
    household_number: str | None = None,
    address: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Household], str | None]:
    stmt = select(Household).where(ctx.scope.filter(Household.area_id))
    if area:
        node = ctx.session.scalar(select(Area).where(Area.code == area))
        if node is None or not ctx.scope.allows(node.id):
            return [], None
        stmt = stmt.where(
            Household.area_id.in_(select(Area.id).where(Area.path.startswith(node.path)))
        )
    if household_number:
        stmt = stmt.where(Household.household_number == household_number.strip())
    if address:
        stmt = stmt.where(Household.address.contains(address.strip(), autoescape=True))
    return newest_first_page(ctx.session, stmt, Household, limit, cursor)


def household_view(ctx: Ctx, household: Household, *, members: list[Person] | None = None):
    view = {
        "id": household.id,
        "household_number": household.household_number,
        "household_type": household.household_type,
        "head_person_id": household.head_person_id,
        "address": household.address,
        "area": household.area.code,
        "version": household.version,
        "created_by": household.creator.username if household.creator else None,
        "created_at": household.created_at,
        "updated_at": household.updated_at,
    }
    if members is not None:
        view["members"] = [
            {
                "id": p.id,
                "name": p.name,
                "sex": p.sex,
                "birth_date": p.birth_date,
                "relationship_to_head": p.relationship_to_head,
            }
            for p in members
        ]
    return view
