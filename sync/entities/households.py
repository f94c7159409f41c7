"""Households (户) as a syncable entity; the dedupe key is the 户号."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ledger.context import Ctx
from ledger.registry import households as ops
from ledger.registry.models import Household
from sync.entities.common import convert, plain
from sync.registry import SyncEntity, register

KINDS = {
    "household_number": "str",
    "household_type": "str",
    "head_person_id": "str",
    "address": "str",
    "area": "str",
}
COLUMNS = {
    "household_number": "household_number",
    "household_type": "household_type",
    "head_person_id": "head_person_id",
    "address": "address",
    "area_id": "area",
}


def dedupe(ctx: Ctx, fields: dict[str, Any]) -> Household | None:
    number = (
        (fields.get("household_number") or "").strip()
        if isinstance(fields.get("household_number"), str)
        else None
    )
    if not number:
        return None
    return ctx.session.scalar(select(Household).where(Household.household_number == number))


def create(ctx: Ctx, record_id: str, fields: dict[str, Any]) -> Household:
    return ops.create_household(ctx, {**convert(fields, KINDS), "id": record_id})


def update(ctx: Ctx, household: Household, fields: dict[str, Any]) -> None:
    ops.update_household(ctx, household.id, convert(fields, KINDS), None)


def delete(ctx: Ctx, household: Household) -> None:
    ops.delete_household(ctx, household.id)


def read(ctx: Ctx, household: Household) -> dict[str, Any]:
    return {
        "household_number": household.household_number,
        "household_type": household.household_type,
        "head_person_id": household.head_person_id,
        "address": plain(household.address),
        "area": household.area.code,
    }


def changed(ctx: Ctx, household: Household, fields: dict[str, Any]) -> dict[str, Any]:
    current = read(ctx, household)
    return {k: v for k, v in fields.items() if plain(v) != current.get(k)}


ENTITY = register(
    SyncEntity(
        name="household",
        table="households",
        model=Household,
        fields=tuple(KINDS),
        columns=COLUMNS,
        area_of=lambda household: household.area_id,
        dedupe=dedupe,
        create=create,
        update=update,
        delete=delete,
        read=read,
        changed=changed,
        write_permission="households.write",
        delete_permission="households.delete",
    )
)
