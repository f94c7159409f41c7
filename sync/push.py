"""Push: apply a device's mutations exactly once each, merging by field and keeping conflicts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from ledger.context import Ctx
from ledger.db import normalize_uuid, utcnow
from ledger.errors import LedgerError
from ledger.files.models import StoredFile
from sync import bulk, registry, tracking
from sync.errors import SyncInvalid
from sync.models import SyncChange, SyncConflict, SyncMutation, SyncRecordMeta, SyncRemap
from sync.registry import SyncEntity

MAX_MUTATIONS = 5000
OPS = ("upsert", "delete")

# Asks the server's permission table whether the caller's role holds a permission.
Allowed = Callable[[str], bool]


@dataclass
class Outcome:
    status: str
    id: str | None = None
    version: int | None = None
    canonical_id: str | None = None
    conflict_id: str | None = None
    errors: dict[str, Any] | None = None
    missing_files: list[str] | None = None

    def as_dict(self, mutation_id: str) -> dict[str, Any]:
        out = {
            "mutation_id": mutation_id,
            "status": self.status,
            "id": self.id,
            "version": self.version,
            "canonical_id": self.canonical_id,
            "conflict_id": self.conflict_id,
            "errors": self.errors,
        }
        if self.missing_files:
            out["missing_files"] = self.missing_files
        return out


class _Rejected(Exception):
    def __init__(self, errors: dict[str, Any]) -> None:
        self.errors = errors


def uuid_text(value: Any) -> str | None:
    try:
        return normalize_uuid(value)
    except (ValueError, TypeError, AttributeError):
        return None


def push(ctx: Ctx, device_id: str, mutations: list[Any], allowed: Allowed) -> list[dict]:
    """Apply each mutation in its own savepoint, in order; returns one result per mutation.

    Nothing commits here: the request commits once at the end, so a crash mid-batch leaves
    the batch unapplied, and its replay applies it whole.
    """
    if not isinstance(mutations, list):
        raise SyncInvalid(details={"fields": {"mutations": ["应为列表"]}})
    if len(mutations) > MAX_MUTATIONS:
        raise SyncInvalid(
            f"一次最多同步 {MAX_MUTATIONS} 条修改，请分批上传",
            details={"limit": MAX_MUTATIONS},
        )
    return apply_all(ctx, device_id, mutations, allowed)


# Checks a record id and returns it in canonical form, or None when it is not one.
RecordIds = Callable[[Any], str | None]


def _envelope(raw: Any, record_ids: RecordIds) -> tuple[str | None, dict[str, Any]]:
    """Validate the shape of one mutation; returns (mutation_id, errors)."""
    if not isinstance(raw, dict):
        return None, {"mutation": ["应为对象"]}
    errors: dict[str, list[str]] = {}
    mutation_id = uuid_text(raw.get("mutation_id"))
    if mutation_id is None:
        errors["mutation_id"] = ["应为 UUID"]
    entity = registry.get(str(raw.get("entity")))
    if entity is None:
        errors["entity"] = ["不支持的记录类型"]
    if raw.get("op") not in OPS:
        errors["op"] = ["应为 upsert 或 delete"]
    if record_ids(raw.get("id")) is None:
        errors["id"] = ["记录编号格式有误"]
    base = raw.get("base_version")
    if base is not None and (not isinstance(base, int) or isinstance(base, bool) or base < 0):
        errors["base_version"] = ["应为非负整数或 null"]
    fields = raw.get("fields", {})
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        errors["fields"] = ["应为对象"]
    elif entity is not None:
        unknown = sorted(set(fields) - set(entity.fields))
        for key in unknown:
            errors[key] = ["未知字段，请更新应用"]
    return mutation_id, errors


def apply_one(
    ctx: Ctx, device_id: str, raw: Any, allowed: Allowed, record_ids: RecordIds = uuid_text
) -> dict:
    """Apply one mutation exactly once (a replayed ``mutation_id`` gets its stored result)."""
    mutation_id, errors = _envelope(raw, record_ids)
    if mutation_id is None:
        # Without an id it cannot be stored for replays; nothing was applied either.
        given = raw if isinstance(raw, dict) else {}
        outcome = Outcome("rejected", id=record_ids(given.get("id")), errors=errors)
        echoed = given.get("mutation_id")
        return outcome.as_dict(None if echoed is None else str(echoed)[:64])
    session = ctx.session
    # The clock's lock first: pushes queue there, then on the record, never the other way.
    tracking.lock_clock(session)
    stored = session.get(SyncMutation, mutation_id)
    if stored is not None:
        return stored.result
    record_id = record_ids(raw.get("id")) or ""
    entity_name = str(raw.get("entity"))[:32]
    try:
        with session.begin_nested():
            if errors:
                outcome = Outcome("rejected", id=record_id or None, errors=errors)
            else:
                outcome = _apply_or_reject(ctx, registry.get(entity_name), raw, record_id, allowed,
                                           mutation_id, device_id)  # fmt: skip
            result = outcome.as_dict(mutation_id)
            session.add(
                SyncMutation(
                    mutation_id=mutation_id,
                    device_id=device_id,
                    user_id=ctx.actor.id,
                    entity=entity_name,
                    record_id=record_id,
                    op=str(raw.get("op"))[:8],
                    status=outcome.status,
                    result=result,
                    created_at=utcnow(),
                )
            )
            session.flush()
    except IntegrityError:
        # The same mutation_id committed from another connection meanwhile: its result stands.
        stored = session.get(SyncMutation, mutation_id, populate_existing=True)
        if stored is None:
            raise
        return stored.result
    return result


def _apply_or_reject(ctx, entity, raw, record_id, allowed, mutation_id, device_id) -> Outcome:
    try:
        with ctx.session.begin_nested():
            return _apply(ctx, entity, raw, record_id, allowed, mutation_id, device_id)
    except _Rejected as exc:
        return Outcome("rejected", id=record_id, errors=exc.errors)
    except LedgerError as exc:
        return _refusal(record_id, exc)


def _refusal(record_id: str, exc: LedgerError) -> Outcome:
    errors = dict((exc.details or {}).get("fields") or {})
    errors.setdefault("_", [exc.message])
    return Outcome("rejected", id=record_id, errors={**errors, "code": exc.code})


def apply_all(
    ctx: Ctx,
    device_id: str,
    mutations: list[Any],
    allowed: Allowed,
    record_ids: RecordIds = uuid_text,
) -> list[dict]:
    """Apply mutations in order, with the same results as ``apply_one`` on each.

    New records and edits that need no decision beyond a field comparison (no replay, no
    remap, no conflict, no duplicate) are validated one by one but written together
    (``sync.bulk``): a phone's nightly sync is mostly those. Everything else goes through
    ``apply_one``, after the records before it are written, so the order of the batch holds.
    """
    tracking.lock_clock(ctx.session)
    batch = _Bulk(ctx, device_id, allowed, record_ids, mutations)
    results: list[dict | None] = [None] * len(mutations)
    for i, raw in enumerate(mutations):
        if batch.take(i, raw):
            continue
        batch.write(results)
        results[i] = apply_one(ctx, device_id, raw, allowed, record_ids)
        batch.touched(raw, results[i])
    batch.write(results)
    return results  # type: ignore[return-value]


@dataclass
class _Pending:
    index: int
    raw: dict
    entity: SyncEntity
    mutation_id: str
    record_id: str
    create: bool
    delete: bool = False


class _Bulk:
    """Mutations collected for one flush, and what the batch knows exists already.

    A group holds each record at most once, so the state a mutation is decided on is the
    state it is written over; a record met again waits for the next group.
    """

    def __init__(self, ctx: Ctx, device_id, allowed, record_ids: RecordIds, mutations) -> None:
        self.ctx, self.device_id, self.allowed, self.record_ids = (
            ctx,
            device_id,
            allowed,
            record_ids,
        )
        self.pending: list[_Pending] = []
        self.keys: dict[int, str | None] = {}
        self.seen: set[str] = set()  # mutation ids met in this batch
        self.touched_ids: set[tuple[str, str]] = set()  # records this batch wrote or queued
        self.existing: set[tuple[str, str]] = set()
        self.no_create: set[tuple[str, str]] = set()  # tombstones and merged-away ids
        self.taken_keys: set[tuple[str, str]] = set()
        self.stored: set[str] = set()
        self.candidates: dict[int, tuple[SyncEntity, str, str]] = {}
        self._preload(mutations)

    def _candidate(self, raw) -> tuple[SyncEntity, str, str] | None:
        if not isinstance(raw, dict) or raw.get("op") not in OPS:
            return None
        entity = registry.get(str(raw.get("entity")))
        if entity is None:
            return None
        if raw["op"] == "delete" and entity.delete_many is None:
            return None
        if raw["op"] == "upsert" and entity.build is None and entity.patch is None:
            return None
        mutation_id, errors = _envelope(raw, self.record_ids)
        if mutation_id is None or errors:
            return None
        return entity, mutation_id, self.record_ids(raw.get("id"))

    def _preload(self, mutations) -> None:
        session = self.ctx.session
        mids: list[str] = []
        ids: dict[str, list[str]] = {}
        keys: dict[str, list[str]] = {}
        for i, raw in enumerate(mutations):
            found = self._candidate(raw)
            if found is None:
                continue
            self.candidates[i] = found
            entity, mutation_id, record_id = found
            mids.append(mutation_id)
            ids.setdefault(entity.name, []).append(record_id)
            key = (
                entity.dedupe_key(self.ctx, raw.get("fields") or {}) if entity.dedupe_key else None
            )
            self.keys[i] = key
            if key is not None:
                keys.setdefault(entity.name, []).append(key)
        for chunk in _chunks(mids):
            self.stored.update(
                session.scalars(
                    select(SyncMutation.mutation_id).where(SyncMutation.mutation_id.in_(chunk))
                )
            )
        for name, wanted in ids.items():
            entity = registry.get(name)
            for chunk in _chunks(wanted):
                found = session.scalars(select(entity.model.id).where(entity.model.id.in_(chunk)))
                self.existing.update((name, rid) for rid in found)
                # A record that existed (tombstone) or was merged away is no plain create.
                for query in (
                    select(SyncRecordMeta.record_id).where(
                        SyncRecordMeta.entity == name, SyncRecordMeta.record_id.in_(chunk)
                    ),
                    select(SyncRemap.from_id).where(
                        SyncRemap.entity == name, SyncRemap.from_id.in_(chunk)
                    ),
                ):
                    self.no_create.update((name, rid) for rid in session.scalars(query))
        for name, wanted in keys.items():
            entity = registry.get(name)
            if entity.dedupe_taken is not None:
                self.taken_keys.update((name, k) for k in entity.dedupe_taken(self.ctx, wanted))

    def take(self, i: int, raw) -> bool:
        """Queue ``raw`` for the bulk write if it is a plain create or edit."""
        found = self.candidates.get(i)
        if found is None:
            return False
        entity, mutation_id, record_id = found
        ref = (entity.name, record_id)
        if (
            mutation_id in self.stored
            or mutation_id in self.seen
            or ref in self.touched_ids
            or not self.allowed(entity.write_permission)
        ):
            return False
        if raw["op"] == "delete":
            # Only deletes of records that exist, by a role that may delete: the rest (gone
            # already, merged away, refused) take the one-at-a-time path for their answer.
            if ref not in self.existing or not self.allowed(entity.delete_permission):
                return False
            self.seen.add(mutation_id)
            self.touched_ids.add(ref)
            self.pending.append(_Pending(i, raw, entity, mutation_id, record_id, False, True))
            return True
        key = self.keys.get(i)
        create = ref not in self.existing
        if create:
            if (
                entity.build is None
                or ref in self.no_create
                or (key is not None and (entity.name, key) in self.taken_keys)
            ):
                return False
            if key is not None:
                self.taken_keys.add((entity.name, key))
        elif entity.patch is None or set(raw.get("fields") or {}) & set(entity.patch_excludes):
            return False
        self.seen.add(mutation_id)
        self.touched_ids.add(ref)
        self.pending.append(_Pending(i, raw, entity, mutation_id, record_id, create))
        return True

    def touched(self, raw, result: dict) -> None:
        """After ``apply_one``: whatever it wrote is no longer known to later mutations."""
        if not isinstance(raw, dict):
            return
        mutation_id = uuid_text(raw.get("mutation_id"))
        if mutation_id:
            self.seen.add(mutation_id)
        entity = registry.get(str(raw.get("entity")))
        if entity is None:
            return
        for record_id in (self.record_ids(raw.get("id")), result.get("id"),
                          result.get("canonical_id")):  # fmt: skip
            if record_id:
                self.touched_ids.add((entity.name, record_id))
        key = entity.dedupe_key(self.ctx, raw.get("fields") or {}) if entity.dedupe_key else None
        if key is not None:
            self.taken_keys.add((entity.name, key))

    def write(self, results: list) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        ctx, session = self.ctx, self.ctx.session
        later: list[_Pending] = []
        decided: list[tuple] = []
        try:
            with session.begin_nested():
                with session.no_autoflush:
                    decided += self._decide(pending, later)
                    written = [(p, record) for p, record, *_ in decided if record is not None]
                    bulk.write(
                        session,
                        created=[record for p, record in written if p.create],
                        edited=[record for p, record in written if not (p.create or p.delete)],
                    )
                    for name, records in _deletes(written).items():
                        registry.get(name).delete_many(ctx, records)
                session.flush()
                rows = []
                now = utcnow()
                for p, record, status, outcome in decided:
                    fields = p.raw.get("fields") or {}
                    if outcome is None:
                        outcome = _done(ctx, p.entity, status, record, None, fields)
                    results[p.index] = outcome.as_dict(p.mutation_id)
                    rows.append(
                        {
                            "mutation_id": p.mutation_id,
                            "device_id": self.device_id,
                            "user_id": ctx.actor.id,
                            "entity": p.entity.name,
                            "record_id": outcome.id or "",
                            "op": "delete" if p.delete else "upsert",
                            "status": outcome.status,
                            "result": results[p.index],
                            "created_at": now,
                        }
                    )
                if rows:
                    session.execute(insert(SyncMutation.__table__), rows)
        except (IntegrityError, bulk.Contended):
            # Another connection wrote one of these records (or mutation ids) meanwhile, or two
            # edits claimed one ID number: take them one at a time, each deciding again, from
            # the stored state. The rollback expires what the failed flush wrote, not records
            # it never reached, which still hold their edits.
            for _, record, *_ in decided:
                if record is not None and inspect(record).persistent:
                    session.expire(record)
            later = pending
        # Conflicts and records gone meanwhile need the full path; each is a record no other
        # mutation of the group touched, so running it after the group changes nothing.
        for p in later:
            results[p.index] = apply_one(ctx, self.device_id, p.raw, self.allowed,
                                         self.record_ids)  # fmt: skip

    def _decide(self, pending: list[_Pending], later: list[_Pending]) -> list[tuple]:
        """Validate and apply every mutation of the group in memory; returns, in order,
        (pending, record, status, refusal or None)."""
        ctx, session = self.ctx, self.ctx.session
        records, versions = self._load_edited([p for p in pending if not p.create])
        decided = []
        for p in pending:
            fields = p.raw.get("fields") or {}
            if p.create:
                try:
                    record = p.entity.build(ctx, p.record_id, fields)
                    decided.append((p, record, "applied", None))
                except LedgerError as exc:
                    decided.append((p, None, None, _refusal(p.record_id, exc)))
                continue
            record = records.get((p.entity.name, p.record_id))
            if record is None:
                later.append(p)
                continue
            base = p.raw.get("base_version")
            if p.delete:
                if (outcome := self._decide_delete(p, record, base, versions)) is None:
                    later.append(p)
                else:
                    decided.append((p, record if outcome.status == "applied" else None,
                                    outcome.status, outcome))  # fmt: skip
                continue
            try:
                _check_edit(ctx, p.entity, record, base)
            except _Rejected as exc:
                decided.append((p, None, None, Outcome("rejected", id=p.record_id,
                                                       errors=exc.errors)))  # fmt: skip
                continue
            changes = p.entity.changed(ctx, record, fields)
            status = "applied"
            if base is not None and base != record.version:
                field_versions = versions.get((p.entity.name, p.record_id)) or {}
                if _split(p.entity, field_versions, changes, base)[1]:
                    later.append(p)
                    continue
                status = "merged"
            if changes:
                try:
                    p.entity.patch(ctx, record, changes)
                except LedgerError as exc:
                    # Drops this record's unflushed changes: the refusal applies nothing.
                    session.expire(record)
                    decided.append((p, None, None, _refusal(p.record_id, exc)))
                    continue
            decided.append((p, record, status, None))
        return decided

    def _decide_delete(self, p: _Pending, record, base, versions) -> Outcome | None:
        """A delete as ``_apply`` decides it: refused out of scope; None (the full path, for
        a conflict) if somebody changed the record after the device last saw it."""
        try:
            _check_edit(self.ctx, p.entity, record, None)
        except _Rejected as exc:
            return Outcome("rejected", id=p.record_id, errors=exc.errors)
        if _changed_since(versions.get((p.entity.name, p.record_id)), base):
            return None
        return Outcome("applied", id=p.record_id, version=record.version + 1)

    def _load_edited(self, edits: list[_Pending]) -> tuple[dict, dict]:
        """The edited records, locked and fresh, and their field versions."""
        session = self.ctx.session
        records: dict[tuple[str, str], Any] = {}
        versions: dict[tuple[str, str], dict] = {}
        by_entity: dict[str, list[str]] = {}
        for p in edits:
            by_entity.setdefault(p.entity.name, []).append(p.record_id)
        for name, ids in by_entity.items():
            model = registry.get(name).model
            for chunk in _chunks(ids):
                # The record rows alone: the joined relations (grid, creator) a read of one
                # record brings would double the rows loaded, and few edits need them.
                query = (
                    select(model)
                    .where(model.id.in_(chunk))
                    .options(lazyload("*"))
                    .with_for_update(of=model)
                    .execution_options(populate_existing=True)
                )
                records.update(((name, r.id), r) for r in session.scalars(query))
                meta = session.execute(
                    select(SyncRecordMeta.record_id, SyncRecordMeta.field_versions).where(
                        SyncRecordMeta.entity == name, SyncRecordMeta.record_id.in_(chunk)
                    )
                )
                versions.update(((name, rid), fv) for rid, fv in meta)
        return records, versions


def _deletes(written: list[tuple[_Pending, Any]]) -> dict[str, list]:
    out: dict[str, list] = {}
    for p, record in written:
        if p.delete:
            out.setdefault(p.entity.name, []).append(record)
    return out


def _check_edit(ctx: Ctx, entity: SyncEntity, record, base: int | None) -> None:
    """Refuse an edit of a record outside the caller's grids, or from a version never sent."""
    if not ctx.scope.allows(entity.area_of(record)):
        raise _Rejected({"_": ["该记录不在您负责的范围内"], "code": "sync.out_of_scope"})
    if base is not None and base > record.version:
        message = f"版本号不存在（服务器为 {record.version}），请重新同步"
        raise _Rejected({"base_version": [message]})


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _meta(ctx: Ctx, entity: SyncEntity, record_id: str) -> SyncRecordMeta | None:
    return ctx.session.get(SyncRecordMeta, (entity.name, record_id), populate_existing=True)


