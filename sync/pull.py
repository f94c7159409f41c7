"""Pull: what changed in the caller's areas since their cursor, as records are now."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlalchemy import select, union_all

from ledger.context import Ctx
from sync import registry, tracking
from sync.models import SyncChange, SyncClock, SyncRecordMeta, SyncRemap
from sync.registry import Snapshot, SyncEntity

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
_CURSOR = re.compile(r"^([0-9a-f]{8})\.(\d{1,19})$")


def clock(ctx: Ctx) -> SyncClock:
    row = ctx.session.get(SyncClock, 1, populate_existing=True)
    if row is None:
        tracking.ensure_clock(ctx.session)
        row = ctx.session.get(SyncClock, 1)
    return row


def encode_cursor(epoch: str, seq: int) -> str:
    return f"{epoch}.{seq}"


def decode_cursor(cursor: str | None, now: SyncClock) -> int | None:
    """The sequence a cursor stands for; None if it cannot be honoured (reset)."""
    if not cursor:
        return 0
    match = _CURSOR.match(cursor)
    if match is None or match.group(1) != now.epoch:
        return None
    seq = int(match.group(2))
    if seq > now.seq or seq < now.floor_seq:
        return None
    return seq


def pull(ctx: Ctx, cursor: str | None, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """One page of changes after ``cursor``. An unusable cursor answers ``reset: true`` and
    starts a full download: the device drops its copy and keeps what the pages bring."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    now = clock(ctx)
    upto = now.seq
    after = decode_cursor(cursor, now)
    reset = after is None
    if reset:
        after = 0
    rows = ctx.session.execute(_page_query(ctx, after, upto, limit + 1)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].seq if has_more else upto
    changes = record_changes(ctx, rows, full=after == 0)
    remaps = [
        {"entity": r.entity, "from_id": r.from_id, "to_id": r.to_id}
        for r in ctx.session.scalars(
            select(SyncRemap)
            .where(SyncRemap.seq > after, SyncRemap.seq <= last)
            .where(ctx.scope.filter(SyncRemap.area_id))
            .order_by(SyncRemap.seq)
        )
    ]
    out = {
        "changes": changes,
        "remaps": remaps,
        "cursor": encode_cursor(now.epoch, last),
        "has_more": has_more,
    }
    if reset:
        out["reset"] = True
    return out


# Up to this many areas in scope, a page is read area by area (see _page_query).
UNION_MAX_AREAS = 200


def _page_query(ctx: Ctx, after: int, upto: int, limit: int):
    """The change rows of one page: in the caller's areas, after ``after``, in log order.

    With several areas, one query over all of them walks the log in order and skips every
    other grid's rows (PostgreSQL chose that: 100,000 rows read per page of a community at 1M
    rows), or fetches all of the areas' rows to sort them. Taking the first ``limit`` rows of
    each area from the (area, seq) index and merging them reads at most ``limit`` per area.
    """
    columns = (SyncChange.seq, SyncChange.entity, SyncChange.record_id)
    window = (SyncChange.seq > after, SyncChange.seq <= upto)
    areas = ctx.scope.area_ids
    if areas is None or len(areas) == 1 or len(areas) > UNION_MAX_AREAS:
        return (
            select(*columns)
            .where(*window, ctx.scope.filter(SyncChange.area_id))
            .order_by(SyncChange.seq)
            .limit(limit)
        )
    # Sequence numbers only, so each area's part reads the index alone; then the page's rows.
    parts = [
        select(select(SyncChange.seq).where(*window, SyncChange.area_id == area_id)
               .order_by(SyncChange.seq).limit(limit).subquery())
        for area_id in sorted(areas)
    ]  # fmt: skip
    merged = union_all(*parts).subquery()
    page = select(merged.c.seq).order_by(merged.c.seq).limit(limit)
    return select(*columns).where(SyncChange.seq.in_(page)).order_by(SyncChange.seq)


def _snapshots(ctx: Ctx, entity: SyncEntity, ids: list[str]):
    if entity.read_many is not None:
        return entity.read_many(ctx, ids).items()
    records = ctx.session.scalars(select(entity.model).where(entity.model.id.in_(ids)))
    return [(r.id, Snapshot(entity.area_of(r), r.version, entity.read(ctx, r))) for r in records]


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def record_changes(ctx: Ctx, rows, *, full: bool) -> list[dict[str, Any]]:
    """Each record once, at its last position in the page, as it is now for this caller."""
    last_at: dict[tuple[str, str], int] = {}
    for i, row in enumerate(rows):
        last_at[(row.entity, row.record_id)] = i
    wanted: dict[str, list[str]] = defaultdict(list)
    for entity, record_id in last_at:
        wanted[entity].append(record_id)
    loaded: dict[tuple[str, str], Snapshot] = {}
    metas: dict[tuple[str, str], Any] = {}
    for name, ids in wanted.items():
        entity = registry.get(name)
        if entity is None:
            continue
        for chunk in _chunks(ids):
            loaded.update(((name, rid), snap) for rid, snap in _snapshots(ctx, entity, chunk))
            # Only the columns a page needs: field_versions is JSON, costly to load by the 500.
            for meta in ctx.session.execute(
                select(
                    SyncRecordMeta.record_id,
                    SyncRecordMeta.version,
                    SyncRecordMeta.open_conflicts,
                    SyncRecordMeta.missing_files,
                ).where(SyncRecordMeta.entity == name, SyncRecordMeta.record_id.in_(chunk))
            ):
                metas[(name, meta.record_id)] = meta
    out = []
    for (name, record_id), _pos in sorted(last_at.items(), key=lambda item: item[1]):
        snap = loaded.get((name, record_id))
        meta = metas.get((name, record_id))
        if snap is not None and ctx.scope.allows(snap.area_id):
            change = {
                "entity": name,
                "id": record_id,
                "op": "upsert",
                "version": snap.version,
                "fields": snap.fields,
            }
            if meta is not None and meta.open_conflicts:
                change["conflict"] = True
            if meta is not None and meta.missing_files:
                # Shown as incomplete on devices until the files arrive.
                change["missing_files"] = list(meta.missing_files)
            out.append(change)
        elif not full:
            # Deleted, or moved out of the caller's grids: the device drops its copy.
            version = meta.version if meta is not None else None
            out.append({"entity": name, "id": record_id, "op": "delete", "version": version,
                        "fields": None})  # fmt: skip
    return out
