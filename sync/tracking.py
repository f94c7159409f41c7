"""Change tracking: every flush that touches a syncable record advances the clock and logs it.

It hooks the ORM session, not the sync service, so edits made through the REST API, the
console or an import reach devices exactly like pushed ones.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, event, insert, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE

from sync import registry
from sync.models import SyncChange, SyncClock, SyncRecordMeta

_installed = False
_CLOCK = SyncClock.__table__


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def ensure_clock(session: Session) -> None:
    """Create the clock row if the database lacks it (the migration creates it; a wiped
    database may not). Racing creators are fine: all but one insert nothing."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    values = {"id": 1, "seq": 0, "ms": 0, "floor_seq": 0, "floor_ms": 0, "epoch": _epoch()}
    session.execute(upsert(_CLOCK).values(**values).on_conflict_do_nothing())


def _epoch() -> str:
    return secrets.token_hex(4)


def lock_clock(session: Session) -> None:
    """Take the clock's row lock now, before any record row: writers then queue in one order,
    which keeps PostgreSQL free of deadlocks between pushes that touch the same records."""
    for _ in range(2):
        result = session.execute(update(_CLOCK).where(_CLOCK.c.id == 1).values(seq=_CLOCK.c.seq))
        if result.rowcount:
            return
        ensure_clock(session)


def advance_clock(session: Session, count: int) -> tuple[int, int]:
    """Reserve ``count`` sequence numbers and a new millisecond tick; returns (first seq, ms)."""
    wall = now_ms()
    for _ in range(2):
        row = session.execute(
            update(_CLOCK)
            .where(_CLOCK.c.id == 1)
            .values(seq=_CLOCK.c.seq + count)
            .returning(_CLOCK.c.seq, _CLOCK.c.ms)
        ).first()
        if row is not None:
            break
        ensure_clock(session)
    last, ms = row
    # Never back, never twice: the tick is later than every earlier one, whatever the wall says.
    tick = max(wall, ms + 1)
    session.execute(update(_CLOCK).where(_CLOCK.c.id == 1).values(ms=tick))
    return last - count + 1, tick


@dataclass
class Touched:
    """One record written: the grids that must hear of it, and the fields that changed."""

    entity: str
    record_id: str
    areas: set
    deleted: bool
    version: int
    fields: set


def touched(obj, *, new: bool = False, deleted: bool = False) -> Touched | None:
    """What writing ``obj`` (pending, before its flush) changes for devices; None when it is
    no syncable record or changes no synced field."""
    entity = registry.by_model(type(obj))
    if entity is None:
        return None
    areas = {entity.area_of(obj)}
    if new:
        # Every field is new; reading attribute history is the costly part of a bulk flush.
        changed = set(entity.columns.values())
    else:
        # The values before this flush of the attributes set since the last one; cheaper
        # than each attribute's history, and a value set to what it was is no change.
        changed = set()
        state = inspect(obj)
        for attr, old in state.committed_state.items():
            name = entity.columns.get(attr)
            if name is None or (old is not NO_VALUE and old == state.dict.get(attr)):
                continue
            changed.add(name)
            if attr == "area_id" and old is not NO_VALUE and old is not None:
                areas.add(old)
    if entity.changed_keys is not None and not deleted:
        changed |= entity.changed_keys(obj)
    if not (new or deleted or changed):
        return None
    version = getattr(obj, "version", None) or 0
    return Touched(entity.name, obj.id, areas, deleted, version, changed)


def _collect(session: Session) -> list[Touched]:
    merged: dict[tuple[str, str], Touched] = {}
    for group, new, deleted in (
        (session.new, True, False),
        (session.dirty, False, False),
        (session.deleted, False, True),
    ):
        for obj in group:
            t = touched(obj, new=new, deleted=deleted)
            if t is None:
                continue
            item = merged.setdefault((t.entity, t.record_id), t)
            if item is not t:
                item.areas.update(t.areas)
                item.fields.update(t.fields)
                item.deleted = t.deleted
                item.version = max(item.version, t.version)
    return list(merged.values())


def _before_flush(session: Session, _context, _instances) -> None:
    if any(
        registry.by_model(type(obj)) is not None
        for group in (session.new, session.dirty, session.deleted)
        for obj in group
    ):
        lock_clock(session)


def _after_flush(session: Session, _context) -> None:
    log(session, _collect(session))


