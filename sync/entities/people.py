"""People (实有人口) as a syncable entity; the dedupe key is the ID number's blind index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ledger.context import Ctx
from ledger.registry import people as ops
from ledger.registry.idnumber import ID_PATTERN, mask_id_number, mask_phone, normalize_id_number
from ledger.registry.models import Person
from sync.entities.common import convert, plain, rows_with_area_code
from sync.registry import Snapshot, SyncEntity, register

KINDS = {
    "name": "str",
    "sex": "str",
    "ethnicity": "str",
    "birth_date": "date",
    "id_number": "str",
    "phone": "str",
    "registered_address": "str",
    "current_address": "str",
    "residence_type": "str",
    "tags": "tags",
    "area": "str",
    "household_id": "str",
    "relationship_to_head": "str",
    "notes": "str",
}
COLUMNS = {
    "name": "name",
    "sex": "sex",
    "ethnicity": "ethnicity",
    "birth_date": "birth_date",
    "id_number_bidx": "id_number",
    "phone_bidx": "phone",
    "registered_address": "registered_address",
    "current_address": "current_address",
    "residence_type": "residence_type",
    "tag_list": "tags",
    "area_id": "area",
    "household_id": "household_id",
    "relationship_to_head": "relationship_to_head",
    "notes": "notes",
}


def dedupe_key(ctx: Ctx, fields: dict[str, Any]) -> str | None:
    """The ID number's blind index; None without one shaped like a number. Only the shape is
    checked: a number that fails validation matches no stored one, and its create is
    rejected with the field error."""
    raw = fields.get("id_number")
    if not raw or not isinstance(raw, str | int) or isinstance(raw, bool):
        return None
    number = normalize_id_number(str(raw))
    if not ID_PATTERN.fullmatch(number):
        return None
    return ctx.pii.blind_index(number, field="id_number")


def dedupe(ctx: Ctx, fields: dict[str, Any]) -> Person | None:
    bidx = dedupe_key(ctx, fields)
    if bidx is None:
        return None
    return ctx.session.scalar(select(Person).where(Person.id_number_bidx == bidx))


def dedupe_taken(ctx: Ctx, keys: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        taken.update(
            ctx.session.scalars(
                select(Person.id_number_bidx).where(Person.id_number_bidx.in_(chunk))
            )
        )
    return taken


def create(ctx: Ctx, record_id: str, fields: dict[str, Any]) -> Person:
    return ops.create_person(ctx, {**convert(fields, KINDS), "id": record_id})


def build(ctx: Ctx, record_id: str, fields: dict[str, Any]) -> Person:
    return ops.build_person(ctx, record_id, convert(fields, KINDS))


def update(ctx: Ctx, person: Person, fields: dict[str, Any]) -> None:
    ops.update_person(ctx, person.id, convert(fields, KINDS), None)


def patch(ctx: Ctx, person: Person, fields: dict[str, Any]) -> None:
    ops.patch_person(ctx, person, convert(fields, KINDS))


def delete(ctx: Ctx, person: Person) -> None:
    ops.delete_person(ctx, person.id)


def delete_many(ctx: Ctx, people: list[Person]) -> None:
    ops.delete_people(ctx, people)


def read(ctx: Ctx, person: Person) -> dict[str, Any]:
    return _fields(ctx, person, person.area.code)


def _fields(ctx: Ctx, values: Any, area_code: str, personal: bool = True) -> dict[str, Any]:
    """A resident's sync fields, masked, from a Person or a row of the people table.

    ``personal=False`` leaves the ID number and phone undecrypted (None), for comparing a
    push that sent neither."""
    decrypt = ctx.pii.decrypt
    return {
        "name": plain(values.name),
        "sex": plain(values.sex),
        "ethnicity": plain(values.ethnicity),
        "birth_date": plain(values.birth_date),
        "id_number": plain(mask_id_number(decrypt(values.id_number_enc, field="id_number")))
        if personal
        else None,
        "phone": plain(mask_phone(decrypt(values.phone_enc, field="phone"))) if personal else None,
        "registered_address": plain(values.registered_address),
        "current_address": plain(values.current_address),
        "residence_type": plain(values.residence_type),
        "tags": list(values.tag_list or []),
        "area": area_code,
        "household_id": plain(values.household_id),
        "relationship_to_head": plain(values.relationship_to_head),
        "notes": plain(values.notes),
    }


_READ_COLUMNS = (
    "name", "sex", "ethnicity", "birth_date", "id_number_enc", "phone_enc",
    "registered_address", "current_address", "residence_type", "tags", "household_id",
    "relationship_to_head", "notes",
)  # fmt: skip


def read_many(ctx: Ctx, ids: list[str]) -> dict[str, Snapshot]:
    """Many residents as devices receive them, read as rows: a pull page is 500 of them."""
    table = Person.__table__
    columns = [table.c[name].label("tag_list" if name == "tags" else name)
               for name in _READ_COLUMNS]  # fmt: skip
    return {
        row.id: Snapshot(row.area_id, row.version, _fields(ctx, row, row.area_code))
        for row in rows_with_area_code(ctx, Person, columns, ids)
    }


def changed(ctx: Ctx, person: Person, fields: dict[str, Any]) -> dict[str, Any]:
    """The pushed fields whose values differ from the stored ones (read and decrypted once)."""
    # Only what the push sent: the grid's code and the decrypted numbers cost a lookup and
    # two decryptions per record, and most edits touch neither.
    area_code = person.area.code if "area" in fields else ""
    current = _fields(ctx, person, area_code, personal=bool({"id_number", "phone"} & set(fields)))
    secrets = {
        key: ctx.pii.decrypt(getattr(person, f"{key}_enc"), field=key)
        for key in ("id_number", "phone")
        if key in fields
    }
    out = {}
    for key, value in fields.items():
        if key in secrets:
            stored = secrets[key]
            # A device only ever received the masked value; sending it back changes nothing.
            same = plain(value) in (plain(stored), current[key]) or (
                key == "id_number" and stored is not None and str(value).upper() == stored
            )
        else:
            same = plain(value) == current.get(key)
        if not same:
            out[key] = value
    return out


ENTITY = register(
    SyncEntity(
        name="person",
        table="people",
        model=Person,
        fields=tuple(KINDS),
        columns=COLUMNS,
        area_of=lambda person: person.area_id,
        dedupe=dedupe,
        create=create,
        update=update,
        delete=delete,
        read=read,
        read_many=read_many,
        changed=changed,
        write_permission="people.write",
        delete_permission="people.delete",
        personal=("id_number", "phone"),
        json_fields=("tags",),
        build=build,
        dedupe_key=dedupe_key,
        dedupe_taken=dedupe_taken,
        patch=patch,
        # Moving a resident between households may change who heads the old one.
        patch_excludes=("household_id",),
        delete_many=delete_many,
    )
)
