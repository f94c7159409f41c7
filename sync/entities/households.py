"""Households (户) as a syncable entity; the dedupe key is the 户号."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ledger.context import Ctx
from ledger.registry import households as ops
from ledger.registry.models import Household
from sync.entities.common import convert, plain, rows_with_area_code
from sync.registry import Snapshot, SyncEntity, register

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
    return _fields(household, household.area.code)


def _fields(values: Any, area_code: str) -> dict[str, Any]:
    """A household's sync fields, from a Household or a row of the households table."""
    return {
        "household_number": values.household_number,
        "household_type": values.household_type,
        "head_person_id": values.head_person_id,
        "address": plain(values.address),
        "area": area_code,
    }


def read_many(ctx: Ctx, ids: list[str]) -> dict[str, Snapshot]:
    """Many households as devices receive them, read as rows (a pull page)."""
    table = Household.__table__
    columns = [table.c.household_number, table.c.household_type, table.c.head_person_id,
               table.c.address]  # fmt: skip
    return {
        row.id: Snapshot(row.area_id, row.version, _fields(row, row.area_code))
        for row in rows_with_area_code(ctx, Household, columns, ids)
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
        read_many=read_many,
        changed=changed,
        write_permission="households.write",
        delete_permission="households.delete",
    )
)