def _remapped(ctx: Ctx, entity: SyncEntity, record_id: str) -> str | None:
    remap = ctx.session.get(SyncRemap, (entity.name, record_id))
    return remap.to_id if remap else None


def _apply(ctx, entity: SyncEntity, raw, record_id, allowed, mutation_id, device_id) -> Outcome:
    op = raw["op"]
    fields = dict(raw.get("fields") or {})
    base = raw.get("base_version")
    session = ctx.session
    canonical = _remapped(ctx, entity, record_id)
    target_id = canonical or record_id
    # Only the record's own row: its joined relations (area, creator) are outer joins.
    record = session.get(
        entity.model, target_id, with_for_update={"of": entity.model}, populate_existing=True
    )
    if record is not None:
        _check_edit(ctx, entity, record, None)
    conflict = _ConflictWriter(ctx, entity, mutation_id, device_id, base)

    if op == "delete":
        if record is None:
            # Already gone, or created and deleted on the device before it ever synced: there
            # is nothing to delete, whoever asks.
            meta = _meta(ctx, entity, target_id)
            return Outcome("applied", id=target_id, version=meta.version if meta else None,
                           canonical_id=canonical)  # fmt: skip
        if not allowed(entity.delete_permission):
            raise _Rejected({"_": ["您的角色无权删除这类记录"], "code": "sync.forbidden"})
        meta = _meta(ctx, entity, target_id)
        changed_since = _changed_since(meta.field_versions if meta else None, base)
        if base is not None and changed_since:
            # Someone changed the record after this device last saw it: deleting would lose
            # their change. Keep it, and let staff decide.
            conflict_id = conflict.write("delete", record, {}, changed_since)
            return Outcome("conflict", id=target_id, version=record.version,
                           canonical_id=canonical, conflict_id=conflict_id)  # fmt: skip
        version = record.version
        entity.delete(ctx, record)
        return Outcome("applied", id=target_id, version=version + 1, canonical_id=canonical)

    if not allowed(entity.write_permission):
        raise _Rejected({"_": ["您的角色无权修改这类记录"], "code": "sync.forbidden"})
    if record is None:
        meta = _meta(ctx, entity, target_id)
        if meta is not None and meta.deleted:
            # Edited on a device after it was deleted here: keep the edit for review.
            conflict_id = conflict.write(
                "deleted", None, fields, set(fields), record_id=target_id,
                area_id=_last_area(ctx, entity, target_id),
            )  # fmt: skip
            return Outcome("conflict", id=target_id, version=meta.version,
                           canonical_id=canonical, conflict_id=conflict_id)  # fmt: skip
        existing = entity.dedupe(ctx, fields)
        if existing is not None:
            return _merge_duplicate(ctx, entity, record_id, existing, fields, conflict)
        record = entity.create(ctx, target_id, fields)
        session.flush()
        return _done(ctx, entity, "applied", record, canonical, fields)

    # An update of a record that exists.
    meta = _meta(ctx, entity, target_id)
    _check_edit(ctx, entity, record, base)
    changes = entity.changed(ctx, record, fields)
    if base is None or base == record.version:
        apply_now, contested = changes, {}
        status = "applied"
    else:
        versions = (meta.field_versions if meta else {}) or {}
        apply_now, contested = _split(entity, versions, changes, base)
        status = "conflict" if contested else "merged"
    conflict_id = None
    if contested:
        conflict_id = conflict.write("fields", record, contested, set(contested))
    if apply_now:
        entity.update(ctx, record, apply_now)
        session.flush()
    return _done(ctx, entity, status, record, canonical, fields, conflict_id)


