"""Tombstone compaction: old deletes and moves are dropped, and older cursors start over."""

from __future__ import annotations

from sqlalchemy import select

from tests.server.resources.test_sync import pull_all

WATERMELON = "/api/v1/sync/watermelon"


def purge_everything_before_now(app) -> dict:
    from sync.models import SyncClock
    from sync.purge import purge_tombstones

    session = app.extensions["wangge_sessionmaker"]()
    try:
        cutoff = session.get(SyncClock, 1).ms + 1
        result = purge_tombstones(session, cutoff)
        session.commit()
        return result
    finally:
        session.close()


def log_rows(app) -> set[tuple[str, int | None]]:
    from sync.models import SyncChange

    session = app.extensions["wangge_sessionmaker"]()
    try:
        return {(c.record_id, c.area_id) for c in session.scalars(select(SyncChange))}
    finally:
        session.close()


def test_purge_drops_tombstones_and_resets_older_cursors(app, worker_a, staff, tree, make_person):
    kept, gone, moved = make_person(), make_person(), make_person()
    _, _, old_cursor = pull_all(worker_a)
    old_stamp = worker_a.get(WATERMELON, query_string={"last_pulled_at": "null"}).get_json()[
        "timestamp"
    ]
    assert staff.delete(f"/api/v1/people/{gone['id']}").status_code == 204
    r = staff.patch(f"/api/v1/people/{moved['id']}", json={"area": tree["grid_b"]},
                    headers={"If-Match": "1"})  # fmt: skip
    assert r.status_code == 200
    _, _, fresh_cursor = pull_all(worker_a)
    fresh_stamp = worker_a.get(WATERMELON, query_string={"last_pulled_at": "null"}).get_json()[
        "timestamp"
    ]
    rows_before = log_rows(app)
    assert any(rid == gone["id"] for rid, _ in rows_before)

    result = purge_everything_before_now(app)
    assert result["changes"] == 2  # the delete, and the move out of grid A
    rows = log_rows(app)
    assert {rid for rid, _ in rows} == {kept["id"], moved["id"]}
    grid_a = {area for rid, area in rows if rid == kept["id"]}
    moved_before = {area for rid, area in rows_before if rid == moved["id"]}
    assert len(moved_before) == 2  # grid A (a tombstone there) and grid B
    assert {area for rid, area in rows if rid == moved["id"]} == moved_before - grid_a

    # A device that synced before the deletes can no longer learn of them: it starts over,
    # and the full download simply no longer holds the deleted or moved records.
    r = worker_a.get("/api/v1/sync/pull", query_string={"cursor": old_cursor}).get_json()
    assert r["reset"] is True
    assert {c["id"] for c in r["changes"]} == {kept["id"]}
    wm = worker_a.get(WATERMELON, query_string={"last_pulled_at": old_stamp}).get_json()
    assert wm["experimentalStrategy"] == "replacement"
    assert [p["id"] for p in wm["changes"]["people"]["updated"]] == [kept["id"]]
    # One that synced after them carries on.
    r = worker_a.get("/api/v1/sync/pull", query_string={"cursor": fresh_cursor}).get_json()
    assert "reset" not in r and r["changes"] == []
    wm = worker_a.get(WATERMELON, query_string={"last_pulled_at": fresh_stamp}).get_json()
    assert "experimentalStrategy" not in wm
    # Staff of the community still get the moved resident, now in grid B.
    changes, _, _ = pull_all(staff)
    assert {c["id"] for c in changes} == {kept["id"], moved["id"]}
    assert purge_everything_before_now(app)["changes"] == 0  # nothing left to drop
