"""Ledger entries (台账记录) as a syncable entity: a visit logged in a basement syncs later.

Sync fields: ``ledger`` (the template code, fixed once created), ``area``, ``template_version``
(read-only: an entry validates against the version it was made with) and ``data``, the
entry's values as one JSON object. An edit sends only the keys it changed inside ``data``,
and only those are applied. Values are versioned key by key: a stale edit merges unless
somebody else changed the same key since, and only such keys become a conflict for staff.
"""

from __future__ import annotations

import re
from typing import Any

from ledger.context import Ctx
from ledger.files.blobstore import is_sha256
from ledger.ledgers import entries as ops
from ledger.ledgers.fields import PERSONAL
from ledger.ledgers.models import LedgerEntry, LedgerTemplate
from ledger.registry.idnumber import (
    is_valid_id_number,
    mask_id_number,
    mask_phone,
    normalize_id_number,
)
from sync.entities.common import field_errors, plain
from sync.registry import SyncEntity, register

FIELDS = ("ledger", "area", "template_version", "data")
COLUMNS = {
    "template_id": "ledger",
    "area_id": "area",
    "template_version": "template_version",
    "data": "data",
    # ID numbers and phones live encrypted beside ``data`` but travel inside it.
    "personal_enc": "data",
}


def _template(ctx: Ctx, entry: LedgerEntry) -> LedgerTemplate:
    return ctx.session.get(LedgerTemplate, entry.template_id)


def _data(fields: dict[str, Any]) -> dict[str, Any]:
    data = fields.get("data")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise field_errors({"data": "应为对象"})
    return data


def create(ctx: Ctx, record_id: str, fields: dict[str, Any]) -> LedgerEntry:
    if not isinstance(fields.get("ledger"), str) or not fields["ledger"]:
        raise field_errors({"ledger": "请指定台账"})
    body = {"id": record_id, "area": fields.get("area"), "data": _data(fields)}
    return ops.create_entry(ctx, fields["ledger"], body)[1]


def update(ctx: Ctx, entry: LedgerEntry, fields: dict[str, Any]) -> None:
    template = _template(ctx, entry)
    if "ledger" in fields and fields["ledger"] != template.code:
        raise field_errors({"ledger": "记录所属台账不能更改"})
    body: dict[str, Any] = {"data": _data(fields)}
    if fields.get("area"):
        body["area"] = fields["area"]
    ops.update_entry(ctx, template.code, entry.id, body, None)


def delete(ctx: Ctx, entry: LedgerEntry) -> None:
    ops.delete_entry(ctx, _template(ctx, entry).code, entry.id, None)


def read(ctx: Ctx, entry: LedgerEntry) -> dict[str, Any]:
    template = _template(ctx, entry)
    view = ops.entry_view(ctx, template, entry)
    return {
        "ledger": template.code,
        "area": view["area"],
        "template_version": entry.template_version,
        "data": view["data"],
    }


def changed(ctx: Ctx, entry: LedgerEntry, fields: dict[str, Any]) -> dict[str, Any]:
    """The pushed fields that differ; inside ``data`` only the keys that differ. A masked
    ID number or phone sent back is no change (the device never had the full value)."""
    current = read(ctx, entry)
    out: dict[str, Any] = {}
    for key in ("ledger", "area"):
        if key in fields and plain(fields[key]) != current[key]:
            out[key] = fields[key]
    if "data" in fields:
        pushed = fields["data"]
        if not isinstance(pushed, dict):
            out["data"] = pushed  # rejected with a field error on update
            return out
        template = _template(ctx, entry)
        personal = {
            f["key"] for f in template.fields_of(entry.template_version) if f["type"] in PERSONAL
        }
        stored = ops.entry_values(ctx, entry) if personal & set(pushed) else {}
        diff = {}
        for key, value in pushed.items():
            if key in personal and value in (current["data"].get(key), stored.get(key)):
                continue
            if plain(value) != plain(current["data"].get(key)):
                diff[key] = value
        if diff:
            out["data"] = diff
    return out


_MOBILE = re.compile(r"1\d{10}")


def mask(fields: dict[str, Any]) -> dict[str, Any]:
    """Conflicts keep what a device sent, ID numbers typed in full included: listings show
    any value inside ``data`` that is an ID number or a mobile number masked."""
    data = fields.get("data")
    if not isinstance(data, dict):
        return fields
    shown = {}
    for key, value in data.items():
        if isinstance(value, str) and is_valid_id_number(value):
            value = mask_id_number(normalize_id_number(value))
        elif isinstance(value, str) and _MOBILE.fullmatch(value.strip()):
            value = mask_phone(value.strip())
        shown[key] = value
    return {**fields, "data": shown}


def file_refs(fields: dict[str, Any]) -> list[str]:
    """Photos and files an entry's values name (lists of sha256, any letter case)."""
    data = fields.get("data")
    if not isinstance(data, dict):
        return []
    refs = []
    for value in data.values():
        for item in value if isinstance(value, list) else []:
            digest = item.strip().lower() if isinstance(item, str) else ""
            if is_sha256(digest):
                refs.append(digest)
    return refs


def changed_keys(entry: LedgerEntry) -> set[str]:
    keys = entry.__dict__.pop("changed_keys", ())
    return {f"data.{key}" for key in keys}


ENTITY = register(
    SyncEntity(
        name="ledger_entry",
        table="ledger_entries",
        model=LedgerEntry,
        fields=FIELDS,
        columns=COLUMNS,
        area_of=lambda entry: entry.area_id,
        # Entries carry the device's own ids; nothing else identifies a duplicate.
        dedupe=lambda ctx, fields: None,
        create=create,
        update=update,
        delete=delete,
        read=read,
        changed=changed,
        write_permission="ledgers.write",
        delete_permission="ledgers.delete",
        file_refs=file_refs,
        mask=mask,
        json_fields=("data",),
        keyed=("data",),
        changed_keys=changed_keys,
    )
)