def _changed_since(versions: dict | None, base: int | None) -> set[str]:
    """The fields changed after ``base`` (a field whose keys changed counts whole)."""
    if base is None:
        return set()
    return {k.split(".", 1)[0] for k, v in (versions or {}).items() if v > base}


def _split(entity: SyncEntity, versions: dict, changes: dict, base: int) -> tuple[dict, dict]:
    """A stale edit's changes as (what applies now, what is contested): a field somebody
    else changed after ``base`` is contested, and in a field merged by key only the keys
    changed after it are."""
    apply_now: dict[str, Any] = {}
    contested: dict[str, Any] = {}
    for name, value in changes.items():
        if name in entity.keyed and isinstance(value, dict):
            for key, item in value.items():
                side = contested if tracking.last_change(versions, name, key) > base else apply_now
                side.setdefault(name, {})[key] = item
        elif tracking.last_change(versions, name) > base:
            contested[name] = value
        else:
            apply_now[name] = value
    return apply_now, contested


def _merge_duplicate(ctx, entity, record_id, existing, fields, conflict) -> Outcome:
    """A new record matched an existing one by its dedupe key: merge into it, never twice."""
    session = ctx.session
    in_scope = ctx.scope.allows(entity.area_of(existing))
    current = entity.read(ctx, existing)
    # Fill what the existing record lacks; values that differ wait for staff.
    empty = (None, "", [])
    fill = {k: v for k, v in fields.items() if current.get(k) in empty and v not in empty}
    differ = {
        k: v for k, v in entity.changed(ctx, existing, fields).items()
        if k not in fill and v not in empty
    }  # fmt: skip
    if not in_scope:
        # Another grid's resident: write nothing there, keep everything for its staff.
        differ, fill = {**fill, **differ}, {}
    conflict_id = None
    if differ:
        conflict_id = conflict.write("duplicate", existing, differ, set(differ))
    if fill:
        entity.update(ctx, existing, fill)
        session.flush()
    seq, tick = tracking.advance_clock(session, 1)
    session.add(
        SyncRemap(
            entity=entity.name,
            from_id=record_id,
            to_id=existing.id,
            area_id=entity.area_of(existing),
            seq=seq,
            ms=tick,
            created_at=utcnow(),
        )
    )
    session.flush()
    outcome = _done(ctx, entity, "duplicate", existing, existing.id, fields, conflict_id)
    if not in_scope:
        outcome.version = None
    return outcome


