"""WatermelonDB's sync protocol served by the same engine: timestamps in ms, whole-batch pushes.

A WatermelonDB app calls ``synchronize()`` with a ``pullChanges`` and a ``pushChanges`` that
talk to these two functions. Pull sends every record as ``updated`` (the app sets
``sendCreatedAsUpdated: true``), so a device that created and deleted a record never gets it
back. Push refuses the whole batch with ``SyncStale`` when one of its records changed after the
device's ``last_pulled_at``: the app pulls, WatermelonDB merges its local edits on top, and the
retry goes through.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select

from ledger.context import Ctx
from sync import pull as native_pull
from sync import push as native_push
from sync import registry, tracking
from sync.errors import SyncInvalid, SyncStale
from sync.models import SyncChange, SyncMutation, SyncRemap
from sync.registry import SyncEntity

# Mutation ids of a push are derived from its content, so an HTTP retry of a push that did
# commit is recognised as a replay instead of a stale batch.
_NAMESPACE = uuid.UUID("0b5a1c52-57c4-4d2e-9d8c-3f1f2a8e7b61")
# WatermelonDB pushes every local change in one request and cannot split it, so a cap it
# hits would stop that phone from syncing for good. This one is a month of a busy grid
# offline, about 10 s to apply (bench/sync_bench.py: 2,000 mutations/s).
MAX_RECORDS = 20_000


def record_id(value: Any) -> str | None:
    """A record id as the device must send it: a UUID in canonical form (the app sets
    WatermelonDB's id generator to UUIDs), so the server never renames a device's record."""
    return value if isinstance(value, str) and native_push.uuid_text(value) == value else None


# ---------------------------------------------------------------- pull


def pull(ctx: Ctx, last_pulled_at: int | None, migration: dict | None = None) -> dict[str, Any]:
    """Changes in the caller's areas after ``last_pulled_at`` (all records when None).

    The timestamp is the clock's tick as read here, and the read is bounded by it: changes
    commit together with the clock, so every change at or below the tick is already visible
    and none can later appear below it. That gives the consistency of reading under the clock
    lock without making pulls wait for pushes that hold it.
    """
    now = native_pull.clock(ctx)
    stamp = max(now.ms, 1)
    tables = {e.table: {"created": [], "updated": {}, "deleted": []} for e in registry.entities()}
    # A timestamp this server never gave out (restored database) or one older than the purged
    # tombstones cannot be continued: send everything and let the device drop the rest.
    reset = last_pulled_at is not None and (
        last_pulled_at > stamp or (now.floor_ms and last_pulled_at < now.floor_ms)
    )
    since = None if reset else last_pulled_at
    _add(ctx, tables, _changed_rows(ctx, since, now.ms), full=since is None)
    if since is not None:
        fresh = _migrated(migration)
        if fresh:
            # New tables or columns on the device after a schema migration: fill them in.
            rows = _changed_rows(ctx, None, now.ms, entities=fresh)
            _add(ctx, tables, rows, full=True)
        for remap in ctx.session.scalars(
            select(SyncRemap)
            .where(SyncRemap.ms > since, SyncRemap.ms <= now.ms)
            .where(ctx.scope.filter(SyncRemap.area_id))
        ):
            # The device's copy was merged into an existing record that the pull brings.
            entity = registry.get(remap.entity)
            if entity is not None:
                tables[entity.table]["deleted"].append(remap.from_id)
    changes = {
        table: {
            "created": [],
            "updated": list(item["updated"].values()),
            "deleted": sorted(set(item["deleted"]) - set(item["updated"])),
        }
        for table, item in tables.items()
    }
    out: dict[str, Any] = {"changes": changes, "timestamp": stamp}
    if reset:
        # WatermelonDB then deletes local records the pull does not bring (keeping unsent
        # creations): exactly a reset.
        out["experimentalStrategy"] = "replacement"
    return out


def _migrated(migration: dict | None) -> set[str]:
    if not isinstance(migration, dict):
        return set()
    tables = {t for t in migration.get("tables") or [] if isinstance(t, str)}
    for item in migration.get("columns") or []:
        if isinstance(item, dict) and isinstance(item.get("table"), str):
            tables.add(item["table"])
    return {e.name for e in registry.entities() if e.table in tables}


def _changed_rows(ctx: Ctx, since: int | None, upto: int, entities: Iterable[str] = ()):
    query = (
        select(SyncChange.seq, SyncChange.entity, SyncChange.record_id)
        .where(SyncChange.ms <= upto, ctx.scope.filter(SyncChange.area_id))
        .order_by(SyncChange.seq)
    )
    if since is not None:
        query = query.where(SyncChange.ms > since)
    entities = list(entities)
    if entities:
        query = query.where(SyncChange.entity.in_(entities))
    return ctx.session.execute(query).all()


def _add(ctx: Ctx, tables: dict, rows, *, full: bool) -> None:
    for change in native_pull.record_changes(ctx, rows, full=full):
        entity = registry.get(change["entity"])
        item = tables[entity.table]
        if change["op"] == "delete":
            item["deleted"].append(change["id"])
            continue
        raw = {"id": change["id"], **encode(entity, change["fields"])}
        raw["version"] = change["version"]
        raw["has_conflict"] = bool(change.get("conflict"))
        raw["missing_files"] = json.dumps(change.get("missing_files") or [])
        item["updated"][change["id"]] = raw


def encode(entity: SyncEntity, fields: dict[str, Any]) -> dict[str, Any]:
    """Field values as WatermelonDB columns hold them: lists and objects as JSON text."""
    out = dict(fields)
    for key in entity.json_fields:
        if key in out and out[key] is not None:
            out[key] = json.dumps(out[key], ensure_ascii=False)
    return out


def decode(entity: SyncEntity, fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    for key in entity.json_fields:
        value = out.get(key)
        if isinstance(value, str):
            # Text that is not JSON stays text: the entity's own check rejects it.
            with contextlib.suppress(ValueError):
                out[key] = json.loads(value) if value.strip() else None
    return out


# ---------------------------------------------------------------- push


def push(
    ctx: Ctx, device_id: str, changes: Any, last_pulled_at: int | None, allowed
) -> dict[str, Any]:
    """Apply a device's changes in one transaction, or refuse them all with ``SyncStale``.

    Records the server cannot take (invalid values, another grid, a table this server does not
    sync yet) come back in ``experimentalRejectedIds``: WatermelonDB keeps them unsynced on the
    device, and ``rejected`` says why, so the worker can fix them.
    """
    mutations, rejected = _mutations(ctx, changes, last_pulled_at)
    session = ctx.session
    tracking.lock_clock(session)
    done = _applied_before(ctx, [m["mutation_id"] for _, m in mutations])
    stale = _stale(ctx, [(table, m) for table, m in mutations if m["mutation_id"] not in done],
                   last_pulled_at)  # fmt: skip
    if stale:
        raise SyncStale(details={"records": stale})
    conflicts: dict[str, list[str]] = {}
    missing: dict[str, dict[str, list[str]]] = {}
    results = native_push.apply_all(ctx, device_id, [m for _, m in mutations], allowed, record_id)
    for (table, mutation), result in zip(mutations, results, strict=True):
        rid = mutation["id"]
        if result["status"] == "rejected":
            rejected.setdefault(table, {})[rid] = result["errors"]
        elif result["status"] in ("conflict", "duplicate") and result.get("conflict_id"):
            conflicts.setdefault(table, []).append(rid)
        if result.get("missing_files"):
            missing.setdefault(table, {})[rid] = result["missing_files"]
    out: dict[str, Any] = {
        "experimentalRejectedIds": {table: sorted(items) for table, items in rejected.items()}
    }
    if rejected:
        out["rejected"] = rejected
    if conflicts:
        out["conflicts"] = conflicts
    if missing:
        out["missing_files"] = missing
    return out


def _applied_before(ctx: Ctx, ids: list[str]) -> set[str]:
    """Which of these mutations an earlier, committed copy of this push already applied.

    Refusals are forgotten instead: nothing of them was applied, and what refused them (a
    missing area assignment, a household not yet synced) may have been fixed since.
    """
    done: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = ctx.session.execute(
            select(SyncMutation.mutation_id, SyncMutation.status).where(
                SyncMutation.mutation_id.in_(chunk)
            )
        ).all()
        refused = [mid for mid, status in rows if status == "rejected"]
        if refused:
            ctx.session.execute(delete(SyncMutation).where(SyncMutation.mutation_id.in_(refused)))
        done.update(mid for mid, status in rows if status != "rejected")
    return done


def _mutations(ctx: Ctx, changes: Any, last_pulled_at: int | None):
    """Native mutations for a WatermelonDB change set, in dependency order; and the records
    refused before any of them runs."""
    if not isinstance(changes, dict):
        raise SyncInvalid(details={"fields": {"changes": ["应为对象"]}})
    rejected: dict[str, dict[str, Any]] = {}
    upserts: list[tuple[str, dict]] = []
    deletes: list[tuple[str, dict]] = []
    count = 0
    for table, item in changes.items():
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k, []), list) for k in ("created", "updated", "deleted")
        ):
            message = "应包含 created、updated、deleted 列表"
            raise SyncInvalid(details={"fields": {str(table): [message]}})
        count += sum(len(item.get(k, [])) for k in ("created", "updated", "deleted"))
        if count > MAX_RECORDS:
            raise SyncInvalid(
                f"待同步的修改超过 {MAX_RECORDS} 条，请联系管理员导出后分批处理",
                details={"limit": MAX_RECORDS},
            )
        entity = registry.by_table(str(table))
        if entity is None:
            ids = [r.get("id") for k in ("created", "updated") for r in item.get(k, [])
                   if isinstance(r, dict)] + list(item.get("deleted", []))  # fmt: skip
            if ids:
                rejected[str(table)] = {
                    str(i): {"_": ["服务器暂不支持同步这类记录，请更新服务器后再试"]} for i in ids
                }
            continue
        for kind in ("created", "updated"):
            for raw in item.get(kind, []):
                upserts.append((entity.table, _upsert(ctx, entity, raw, kind, last_pulled_at)))
        for rid in item.get("deleted", []):
            if not isinstance(rid, str):
                raise SyncInvalid(details={"fields": {entity.table: ["删除列表应为记录编号"]}})
            mutation = _mutation(ctx, entity, "delete", rid, {}, last_pulled_at)
            deletes.append((entity.table, mutation))
    order = {e.table: i for i, e in enumerate(registry.entities())}
    upserts.sort(key=lambda pair: order[pair[0]])
    deletes.sort(key=lambda pair: -order[pair[0]])
    return upserts + deletes, rejected


def _upsert(ctx: Ctx, entity: SyncEntity, raw: Any, kind: str, last_pulled_at) -> dict:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise SyncInvalid(details={"fields": {entity.table: ["每条记录应为带 id 的对象"]}})
    columns = set(entity.fields)
    changed = raw.get("_changed")
    if kind == "updated" and isinstance(changed, str) and changed:
        # Only what the device changed: its other columns are what it last pulled.
        columns &= {c.strip() for c in changed.split(",")}
    # Columns the server does not sync (local-only ones, WatermelonDB's own) are ignored.
    fields = decode(entity, {k: raw[k] for k in columns if k in raw})
    return _mutation(ctx, entity, "upsert", raw.get("id"), fields, last_pulled_at)


def _mutation(ctx: Ctx, entity: SyncEntity, op: str, rid: Any, fields: dict, last_pulled_at):
    content = json.dumps(
        [ctx.actor.id, last_pulled_at, entity.name, op, rid, fields],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return {
        "mutation_id": str(uuid.uuid5(_NAMESPACE, content)),
        "entity": entity.name,
        "op": op,
        "id": rid,
        "base_version": None,
        "fields": fields,
    }


def _stale(ctx: Ctx, pending: list[tuple[str, dict]], last_pulled_at: int | None) -> list[dict]:
    """Pushed records changed on the server after the device's last pull."""
    wanted: dict[str, list[str]] = {}
    for _table, m in pending:
        if record_id(m["id"]):
            wanted.setdefault(m["entity"], []).append(m["id"])
    since = last_pulled_at if last_pulled_at is not None else -1
    out = []
    for name, ids in wanted.items():
        entity = registry.get(name)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = ctx.session.execute(
                select(SyncChange.record_id, func.max(SyncChange.ms))
                .where(SyncChange.entity == name, SyncChange.record_id.in_(chunk))
                .group_by(SyncChange.record_id)
                .having(func.max(SyncChange.ms) > since)
            ).all()
            out.extend({"table": entity.table, "id": rid} for rid, _ms in rows)
    return sorted(out, key=lambda r: (r["table"], r["id"]))
