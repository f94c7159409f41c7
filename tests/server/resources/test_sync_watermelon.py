"""WatermelonDB's sync protocol over HTTP: pulls by timestamp, whole-batch pushes, 409 on stale."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

from tests.conftest import make_id_number

URL = "/api/v1/sync/watermelon"


def wm_id() -> str:
    """A record id as the app's WatermelonDB id generator (set to UUIDs) makes them."""
    return str(uuid.uuid4())


def pull(user, last=None, **query):
    r = user.get(URL, query_string={"last_pulled_at": "null" if last is None else last, **query})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def push(user, changes, last, status=200):
    r = user.post(URL, query_string={"last_pulled_at": last},
                  json={"changes": changes, "last_pulled_at": last})  # fmt: skip
    assert r.status_code == status, r.get_json()
    return r.get_json()


def person_raw(user, status="created", changed="", **columns):
    raw = {
        "id": wm_id(),
        "name": "李四",
        "area": user.area,
        "id_number": make_id_number(date(1990, 3, 4), "女"),
        "phone": "",
        "tags": "[]",
        "notes": "",
        "_status": status,
        "_changed": changed,
    }
    raw.update(columns)
    return raw


def table(created=(), updated=(), deleted=()):
    return {"created": list(created), "updated": list(updated), "deleted": list(deleted)}


def updated_ids(body, name="people"):
    return [r["id"] for r in body["changes"][name]["updated"]]


def test_first_pull_sends_everything_as_updated_with_personal_data_masked(worker_a, make_person):
    person = make_person(phone="13800138000", tags=["低保"])
    body = pull(worker_a)
    assert set(body["changes"]) >= {"people", "households"}
    people = body["changes"]["people"]
    assert people["created"] == [] and people["deleted"] == []
    (raw,) = people["updated"]
    assert raw["id"] == person["id"] and raw["name"] == "张三"
    assert "*" in raw["id_number"] and "*" in raw["phone"]
    assert json.loads(raw["tags"]) == ["低保"]  # lists travel as JSON text columns
    assert raw["version"] == 1 and raw["has_conflict"] is False
    assert "_status" not in raw and "_changed" not in raw
    assert isinstance(body["timestamp"], int) and body["timestamp"] > 0
    assert "experimentalStrategy" not in body


def test_incremental_pull_brings_edits_and_tombstones_and_nothing_twice(
    worker_a, staff, make_person
):
    kept = make_person()
    gone = make_person()
    stamp = pull(worker_a)["timestamp"]
    assert pull(worker_a, stamp)["changes"]["people"] == table()  # nothing new
    r = worker_a.patch(f"/api/v1/people/{kept['id']}", json={"notes": "已走访"},
                       headers={"If-Match": str(kept["version"])})  # fmt: skip
    assert r.status_code == 200, r.get_json()
    assert staff.delete(f"/api/v1/people/{gone['id']}").status_code == 204
    body = pull(worker_a, stamp)
    assert updated_ids(body) == [kept["id"]]
    assert body["changes"]["people"]["updated"][0]["notes"] == "已走访"
    assert body["changes"]["people"]["deleted"] == [gone["id"]]
    assert body["timestamp"] > stamp
    # A first sync never hears of deleted records.
    assert pull(worker_a)["changes"]["people"]["deleted"] == []


def test_push_creates_with_watermelon_ids_and_other_devices_pull_them(worker_a, make_user, tree):
    stamp = pull(worker_a)["timestamp"]
    household = {"id": wm_id(), "household_number": "330106000123", "address": "宝石一路2号",
                 "area": worker_a.area, "_status": "created", "_changed": ""}  # fmt: skip
    raw = person_raw(worker_a, household_id=household["id"], relationship_to_head="户主",
                     local_only_column="ignored")  # fmt: skip
    body = push(worker_a, {"people": table([raw]), "households": table([household])}, stamp)
    assert body["experimentalRejectedIds"] == {}
    other = make_user("grid_worker", tree["grid_a"])
    got = pull(other)
    (person,) = got["changes"]["people"]["updated"]
    assert person["id"] == raw["id"] and person["household_id"] == household["id"]
    assert updated_ids(got, "households") == [household["id"]]


def test_push_refused_whole_with_409_when_a_record_changed_after_last_pull(
    worker_a, make_person, app
):
    person = make_person()
    stamp = pull(worker_a)["timestamp"]
    r = worker_a.patch(f"/api/v1/people/{person['id']}", json={"notes": "服务器改的"},
                       headers={"If-Match": "1"})  # fmt: skip
    assert r.status_code == 200
    fresh = person_raw(worker_a)
    edit = {"id": person["id"], "name": "张三", "notes": "手机改的", "_status": "updated",
            "_changed": "notes"}  # fmt: skip
    body = push(worker_a, {"people": table([fresh], [edit])}, stamp, status=409)
    assert body["error"]["code"] == "sync.stale" and "同步" in body["error"]["message"]
    assert body["error"]["details"]["records"] == [{"table": "people", "id": person["id"]}]
    # Nothing of the batch was applied, not even the unrelated new record.
    assert fresh["id"] not in updated_ids(pull(worker_a))
    # The device pulls (its merge keeps its own column), then the retry goes through.
    stamp = pull(worker_a, stamp)["timestamp"]
    assert (
        push(worker_a, {"people": table([fresh], [edit])}, stamp)["experimentalRejectedIds"] == {}
    )
    now = {r["id"]: r for r in pull(worker_a)["changes"]["people"]["updated"]}
    assert now[person["id"]]["notes"] == "手机改的" and fresh["id"] in now