def _done(ctx, entity, status, record, canonical, fields, conflict_id=None) -> Outcome:
    missing = _missing_files(ctx, entity, record, fields)
    return Outcome(
        status,
        id=record.id,
        version=record.version,
        canonical_id=canonical,
        conflict_id=conflict_id,
        missing_files=missing,
    )


def _missing_files(ctx: Ctx, entity: SyncEntity, record, fields) -> list[str]:
    refs = sorted(set(entity.file_refs(fields)))
    if not refs:
        return []
    have = set(ctx.session.scalars(select(StoredFile.sha256).where(StoredFile.sha256.in_(refs))))
    missing = [r for r in refs if r not in have]
    ctx.session.execute(
        update(SyncRecordMeta)
        .where(SyncRecordMeta.entity == entity.name, SyncRecordMeta.record_id == record.id)
        .values(missing_files=missing)
    )
    return missing


class _ConflictWriter:
    def __init__(self, ctx: Ctx, entity: SyncEntity, mutation_id, device_id, base) -> None:
        self.ctx, self.entity = ctx, entity
        self.mutation_id, self.device_id, self.base = mutation_id, device_id, base

    def write(self, kind, record, client: dict, contested: set[str], *, record_id=None,
              area_id=None) -> str:  # fmt: skip
        ctx, entity = self.ctx, self.entity
        server = {}
        if record is not None:
            current = entity.read(ctx, record)
            for k in sorted(contested):
                value, sent = current.get(k), client.get(k)
                if k in entity.keyed and isinstance(value, dict) and isinstance(sent, dict):
                    value = {key: value.get(key) for key in sent}  # the keys in question
                server[k] = value
        values = json.dumps({"client": client, "server": server}, ensure_ascii=False, default=str)
        record_id = record.id if record is not None else record_id
        conflict = SyncConflict(
            id=str(uuid.uuid4()),
            entity=entity.name,
            record_id=record_id,
            area_id=entity.area_of(record) if record is not None else area_id,
            kind=kind,
            mutation_id=self.mutation_id,
            device_id=self.device_id,
            user_id=ctx.actor.id,
            base_version=self.base,
            server_version=record.version if record is not None else None,
            values_enc=ctx.pii.encrypt(values, field="sync_conflict"),
            status="open",
            created_at=utcnow(),
        )
        ctx.session.add(conflict)
        ctx.session.flush()
        if record is not None:
            ctx.session.execute(
                update(SyncRecordMeta)
                .where(SyncRecordMeta.entity == entity.name, SyncRecordMeta.record_id == record_id)
                .values(open_conflicts=SyncRecordMeta.open_conflicts + 1)
            )
        return conflict.id


def _last_area(ctx: Ctx, entity: SyncEntity, record_id: str) -> int | None:
    """The grid a deleted record was last in, from its newest change-log row."""
    return ctx.session.scalar(
        select(SyncChange.area_id)
        .where(SyncChange.entity == entity.name, SyncChange.record_id == record_id)
        .order_by(SyncChange.seq.desc())
        .limit(1)
    )
