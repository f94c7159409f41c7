"""Compaction: drop old tombstones, and raise the floor below which cursors start over."""

from __future__ import annotations

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.orm import Session

from sync import registry, tracking
from sync.models import SyncChange, SyncClock, SyncRemap


def purge_tombstones(session: Session, before_ms: int) -> dict[str, int]:
    """Forget deletes, moves out of a grid and id remaps logged before ``before_ms``.

    Devices that last synced before the cutoff can no longer be told what to drop, so their
    cursors (and WatermelonDB timestamps) fall below the new floor and they re-download in
    full. Flushes, never commits.
    """
    tracking.lock_clock(session)
    floor_seq = floor_ms = 0
    purged = {"changes": 0, "remaps": 0}
    for entity in registry.entities():
        model = entity.model
        # A row is a tombstone when its record is gone, or no longer lives in that row's grid.
        alive_here = exists().where(
            and_(model.id == SyncChange.record_id, model.area_id == SyncChange.area_id)
        )
        stale = and_(
            SyncChange.entity == entity.name,
            SyncChange.ms < before_ms,
            ~alive_here,
        )
        top = session.execute(
            select(func.max(SyncChange.seq), func.max(SyncChange.ms)).where(stale)
        ).one()
        if top[0] is None:
            continue
        floor_seq, floor_ms = max(floor_seq, top[0]), max(floor_ms, top[1])
        purged["changes"] += session.execute(
            delete(SyncChange).where(stale).execution_options(synchronize_session=False)
        ).rowcount
    old_remaps = SyncRemap.ms < before_ms
    top = session.execute(
        select(func.max(SyncRemap.seq), func.max(SyncRemap.ms)).where(old_remaps)
    ).one()
    if top[0] is not None:
        floor_seq, floor_ms = max(floor_seq, top[0]), max(floor_ms, top[1])
        purged["remaps"] = session.execute(
            delete(SyncRemap).where(old_remaps).execution_options(synchronize_session=False)
        ).rowcount
    if floor_seq:
        # The clock's lock is held: reading and raising the floor cannot race.
        clock = session.get(SyncClock, 1, populate_existing=True)
        clock.floor_seq = max(clock.floor_seq, floor_seq)
        clock.floor_ms = max(clock.floor_ms, floor_ms)
    session.flush()
    return {**purged, "floor_seq": floor_seq, "floor_ms": floor_ms}