def test_updated_records_apply_only_their_changed_columns(worker_a, make_person):
    person = make_person(current_address="宝石一路1号")
    stamp = pull(worker_a)["timestamp"]
    # The raw carries every column; only _changed ones are the device's edits.
    edit = {"id": person["id"], "name": "张三", "current_address": "别的地址", "phone": "139",
            "notes": "新备注", "_status": "updated", "_changed": "notes"}  # fmt: skip
    assert push(worker_a, {"people": table(updated=[edit])}, stamp)["experimentalRejectedIds"] == {}
    (raw,) = pull(worker_a)["changes"]["people"]["updated"]
    assert raw["notes"] == "新备注" and raw["current_address"] == "宝石一路1号"
    assert raw["phone"] is None


def test_retry_of_a_committed_push_is_a_replay_not_a_conflict(worker_a, app):
    from tests.server.resources.test_sync import count_people

    stamp = pull(worker_a)["timestamp"]
    raw = person_raw(worker_a)
    first = push(worker_a, {"people": table([raw])}, stamp)
    # The response was lost; the app sends the very same request again.
    second = push(worker_a, {"people": table([raw])}, stamp)
    assert first == second == {"experimentalRejectedIds": {}}
    assert count_people(app) == 1


def test_invalid_records_stay_on_the_device_and_do_not_block_the_rest(worker_a, worker_b):
    stamp = pull(worker_a)["timestamp"]
    good = person_raw(worker_a)
    bad_number = person_raw(worker_a, id_number="123")
    bad_id = person_raw(worker_a, id="mZ3kq8Lw0aB1cD2e")  # WatermelonDB's default ids
    other_grid = person_raw(worker_a, area=worker_b.area)
    changes = {
        "people": table([good, bad_number, bad_id, other_grid]),
        # A table of a newer app version that this server does not know yet.
        "inspections": table([{"id": wm_id(), "title": "井盖缺失", "_status": "created"}]),
    }
    body = push(worker_a, changes, stamp)
    rejected = body["experimentalRejectedIds"]
    assert sorted(rejected["people"]) == sorted([bad_number["id"], bad_id["id"], other_grid["id"]])
    assert len(rejected["inspections"]) == 1
    assert "id_number" in body["rejected"]["people"][bad_number["id"]]
    assert "id" in body["rejected"]["people"][bad_id["id"]]
    assert "服务器" in body["rejected"]["inspections"][rejected["inspections"][0]]["_"][0]
    assert updated_ids(pull(worker_a)) == [good["id"]]
    assert pull(worker_b)["changes"]["people"]["updated"] == []


def test_a_refusal_is_reconsidered_when_the_same_record_comes_again(worker_a, app):
    stamp = pull(worker_a)["timestamp"]
    household_id = wm_id()
    # The household is not on the server yet: the person is refused.
    raw = person_raw(worker_a, household_id=household_id)
    body = push(worker_a, {"people": table([raw])}, stamp)
    assert body["experimentalRejectedIds"] == {"people": [raw["id"]]}
    household = {"id": household_id, "household_number": "330106000999", "area": worker_a.area,
                 "_status": "created", "_changed": ""}  # fmt: skip
    assert (
        push(worker_a, {"households": table([household])}, stamp)["experimentalRejectedIds"] == {}
    )
    # The very same request again: evaluated anew, not replayed as refused.
    body = push(worker_a, {"people": table([raw])}, stamp)
    assert body["experimentalRejectedIds"] == {}, body
    assert updated_ids(pull(worker_a)) == [raw["id"]]


def test_deletes_and_tombstones(worker_a, staff, make_person):
    person = make_person()
    stamp_a = pull(worker_a)["timestamp"]
    # Grid workers may not delete residents: the deletion stays pending on the phone.
    body = push(worker_a, {"people": table(deleted=[person["id"]])}, stamp_a)
    assert body["experimentalRejectedIds"] == {"people": [person["id"]]}
    assert "无权删除" in body["rejected"]["people"][person["id"]]["_"][0]
    stamp = pull(staff)["timestamp"]
    body = push(staff, {"people": table(deleted=[person["id"]])}, stamp)
    assert body == {"experimentalRejectedIds": {}}
    assert pull(worker_a, stamp_a)["changes"]["people"]["deleted"] == [person["id"]]
    # Deleting what is already gone (a retry after a lost response) is fine.
    stamp = pull(staff)["timestamp"]
    body = push(staff, {"people": table(deleted=[person["id"]])}, stamp)
    assert body["experimentalRejectedIds"] == {}


