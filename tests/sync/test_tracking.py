"""Change tracking on the ORM session: every write of a synced record is logged in order."""

from __future__ import annotations

from sqlalchemy import select

from ledger.registry import people as people_ops
from sync import tracking
from sync.models import SyncChange, SyncClock, SyncRecordMeta
from tests.ledger.registry.test_people_ops import make_ctx, person


def rows(session, record_id):
    return session.execute(
        select(SyncChange.seq, SyncChange.area_id, SyncChange.deleted)
        .where(SyncChange.record_id == record_id)
        .order_by(SyncChange.seq)
    ).all()


def meta(session, record_id):
    return session.get(SyncRecordMeta, ("person", record_id), populate_existing=True)


def test_create_edit_move_delete_are_logged(session):
    ctx = make_ctx(session, None)
    p = person(ctx, "钱七", notes="初始")
    session.commit()
    (first,) = rows(session, p.id)
    assert meta(session, p.id).version == 1
    assert meta(session, p.id).field_versions["notes"] == 1

    people_ops.update_person(ctx, p.id, {"current_address": "新址"}, None)
    session.commit()
    (second,) = rows(session, p.id)
    assert second.seq > first.seq  # the newest change replaces the older row
    versions = meta(session, p.id).field_versions
    assert versions["current_address"] == 2 and versions["notes"] == 1

    g1 = p.area_id
    people_ops.update_person(ctx, p.id, {"area": "G2"}, None)
    session.commit()
    moved = rows(session, p.id)
    # One row for the grid it left (so devices there drop it), one for the new grid.
    assert {r.area_id for r in moved} == {g1, p.area_id} and len(moved) == 2
    assert min(r.seq for r in moved) > second.seq

    people_ops.delete_person(ctx, p.id)
    session.commit()
    gone = rows(session, p.id)
    assert all(r.deleted for r in gone) and len(gone) == 2
    assert meta(session, p.id).deleted is True


def test_clock_only_moves_forward(session):
    ctx = make_ctx(session, None)
    seen = []
    for i in range(5):
        person(ctx, f"人{i}")
        session.commit()
        clock = session.get(SyncClock, 1, populate_existing=True)
        seen.append((clock.seq, clock.ms))
    assert [s for s, _ in seen] == sorted({s for s, _ in seen})
    assert [m for _, m in seen] == sorted({m for _, m in seen})


def test_a_rolled_back_write_logs_nothing(session):
    ctx = make_ctx(session, None)
    before = session.get(SyncClock, 1)
    before_seq = before.seq if before else 0
    p = person(ctx, "孙八")
    session.rollback()
    assert rows(session, p.id) == []
    after = session.get(SyncClock, 1, populate_existing=True)
    assert (after.seq if after else 0) == before_seq


def test_keys_of_an_object_field_are_versioned_apart():
    # Versioned by key from the start: a key never set has never changed.
    versions = {"data": 4, "data.a": 1, "data.b": 4}
    assert [tracking.last_change(versions, "data", k) for k in "abc"] == [1, 4, 0]
    assert tracking.last_change(versions, "data") == 4
    # A record whose field was last changed before keys were versioned: its first keyed
    # write keeps the old whole-field version as the floor for the keys it did not touch.
    legacy = {"name": 1, "data": 3}
    assert tracking.last_change(legacy, "data", "a") == 3
    tracking._floor_keys(legacy, {"data", "data.a"})
    legacy.update({"data": 5, "data.a": 5})
    assert [tracking.last_change(legacy, "data", k) for k in "ab"] == [5, 3]
    # The floor is set once: later writes leave it.
    tracking._floor_keys(legacy, {"data", "data.b"})
    assert legacy["data.~"] == 3
