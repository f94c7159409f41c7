"""Pull: what changed in the caller's areas since their cursor, as records are now."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from ledger.context import Ctx
from sync import registry, tracking
from sync.models import SyncChange, SyncClock, SyncRecordMeta, SyncRemap

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
    query = (
        select(SyncChange.seq, SyncChange.entity, SyncChange.record_id)
        .where(SyncChange.seq > after, SyncChange.seq <= upto, ctx.scope.filter(SyncChange.area_id))
        .order_by(SyncChange.seq)
        .limit(limit + 1)
    )
    rows = ctx.session.execute(query).all()
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


def record_changes(ctx: Ctx, rows, *, full: bool) -> list[dict[str, Any]]:
    """Each record once, at its last position in the page, as it is now for this caller."""
    last_at: dict[tuple[str, str], int] = {}
    for i, row in enumerate(rows):
        last_at[(row.entity, row.record_id)] = i
    wanted: dict[str, list[str]] = defaultdict(list)
    for entity, record_id in last_at:
        wanted[entity].append(record_id)
    loaded: dict[tuple[str, str], Any] = {}
    metas: dict[tuple[str, str], Any] = {}
    for name, ids in wanted.items():
        entity = registry.get(name)
        if entity is None:
            continue
        for record in ctx.session.scalars(select(entity.model).where(entity.model.id.in_(ids))):
            loaded[(name, record.id)] = record
        # Only the columns a page needs: field_versions is JSON, costly to load by the 500.
        for meta in ctx.session.execute(
            select(
                SyncRecordMeta.record_id,
                SyncRecordMeta.version,
                SyncRecordMeta.open_conflicts,
                SyncRecordMeta.missing_files,
            ).where(SyncRecordMeta.entity == name, SyncRecordMeta.record_id.in_(ids))
        ):
            metas[(name, meta.record_id)] = meta
    out = []
    for (name, record_id), _pos in sorted(last_at.items(), key=lambda item: item[1]):
        entity = registry.get(name)
        record = loaded.get((name, record_id))
        meta = metas.get((name, record_id))
        if entity is not None and record is not None and ctx.scope.allows(entity.area_of(record)):
            change = {
                "entity": name,
                "id": record_id,
                "op": "upsert",
                "version": record.version,
                "fields": entity.read(ctx, record),
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
