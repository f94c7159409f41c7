"""Person operations: register, read, edit, delete and list residents within scope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ledger.accounts.models import User
from ledger.areas.models import Area
from ledger.audit import operations as audit
from ledger.context import Ctx
from ledger.db import atomic, new_uuid, utcnow
from ledger.errors import InvalidInput
from ledger.registry.common import (
    check_version,
    client_id,
    field_error,
    grid_in_scope,
    newest_first_page,
    normalize_phone,
)
from ledger.registry.errors import (
    DuplicateIdNumber,
    DuplicateRecordId,
    PersonNotFound,
    RegistryInvalid,
)
from ledger.registry.idnumber import (
    mask_id_number,
    mask_phone,
    normalize_ethnicity,
    parse_id_number,
)
from ledger.registry.models import Household, Person, PersonTag
from ledger.registry.scans import link_scan

PLAIN_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "registered_address",
    "current_address",
    "residence_type",
    "relationship_to_head",
    "notes",
)


def _household_in_scope(ctx: Ctx, household_id: str | None) -> Household | None:
    if household_id is None:
        return None
    household = ctx.session.get(Household, household_id)
    if household is None or not ctx.scope.allows(household.area_id):
        raise field_error("household_id", "该户不存在或不在您负责的范围内")
    return household


def _find_by_id_number(session: Session, bidx: str) -> Person | None:
    return session.scalar(select(Person).where(Person.id_number_bidx == bidx))


def _apply(ctx: Ctx, person: Person, data: dict[str, Any], unique_checked: bool = False) -> None:
    """Copy validated fields onto ``person``, enforcing rules that span several fields."""
    # The lookups below must not flush a half-applied change: each flush of a resident is a
    # new version, and its values would not yet agree with each other.
    with ctx.session.no_autoflush:
        _assign(ctx, person, data, unique_checked)


def _assign(ctx: Ctx, person: Person, data: dict[str, Any], unique_checked: bool) -> None:
    for key in PLAIN_FIELDS:
        if key in data:
            value = data[key]
            setattr(person, key, value.strip() if isinstance(value, str) else value)
    if "ethnicity" in data:
        value = data["ethnicity"]
        if value in (None, ""):
            person.ethnicity = None
        else:
            person.ethnicity = normalize_ethnicity(value)
            if person.ethnicity is None:
                raise field_error("ethnicity", "民族应为56个民族之一，例如：汉")
    if "tags" in data:
        tags = []
        for tag in data["tags"] or []:
            tag = str(tag).strip()
            if tag and tag not in tags:
                tags.append(tag)
        person.tags = tags
    if "area" in data:
        person.area = grid_in_scope(ctx, data["area"])
        person.area_id = person.area.id
    if "household_id" in data:
        household = _household_in_scope(ctx, data["household_id"])
        new_id = household.id if household else None
        if person.household_id is not None and person.household_id != new_id:
            # A head who leaves their household is no longer its head.
            for old in ctx.session.scalars(
                select(Household).where(
                    Household.id == person.household_id, Household.head_person_id == person.id
                )
            ):
                old.head_person_id = None
        person.household_id = new_id
    if "phone" in data:
        phone = data["phone"]
        if phone in (None, ""):
            person.phone_enc = person.phone_bidx = None
        else:
            phone = normalize_phone(phone)
            person.phone_enc = ctx.pii.encrypt(phone, field="phone")
            person.phone_bidx = ctx.pii.blind_index(phone, field="phone")
    if "id_number" in data:
        _apply_id_number(ctx, person, data, unique_checked)
    elif person.id_number_enc is not None and ({"sex", "birth_date"} & data.keys()):
        # An edit of sex or birth date must still agree with the stored ID number.
        info = parse_id_number(ctx.pii.decrypt(person.id_number_enc, field="id_number"))
        _check_agrees(person, info, data.keys())
    if not person.sex and person.id_number_enc is None:
        raise field_error("sex", "请填写性别（男/女），或填写身份证号自动识别")
    if person.birth_date and person.birth_date > date.today():
        raise field_error("birth_date", "出生日期不能晚于今天")


def _check_agrees(person: Person, info, given: set[str] | frozenset[str]) -> None:
    """Fields sent along with the ID number must match it; the rest are derived from it."""
    errors: dict[str, list[str]] = {}
    if "birth_date" in given and person.birth_date and person.birth_date != info.birth_date:
        errors["birth_date"] = [
            f"出生日期与身份证号不一致（证号显示 {info.birth_date.isoformat()}）"
        ]
    if "sex" in given and person.sex and person.sex != info.sex:
        errors["sex"] = [f"性别与身份证号不一致（证号显示 {info.sex}）"]
    if errors:
        raise RegistryInvalid("身份证号与出生日期或性别不一致，请核对", details={"fields": errors})
    person.birth_date = info.birth_date
    person.sex = info.sex


def _apply_id_number(ctx: Ctx, person: Person, data: dict[str, Any], unique_checked: bool) -> None:
    raw = data["id_number"]
    if raw in (None, ""):
        person.id_number_enc = person.id_number_bidx = None
        return
    try:
        info = parse_id_number(raw)
    except InvalidInput as exc:
        # Re-key the domain error to the field so the app can highlight the input box.
        details = {"fields": {"id_number": [exc.message]}, **exc.details}
        raise RegistryInvalid(
            exc.message, code="people.invalid_id_number", details=details
        ) from None
    _check_agrees(person, info, data.keys())
    bidx = ctx.pii.blind_index(info.number, field="id_number")
    existing = None if unique_checked else _find_by_id_number(ctx.session, bidx)
    if existing is not None and existing.id != person.id:
        raise DuplicateIdNumber(details={"existing_id": existing.id})
    person.id_number_enc = ctx.pii.encrypt(info.number, field="id_number")
    person.id_number_bidx = bidx


def create_person(ctx: Ctx, data: dict[str, Any]) -> Person:
    """Register a resident; the id may come from the client so offline records keep it."""
    record_id = client_id(data.get("id")) or new_uuid()
    if ctx.session.get(Person, record_id) is not None:
        raise DuplicateRecordId(details={"existing_id": record_id})
    scan_id = data.pop("scan_id", None)
    person = _new_person(ctx, record_id, data)
    with _saving(ctx, person):
        _apply(ctx, person, data)
        ctx.session.add(person)
    if scan_id:
        link_scan(ctx, str(scan_id), person)
    return person


def build_person(ctx: Ctx, record_id: str, data: dict[str, Any]) -> Person:
    """Validate a new resident without adding it to the session, for bulk registration:
    the caller writes it.

    The caller has checked that neither the id nor the ID number exists yet; the unique
    indexes still guard against a concurrent writer, failing the caller's write.
    """
    person = _new_person(ctx, record_id, data)
    _apply(ctx, person, data, unique_checked=True)
    return person


def _new_person(ctx: Ctx, record_id: str, data: dict[str, Any]) -> Person:
    if not data.get("area"):
        raise field_error("area", "请选择所属网格")
    person = Person(id=record_id, created_by=ctx.actor.id, version=1)
    person.created_at = person.updated_at = utcnow()
    return person


@contextmanager
def _saving(ctx: Ctx, person: Person) -> Iterator[None]:
    """Apply and flush atomically; a concurrent duplicate gets the same 409 as the pre-check."""
    attempted: dict[str, str | None] = {}

    def duplicate_error() -> Exception:
        bidx = attempted.get("bidx")
        existing = _find_by_id_number(ctx.session, bidx) if bidx else None
        if existing is not None:
            return DuplicateIdNumber(details={"existing_id": existing.id})
        return DuplicateRecordId(details={"existing_id": attempted.get("id")})

    with atomic(ctx.session, duplicate_error):
        yield
        attempted.update(bidx=person.id_number_bidx, id=person.id)


def get_person(ctx: Ctx, person_id: str) -> Person:
    person = ctx.session.get(Person, person_id)
    if person is None or not ctx.scope.allows(person.area_id):
        raise PersonNotFound(details={"id": person_id})
    return person


def update_person(
    ctx: Ctx, person_id: str, changes: dict[str, Any], expected_version: int | None
) -> Person:
    person = get_person(ctx, person_id)
    check_version(person.version, expected_version)
    scan_id = changes.get("scan_id")
    changes = {k: v for k, v in changes.items() if k not in ("id", "scan_id")}
    with _saving(ctx, person):
        _apply(ctx, person, changes)
        person.updated_at = utcnow()
    if scan_id:
        link_scan(ctx, str(scan_id), person)
    return person


def patch_person(ctx: Ctx, person: Person, changes: dict[str, Any]) -> None:
    """Validate changes and apply them to a loaded resident unflushed, for bulk sync.

    The caller has checked scope and version, and expires the resident if this raises; the
    unique index on the ID number still guards the caller's flush against a concurrent writer.
    """
    _apply(ctx, person, changes)
    person.updated_at = utcnow()


def delete_person(ctx: Ctx, person_id: str, expected_version: int | None = None) -> None:
    person = get_person(ctx, person_id)
    check_version(person.version, expected_version)
    for household in ctx.session.scalars(
        select(Household).where(Household.head_person_id == person.id)
    ):
        household.head_person_id = None
    _audit_delete(ctx, person)
    with atomic(ctx.session, lambda: PersonNotFound(details={"id": person_id})):
        ctx.session.delete(person)


def delete_people(ctx: Ctx, people: list[Person]) -> None:
    """Delete loaded residents together, for bulk sync, each audited as ``delete_person``
    audits it; unflushed. The caller has checked scope, role and versions."""
    ids = [p.id for p in people]
    for start in range(0, len(ids), 500):
        for household in ctx.session.scalars(
            select(Household).where(Household.head_person_id.in_(ids[start : start + 500]))
        ):
            household.head_person_id = None
    for person in people:
        _audit_delete(ctx, person, flush=False)
        ctx.session.delete(person)


def _audit_delete(ctx: Ctx, person: Person, flush: bool = True) -> None:
    details = {"name": person.name, "area": person.area.code, "version": person.version}
    audit.record(ctx.session, ctx.actor, "person.delete", object_type="person",
                 object_id=person.id, details=details, flush=flush)  # fmt: skip


@dataclass
class PeopleFilter:
    area: str | None = None
    tag: str | None = None
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    household_id: str | None = None


def list_people(
    ctx: Ctx, filters: PeopleFilter, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[Person], str | None]:
    """Newest first, keyset-paginated so deep pages cost the same as the first."""
    # The creator's own area is not shown in lists; skip joining it for every row.
    stmt = (
        select(Person)
        .options(joinedload(Person.creator).lazyload(User.area))
        .where(ctx.scope.filter(Person.area_id))
    )
    if filters.area:
        area = ctx.session.scalar(select(Area).where(Area.code == filters.area))
        if area is None or not ctx.scope.allows(area.id):
            return [], None
        subtree = select(Area.id).where(Area.path.startswith(area.path))
        stmt = stmt.where(
            Person.area_id == area.id if area.level == "grid" else Person.area_id.in_(subtree)
        )
    if filters.tag:
        stmt = stmt.where(
            Person.id.in_(select(PersonTag.person_id).where(PersonTag.tag == filters.tag))
        )
    if filters.name:
        stmt = stmt.where(Person.name.startswith(filters.name.strip(), autoescape=True))
    if filters.id_number:
        try:
            number = parse_id_number(filters.id_number).number
        except InvalidInput:
            return [], None
        stmt = stmt.where(Person.id_number_bidx == ctx.pii.blind_index(number, field="id_number"))
    if filters.phone:
        try:
            phone = normalize_phone(filters.phone)
        except RegistryInvalid:
            return [], None
        stmt = stmt.where(Person.phone_bidx == ctx.pii.blind_index(phone, field="phone"))
    if filters.household_id:
        stmt = stmt.where(Person.household_id == filters.household_id)
    return newest_first_page(ctx.session, stmt, Person, limit, cursor)


def person_view(ctx: Ctx, person: Person, *, reveal: bool = False) -> dict[str, Any]:
    """The API shape of a person, with ID number and phone masked unless ``reveal``."""
    id_number = ctx.pii.decrypt(person.id_number_enc, field="id_number")
    phone = ctx.pii.decrypt(person.phone_enc, field="phone")
    return {
        "id": person.id,
        "name": person.name,
        "sex": person.sex,
        "ethnicity": person.ethnicity,
        "birth_date": person.birth_date,
        "id_number": id_number if reveal else mask_id_number(id_number),
        "phone": phone if reveal else mask_phone(phone),
        "registered_address": person.registered_address,
        "current_address": person.current_address,
        "residence_type": person.residence_type,
        "tags": person.tags,
        "area": person.area.code,
        "household_id": person.household_id,
        "relationship_to_head": person.relationship_to_head,
        "notes": person.notes,
        "version": person.version,
        "created_by": person.creator.username if person.creator else None,
        "created_at": person.created_at,
        "updated_at": person.updated_at,
        "masked": not reveal,
    }


def reveal_person(ctx: Ctx, person_id: str) -> dict[str, Any]:
    """Full ID number and phone, with an audit entry saying who looked."""
    person = get_person(ctx, person_id)
    audit.record(
        ctx.session,
        ctx.actor,
        "person.reveal",
        object_type="person",
        object_id=person.id,
        details={"fields": ["id_number", "phone"], "area": person.area.code},
    )
    return person_view(ctx, person, reveal=True)