def log(session: Session, touched: list[Touched]) -> None:
    """Advance the clock and log each record for pulls, with its fields' new versions."""
    if not touched:
        return
    # Every grid that ever heard of a deleted record gets the tombstone, so purging old
    # tombstones later can find them all.
    deleted: dict[str, dict[str, Touched]] = {}
    for t in touched:
        if t.deleted:
            deleted.setdefault(t.entity, {})[t.record_id] = t
    for entity, by_id in deleted.items():
        ids = list(by_id)
        for start in range(0, len(ids), 500):
            for record_id, area_id in session.execute(
                select(SyncChange.record_id, SyncChange.area_id).where(
                    SyncChange.entity == entity, SyncChange.record_id.in_(ids[start : start + 500])
                )
            ):
                by_id[record_id].areas.add(area_id)
    rows = [(t, area) for t in touched for area in sorted(t.areas, key=lambda a: (a is None, a))]
    first, tick = advance_clock(session, len(rows))
    # One keyed delete per row, not a tuple IN: SQLite answers a row-value IN list with a
    # scan of the whole change log, which grows to millions of rows.
    table = SyncChange.__table__
    keys = [{"e": t.entity, "r": t.record_id, "a": area} for t, area in rows if area is not None]
    if keys:
        session.execute(
            delete(table).where(
                table.c.entity == bindparam("e"),
                table.c.record_id == bindparam("r"),
                table.c.area_id == bindparam("a"),
            ),
            keys,
        )
    session.execute(
        insert(SyncChange.__table__),
        [
            {
                "seq": first + i,
                "entity": t.entity,
                "record_id": t.record_id,
                "area_id": area,
                "ms": tick,
                "deleted": t.deleted,
            }
            for i, (t, area) in enumerate(rows)
        ],
    )
    _update_meta(session, touched)


def _update_meta(session: Session, touched: list[Touched]) -> None:
    existing = {}
    by_entity: dict[str, list[str]] = {}
    for t in touched:
        by_entity.setdefault(t.entity, []).append(t.record_id)
    for entity, ids in by_entity.items():
        for start in range(0, len(ids), 500):
            for m in session.execute(
                select(SyncRecordMeta.__table__).where(
                    SyncRecordMeta.entity == entity,
                    SyncRecordMeta.record_id.in_(ids[start : start + 500]),
                )
            ):
                existing[(m.entity, m.record_id)] = m
    inserts, updates = [], []
    for t in touched:
        old = existing.get((t.entity, t.record_id))
        versions = dict(old.field_versions or {}) if old else {}
        _floor_keys(versions, t.fields)
        for name in t.fields:
            versions[name] = t.version
        values = {
            "entity": t.entity,
            "record_id": t.record_id,
            "field_versions": versions,
            "version": max(t.version, old.version if old else 0),
            "deleted": t.deleted,
        }
        if old is None:
            inserts.append({**values, "open_conflicts": 0, "missing_files": []})
        else:
            updates.append(values)
    if inserts:
        session.execute(insert(SyncRecordMeta.__table__), inserts)
    if updates:
        # One executemany: a bulk push edits hundreds of records per flush.
        table = SyncRecordMeta.__table__
        session.connection().execute(
            update(table)
            .where(table.c.entity == bindparam("e"), table.c.record_id == bindparam("r"))
            .values(
                field_versions=bindparam("fv", type_=table.c.field_versions.type),
                version=bindparam("v"),
                deleted=bindparam("d"),
            ),
            [
                {
                    "e": u["entity"],
                    "r": u["record_id"],
                    "fv": u["field_versions"],
                    "v": u["version"],
                    "d": u["deleted"],
                }
                for u in updates
            ],
        )


def _floor_keys(versions: dict[str, int], names: set[str]) -> None:
    """Before a record's first versions by key: its keys' last change is unknown, but no
    later than the whole field's, which ``field.~`` keeps."""
    for field in {name.split(".", 1)[0] for name in names if "." in name}:
        if field in versions and not any(k.startswith(f"{field}.") for k in versions):
            versions[f"{field}.~"] = versions[field]


def last_change(versions: dict[str, int], field: str, key: str | None = None) -> int:
    """The version at which ``field`` (or one key of an object field) last changed."""
    if key is None:
        return versions.get(field, 0)
    if f"{field}.{key}" in versions:
        return versions[f"{field}.{key}"]
    if f"{field}.~" in versions:
        return versions[f"{field}.~"]
    if any(k.startswith(f"{field}.") for k in versions):
        return 0  # versioned by key from the start, and this key never set
    return versions.get(field, 0)


def install() -> None:
    """Hook every ORM session once per process."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    _installed = True