def test_scope_record_moved_to_another_grid_is_deleted_on_devices(
    worker_a, staff, make_person, tree
):
    person = make_person()
    stamp = pull(worker_a)["timestamp"]
    r = staff.patch(f"/api/v1/people/{person['id']}", json={"area": tree["grid_b"]},
                    headers={"If-Match": "1"})  # fmt: skip
    assert r.status_code == 200, r.get_json()
    body = pull(worker_a, stamp)
    assert body["changes"]["people"]["deleted"] == [person["id"]]
    assert body["changes"]["people"]["updated"] == []


def test_duplicate_creation_is_merged_and_the_device_copy_deleted(worker_a, make_user, tree):
    number = make_id_number(date(1975, 1, 2), "男")
    phone_a = make_user("grid_worker", tree["grid_a"])
    stamp_a = pull(phone_a)["timestamp"]
    stamp_b = pull(worker_a)["timestamp"]
    first = person_raw(phone_a, id_number=number, notes="")
    second = person_raw(worker_a, id_number=number, notes="独居老人")
    push(phone_a, {"people": table([first])}, stamp_a)
    body = push(worker_a, {"people": table([second])}, stamp_b)
    assert body["experimentalRejectedIds"] == {}
    got = pull(worker_a, stamp_b)
    assert got["changes"]["people"]["deleted"] == [second["id"]]
    (canonical,) = got["changes"]["people"]["updated"]
    assert canonical["id"] == first["id"] and canonical["notes"] == "独居老人"  # blank filled


def test_reset_when_the_timestamp_was_never_given_out(worker_a, make_person):
    person = make_person()
    stamp = pull(worker_a)["timestamp"]
    body = pull(worker_a, stamp + 10_000_000)  # e.g. the database was restored from a backup
    assert body["experimentalStrategy"] == "replacement"
    assert updated_ids(body) == [person["id"]]
    assert body["timestamp"] == stamp


def test_migration_sync_fills_new_tables_and_columns(worker_a, make_person):
    person = make_person()
    stamp = pull(worker_a)["timestamp"]
    migration = json.dumps({"from": 1, "tables": [], "columns": [
        {"table": "people", "columns": ["notes"]}]})  # fmt: skip
    body = pull(worker_a, stamp, schema_version=2, migration=migration)
    assert updated_ids(body) == [person["id"]]
    assert body["changes"]["households"]["updated"] == []


def test_malformed_requests_get_clear_errors(worker_a):
    stamp = pull(worker_a)["timestamp"]
    bad = [
        ({"changes": [], "last_pulled_at": stamp}, "changes"),
        ({"changes": {"people": {"created": "x"}}, "last_pulled_at": stamp}, "people"),
        ({"changes": {"people": table(["not a record"])}, "last_pulled_at": stamp}, "people"),
    ]
    for body, field in bad:
        r = worker_a.post(URL, json=body)
        assert r.status_code == 422, (body, r.get_json())
        err = r.get_json()["error"]
        assert err["code"] in ("sync.invalid", "validation_error") and err["message"]
        assert field in json.dumps(err["details"], ensure_ascii=False)
    r = worker_a.get(URL, query_string={"last_pulled_at": "abc"})
    assert r.status_code == 422
    r = worker_a.get(URL, query_string={"last_pulled_at": "null", "migration": "{oops"})
    assert r.status_code == 422
    r = worker_a.post(URL, query_string={"last_pulled_at": stamp + 1},
                      json={"changes": {}, "last_pulled_at": stamp})  # fmt: skip
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "sync.invalid"


def test_a_long_offline_push_beyond_the_native_batch_size_is_taken_whole(worker_a, app):
    """WatermelonDB cannot split a push: weeks offline must still sync in one request."""
    from tests.server.resources.test_sync import count_people

    stamp = pull(worker_a)["timestamp"]
    first = date(1940, 1, 1)
    records = [
        person_raw(worker_a, id_number=make_id_number(first + timedelta(days=i), "女"))
        for i in range(6000)
    ]
    body = push(worker_a, {"people": table(records)}, stamp)
    assert body["experimentalRejectedIds"] == {}
    assert count_people(app) == 6000


def test_a_push_over_the_cap_is_refused_whole(worker_a, app):
    from sync.watermelon import MAX_RECORDS
    from tests.server.resources.test_sync import count_people

    stamp = pull(worker_a)["timestamp"]
    raw = person_raw(worker_a)
    records = [{**raw, "id": wm_id()} for _ in range(MAX_RECORDS + 1)]
    body = {"changes": {"people": table(records)}, "last_pulled_at": stamp}
    r = worker_a.post(URL, query_string={"last_pulled_at": stamp}, json=body)
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "sync.invalid" and err["details"]["limit"] == MAX_RECORDS
    assert str(MAX_RECORDS) in err["message"]
    assert count_people(app) == 0
