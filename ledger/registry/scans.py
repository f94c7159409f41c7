"""Document scans: keep what OCR read, find the resident it belongs to, link it on save."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from ledger.context import Ctx
from ledger.db import new_uuid
from ledger.errors import NotFound
from ledger.files.operations import add_ref
from ledger.registry.common import field_error
from ledger.registry.idnumber import normalize_ethnicity, parse_id_number
from ledger.registry.models import DocumentScan, Person


class ScanNotFound(NotFound):
    code = "scans.not_found"
    message = "找不到该扫描记录"


def record_scan(
    ctx: Ctx,
    *,
    requested: str,
    document_type: str | None,
    engine: str,
    fields: dict[str, Any],
    warnings: list[str],
    original_file: str,
    document_file: str | None,
    portrait_file: str | None,
) -> DocumentScan:
    number = fields.get("id_number")
    bidx = None
    if number:
        try:
            bidx = ctx.pii.blind_index(parse_id_number(number).number, field="id_number")
        except Exception:  # noqa: BLE001 - an unreadable number simply has no index
            bidx = None
    scan = DocumentScan(
        id=new_uuid(),
        requested=requested,
        document_type=document_type,
        engine=engine,
        original_file=original_file,
        document_file=document_file,
        portrait_file=portrait_file,
        fields_enc=ctx.pii.encrypt(json.dumps(fields, ensure_ascii=False), field="scan_fields"),
        id_number_bidx=bidx,
        warnings=warnings,
        scanned_by=ctx.actor.id,
        area_id=ctx.scope.root_area_id,
    )
    ctx.session.add(scan)
    ctx.session.flush()
    return scan


def existing_person_id(ctx: Ctx, id_number: str | None) -> str | None:
    """The id of the resident already registered with this number, if the caller may see them."""
    if not id_number:
        return None
    try:
        number = parse_id_number(id_number).number
    except Exception:  # noqa: BLE001 - a number that fails its checks matches nobody
        return None
    bidx = ctx.pii.blind_index(number, field="id_number")
    person = ctx.session.scalar(select(Person).where(Person.id_number_bidx == bidx))
    if person is None or not ctx.scope.allows(person.area_id):
        return None
    return person.id


def link_scan(ctx: Ctx, scan_id: str, person: Person) -> DocumentScan:
    """Attach a scan to the resident created or corrected from it, sharing its photos."""
    scan = ctx.session.get(DocumentScan, scan_id)
    if scan is None or (scan.scanned_by != ctx.actor.id and not ctx.scope.allows(scan.area_id)):
        raise field_error("scan_id", "扫描记录不存在或不是您上传的")
    scan.person_id = person.id
    for sha in (scan.original_file, scan.document_file, scan.portrait_file):
        if sha:
            add_ref(
                ctx.session, sha, object_type="person", object_id=person.id, area_id=person.area_id
            )
    ctx.session.flush()
    return scan


def person_draft(
    document_type: str | None, fields: dict[str, Any], area: str | None
) -> dict[str, Any]:
    """Map recognised fields onto the Person schema so the app can prefill its form."""
    draft: dict[str, Any] = {}
    if document_type in ("id_card_front", "household_register_member"):
        for key in ("name", "sex", "birth_date", "id_number"):
            if fields.get(key):
                draft[key] = fields[key]
        if fields.get("ethnicity"):
            draft["ethnicity"] = normalize_ethnicity(fields["ethnicity"]) or fields["ethnicity"]
        if document_type == "id_card_front" and fields.get("address"):
            # The address printed on the ID card is the household-registration address.
            draft["registered_address"] = fields["address"]
        if document_type == "household_register_member" and fields.get("relationship_to_head"):
            draft["relationship_to_head"] = fields["relationship_to_head"]
        draft["residence_type"] = "户籍"
    if document_type == "household_register_home" and fields.get("address"):
        draft["registered_address"] = fields["address"]
    if area:
        draft["area"] = area
    return draft
