"""Conflicts for community staff: list those in scope, resolve one into a new version."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update

from ledger.audit import operations as audit
from ledger.context import Ctx
from ledger.db import utcnow
from ledger.registry.idnumber import MASKS
from sync import registry
from sync.errors import ConflictClosed, ConflictNotFound
from sync.models import SyncConflict, SyncRecordMeta
from sync.registry import SyncEntity

CHOICES = ("server", "client", "custom")


def _values(ctx: Ctx, conflict: SyncConflict) -> dict[str, dict[str, Any]]:
    return json.loads(ctx.pii.decrypt(conflict.values_enc, field="sync_conflict"))


def _masked(entity: SyncEntity | None, values: dict[str, Any]) -> dict[str, Any]:
    if entity is None:
        return values
    if entity.mask is not None:
        values = entity.mask(values)
    return {
        k: (MASKS[k](v) if k in entity.personal and k in MASKS and v else v)
        for k, v in values.items()
    }


def conflict_view(ctx: Ctx, conflict: SyncConflict) -> dict[str, Any]:
    entity = registry.get(conflict.entity)
    values = _values(ctx, conflict)
    return {
        "id": conflict.id,
        "entity": conflict.entity,
        "record_id": conflict.record_id,
        "kind": conflict.kind,
        "status": conflict.status,
        "device_id": conflict.device_id,
        "base_version": conflict.base_version,
        "server_version": conflict.server_version,
        "client": _masked(entity, values.get("client", {})),
        "server": _masked(entity, values.get("server", {})),
        "resolution": conflict.resolution,
        "created_at": conflict.created_at,
        "resolved_at": conflict.resolved_at,
    }


def list_conflicts(ctx: Ctx, *, status: str = "open", limit: int = 100) -> list[SyncConflict]:
    query = (
        select(SyncConflict)
        .where(ctx.scope.filter(SyncConflict.area_id))
        .order_by(SyncConflict.created_at, SyncConflict.id)
        .limit(max(1, min(limit, 500)))
    )
    if status != "all":
        query = query.where(SyncConflict.status == status)
    return list(ctx.session.scalars(query))


def get_conflict(ctx: Ctx, conflict_id: str) -> SyncConflict:
    conflict = ctx.session.get(SyncConflict, conflict_id, with_for_update={"of": SyncConflict})
    if conflict is None or not ctx.scope.allows(conflict.area_id):
        raise ConflictNotFound(details={"id": conflict_id})
    return conflict


def resolve(ctx: Ctx, conflict_id: str, choice: str, fields: dict[str, Any] | None) -> dict:
    """Settle a conflict. Every choice writes a new version of the record, so the outcome
    reaches every device, including the one whose value lost."""
    conflict = get_conflict(ctx, conflict_id)
    if conflict.status != "open":
        raise ConflictClosed(details={"id": conflict_id, "resolution": conflict.resolution})
    entity = registry.get(conflict.entity)
    values = _values(ctx, conflict)
    record = ctx.session.get(entity.model, conflict.record_id) if conflict.record_id else None
    if choice == "client":
        chosen = values.get("client", {})
    elif choice == "custom":
        chosen = dict(fields or {})
    else:
        chosen = {}
    if conflict.kind == "delete" and choice == "client":
        if record is not None:
            entity.delete(ctx, record)
            record = None
    elif conflict.kind == "deleted" and record is None and choice != "server":
        record = entity.create(ctx, conflict.record_id, chosen)
    elif record is not None:
        before = record.version
        if chosen:
            entity.update(ctx, record, chosen)
            ctx.session.flush()
        if record.version == before:
            # A new version even when the server's value stands: devices holding the
            # losing value pull the record again. One version, not one per step.
            record.updated_at = utcnow()
    ctx.session.flush()
    conflict.status = "resolved"
    conflict.resolution = choice
    conflict.resolved_by = ctx.actor.id
    conflict.resolved_at = utcnow()
    ctx.session.execute(
        update(SyncRecordMeta)
        .where(
            SyncRecordMeta.entity == conflict.entity,
            SyncRecordMeta.record_id == conflict.record_id,
            SyncRecordMeta.open_conflicts > 0,
        )
        .values(open_conflicts=SyncRecordMeta.open_conflicts - 1)
    )
    audit.record(
        ctx.session,
        ctx.actor,
        "sync.conflict.resolve",
        object_type=conflict.entity,
        object_id=conflict.record_id,
        details={"conflict_id": conflict.id, "choice": choice, "fields": sorted(chosen)},
    )
    view = conflict_view(ctx, conflict)
    view["record_version"] = record.version if record is not None else None
    return view
