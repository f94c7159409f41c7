"""Native sync over HTTP: exactly-once push, field merge, conflicts, dedupe, tombstones, scope."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest

from tests.conftest import make_id_number

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


def mutation(entity="person", op="upsert", record_id=None, base=None, **fields):
    return {
        "mutation_id": str(uuid.uuid4()),
        "entity": entity,
        "op": op,
        "id": record_id or str(uuid.uuid4()),
        "base_version": base,
        "fields": fields,
        "client_time": "2026-11-24T08:00:00+08:00",
    }


def push(user, *mutations, device="phone-1"):
    r = user.post(PUSH, json={"device_id": device, "mutations": list(mutations)})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["results"]


def pull_all(user, cursor=None):
    """Every page from ``cursor``; returns (changes, remaps, cursor)."""
    changes, remaps = [], []
    while True:
        r = user.get(PULL, query_string={"cursor": cursor or "", "limit": 2})
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        changes += body["changes"]
        remaps += body["remaps"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return changes, remaps, cursor


def new_person(user, **fields):
    body = {"name": "张三", "area": user.area, "id_number": make_id_number(date(1980, 5, 6), "男")}
    body.update(fields)
    return mutation(**body)


def count_people(app):
    from sqlalchemy import func, select

    from ledger.registry.models import Person

    session = app.extensions["wangge_sessionmaker"]()
    try:
        return session.scalar(select(func.count()).select_from(Person))
    finally:
        session.close()


def test_create_then_another_device_pulls_it_masked(worker_a, make_user, tree):
    m = new_person(worker_a, current_address="宝石一路1号")
    (result,) = push(worker_a, m)
    assert result["status"] == "applied" and result["id"] == m["id"] and result["version"] == 1
    other = make_user("grid_worker", tree["grid_a"])
    changes, remaps, cursor = pull_all(other)
    (change,) = [c for c in changes if c["id"] == m["id"]]
    assert change["op"] == "upsert" and change["version"] == 1
    assert change["fields"]["current_address"] == "宝石一路1号"
    assert change["fields"]["id_number"] != m["fields"]["id_number"]  # masked on devices
    assert "*" in change["fields"]["id_number"]
    assert remaps == []
    # Nothing new: the same cursor brings nothing.
    again, _, _ = pull_all(other, cursor)
    assert again == []


def test_replay_returns_the_stored_result_and_changes_nothing(app, worker_a):
    m = new_person(worker_a)
    first = push(worker_a, m)
    _, _, cursor = pull_all(worker_a)
    replay = push(worker_a, m, device="phone-1")
    assert replay == first
    assert count_people(app) == 1
    assert pull_all(worker_a, cursor)[0] == []


def test_concurrent_replays_apply_once(app, worker_a):
    m = new_person(worker_a)
    results, errors = [], []

    def go():
        try:
            with app.test_client() as c:
                r = c.post(PUSH, json={"device_id": "phone-1", "mutations": [m]},
                           headers={"Authorization": f"Bearer {worker_a.token}"})  # fmt: skip
                results.append((r.status_code, r.get_json()))
        except Exception as exc:  # noqa: BLE001 - a thread must report, not die silently
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [code for code, _ in results] == [200] * 4
    bodies = [body["results"][0] for _, body in results]
    assert all(b == bodies[0] for b in bodies) and bodies[0]["status"] == "applied"
    assert count_people(app) == 1


def test_one_bad_mutation_is_rejected_alone(worker_a):
    good = new_person(worker_a, name="李四")
    bad = new_person(worker_a, id_number="110101199003070000")
    junk = {"mutation_id": "not-a-uuid", "entity": "person", "op": "upsert"}
    unknown = mutation(entity="spaceship", name="x")
    results = push(worker_a, bad, good, junk, unknown)
    assert [r["status"] for r in results] == ["rejected", "applied", "rejected", "rejected"]
    assert "id_number" in results[0]["errors"]
    assert "mutation_id" in results[2]["errors"]
    assert "entity" in results[3]["errors"]
    # A rejected mutation is remembered: its replay answers the same.
    assert push(worker_a, bad)[0] == results[0]


def test_stale_edits_of_different_fields_merge(worker_a, make_user, tree):
    phone2 = make_user("grid_worker", tree["grid_a"])
    m = new_person(worker_a)
    push(worker_a, m)
    r1 = push(worker_a, mutation(record_id=m["id"], base=1, current_address="新地址1号"))
    assert r1[0]["status"] == "applied" and r1[0]["version"] == 2
    r2 = push(phone2, mutation(record_id=m["id"], base=1, notes="独居，需每周探访"), device="p2")
    assert r2[0]["status"] == "merged" and r2[0]["version"] == 3
    changes, _, _ = pull_all(worker_a)
    fields = next(c for c in changes if c["id"] == m["id"])["fields"]
    assert fields["current_address"] == "新地址1号" and fields["notes"] == "独居，需每周探访"


def test_same_field_conflict_is_kept_reviewed_and_resolved(app, worker_a, make_user, tree, staff):
    phone2 = make_user("grid_worker", tree["grid_a"])
    m = new_person(worker_a)
    push(worker_a, m)
    push(worker_a, mutation(record_id=m["id"], base=1, current_address="甲地址"))
    (res,) = push(phone2, mutation(record_id=m["id"], base=1, current_address="乙地址",
                                   notes="备注"), device="p2")  # fmt: skip
    assert res["status"] == "conflict" and res["conflict_id"]
    changes, _, _ = pull_all(worker_a)
    change = next(c for c in changes if c["id"] == m["id"])
    # The server keeps its value, applies the uncontested field, and flags the record.
    assert change["fields"]["current_address"] == "甲地址"
    assert change["fields"]["notes"] == "备注"
    assert change["conflict"] is True

    assert worker_a.get("/api/v1/sync/conflicts").status_code == 403
    listed = staff.get("/api/v1/sync/conflicts").get_json()["items"]
    (conflict,) = listed
    assert conflict["id"] == res["conflict_id"] and conflict["kind"] == "fields"
    assert conflict["client"] == {"current_address": "乙地址"}
    assert conflict["server"] == {"current_address": "甲地址"}

    r = staff.post(f"/api/v1/sync/conflicts/{conflict['id']}/resolve", json={"choice": "client"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "resolved"
    again = staff.post(
        f"/api/v1/sync/conflicts/{conflict['id']}/resolve", json={"choice": "server"}
    )
    assert again.status_code == 422 and again.get_json()["error"]["code"] == "sync.conflict_closed"

    changes, _, _ = pull_all(worker_a)
    change = next(c for c in changes if c["id"] == m["id"])
    assert change["fields"]["current_address"] == "乙地址"
    assert "conflict" not in change
    assert change["version"] > res["version"]
    assert staff.get("/api/v1/sync/conflicts").get_json()["items"] == []


def test_resolution_is_audited(worker_a, make_user, tree, staff, admin):
    phone2 = make_user("grid_worker", tree["grid_a"])
    m = new_person(worker_a)
    push(worker_a, m)
    push(worker_a, mutation(record_id=m["id"], base=1, notes="甲"))
    (res,) = push(phone2, mutation(record_id=m["id"], base=1, notes="乙"), device="p2")
    r = staff.post(f"/api/v1/sync/conflicts/{res['conflict_id']}/resolve",
                   json={"choice": "custom", "fields": {"notes": "甲乙"}})  # fmt: skip
    assert r.status_code == 200, r.get_json()
    entries = admin.get(
        "/api/v1/audit", query_string={"action": "sync.conflict.resolve"}
    ).get_json()
    assert any(e["object_id"] == m["id"] for e in entries["items"])
    changes, _, _ = pull_all(worker_a)
    assert next(c for c in changes if c["id"] == m["id"])["fields"]["notes"] == "甲乙"


def test_two_phones_register_the_same_resident(app, worker_a, make_user, tree):
    phone2 = make_user("grid_worker", tree["grid_a"])
    number = make_id_number(date(1975, 1, 2), "女")
    first = new_person(worker_a, name="王芳", id_number=number, current_address="宝石一路2号")
    second = new_person(phone2, name="王芳", id_number=number, phone="13800138000")
    push(worker_a, first)
    (dup,) = push(phone2, second, device="p2")
    assert dup["status"] == "duplicate" and dup["canonical_id"] == first["id"]
    assert count_people(app) == 1
    changes, remaps, _ = pull_all(phone2)
    assert {"entity": "person", "from_id": second["id"], "to_id": first["id"]} in remaps
    fields = next(c for c in changes if c["id"] == first["id"])["fields"]
    # The blank phone was filled from the duplicate; nothing else was overwritten.
    assert fields["phone"] and fields["current_address"] == "宝石一路2号"
    # A later edit of the duplicate's id lands on the canonical record.
    (later,) = push(phone2, mutation(record_id=second["id"], base=1, notes="后补"), device="p2")
    assert later["id"] == first["id"] and later["canonical_id"] == first["id"]


def test_deletes_reach_other_devices_as_tombstones(worker_a, staff):
    m = new_person(worker_a)
    push(worker_a, m)
    _, _, cursor = pull_all(worker_a)
    # Grid workers may not delete residents; staff may.
    (refused,) = push(worker_a, mutation(op="delete", record_id=m["id"], base=1))
    assert refused["status"] == "rejected" and refused["errors"]["code"] == "sync.forbidden"
    (gone,) = push(staff, mutation(op="delete", record_id=m["id"], base=1), device="office")
    assert gone["status"] == "applied"
    changes, _, _ = pull_all(worker_a, cursor)
    assert [(c["id"], c["op"]) for c in changes] == [(m["id"], "delete")]
    # A fresh device never hears of it.
    assert all(c["id"] != m["id"] for c in pull_all(worker_a)[0])
    # An edit that arrives after the delete is kept as a conflict, not lost and not revived.
    (late,) = push(worker_a, mutation(record_id=m["id"], base=1, notes="迟到的修改"))
    assert late["status"] == "conflict" and late["conflict_id"]


def test_delete_of_a_record_changed_since_is_a_conflict(worker_a, staff):
    m = new_person(worker_a)
    push(worker_a, m)
    push(worker_a, mutation(record_id=m["id"], base=1, notes="新情况"))
    (res,) = push(staff, mutation(op="delete", record_id=m["id"], base=1), device="office")
    assert res["status"] == "conflict"
    assert any(c["id"] == m["id"] and c["op"] == "upsert" for c in pull_all(worker_a)[0])


def test_scope_is_enforced_on_push_and_pull(worker_a, worker_b, staff, tree):
    m = new_person(worker_a)
    push(worker_a, m)
    # B cannot edit A's resident, nor register one into A's grid.
    (edit,) = push(worker_b, mutation(record_id=m["id"], base=1, notes="x"), device="b")
    assert edit["status"] == "rejected" and edit["errors"]["code"] == "sync.out_of_scope"
    (into,) = push(worker_b, new_person(worker_b, area=tree["grid_a"]), device="b")
    assert into["status"] == "rejected" and "area" in into["errors"]
    _, _, cursor_a = pull_all(worker_a)
    b_changes, _, cursor_b = pull_all(worker_b)
    assert all(c["id"] != m["id"] for c in b_changes)
    # Staff move the resident to grid B: A's devices drop it, B's receive it.
    (moved,) = push(staff, mutation(record_id=m["id"], base=1, area=tree["grid_b"]), device="o")
    assert moved["status"] == "applied"
    a_changes, _, _ = pull_all(worker_a, cursor_a)
    assert [(c["id"], c["op"]) for c in a_changes] == [(m["id"], "delete")]
    b_changes, _, _ = pull_all(worker_b, cursor_b)
    assert [(c["id"], c["op"]) for c in b_changes] == [(m["id"], "upsert")]


def test_staff_pages_merge_their_grids_in_log_order(worker_a, worker_b, staff, make_user, tree):
    """A community's pull reads each grid's rows and merges them: pages stay in log order,
    every change comes once, and other communities' rows never show."""
    worker_c = make_user("grid_worker", tree["grid_c"])
    pushed = []
    for i in range(9):
        user = (worker_a, worker_b, worker_a, worker_c)[i % 4]
        m = new_person(user, id_number=make_id_number(date(1960 + i, 3, 4), "女"))
        push(user, m, device=f"d{i}")
        if user is not worker_c:
            pushed.append(m["id"])
    # An edit moves a record to the end of the log.
    push(worker_a, mutation(record_id=pushed[0], base=1, notes="又改了"))
    pushed.append(pushed.pop(0))
    changes, _, cursor = pull_all(staff)  # pages of 2
    assert [c["id"] for c in changes] == pushed
    assert pull_all(staff, cursor)[0] == []


def test_rest_api_edits_are_pulled_too(worker_a, make_person):
    _, _, cursor = pull_all(worker_a)
    person = make_person(name="赵六")
    changes, _, _ = pull_all(worker_a, cursor)
    assert [(c["id"], c["fields"]["name"]) for c in changes] == [(person["id"], "赵六")]


def test_masked_values_sent_back_change_nothing(worker_a):
    m = new_person(worker_a, phone="13912345678")
    push(worker_a, m)
    changes, _, _ = pull_all(worker_a)
    fields = next(c for c in changes if c["id"] == m["id"])["fields"]
    (res,) = push(worker_a, mutation(record_id=m["id"], base=1, **fields))
    assert res["status"] == "applied" and res["version"] == 1


@pytest.mark.parametrize("cursor", ["garbage", "deadbeef.5", "0000.1"])
def test_unusable_cursor_resets(worker_a, cursor):
    push(worker_a, new_person(worker_a))
    r = worker_a.get(PULL, query_string={"cursor": cursor})
    assert r.status_code == 200
    body = r.get_json()
    assert body["reset"] is True and len(body["changes"]) == 1


def test_households_sync_with_their_number_as_dedupe_key(worker_a, make_user, tree):
    phone2 = make_user("grid_worker", tree["grid_a"])
    a = mutation(entity="household", household_number="330106-7777", area=worker_a.area,
                 address="宝石二路3号")  # fmt: skip
    b = mutation(entity="household", household_number="330106-7777", area=worker_a.area)
    assert push(worker_a, a)[0]["status"] == "applied"
    (dup,) = push(phone2, b, device="p2")
    assert dup["status"] == "duplicate" and dup["canonical_id"] == a["id"]


def test_a_batch_mixes_bulk_creations_with_decisions_in_order(app, worker_a, worker_b, make_person):
    """New records are written together, yet every result is what one-by-one would give."""
    from sqlalchemy import func, select

    from sync.models import SyncMutation

    known_number = make_id_number(date(1966, 6, 6), "女")
    known = make_person(id_number=known_number)
    a = new_person(worker_a)
    batch = [
        a,
        new_person(worker_a, id_number="110101199003070000"),  # bad check digit
        new_person(worker_a, area=worker_b.area),  # another grid
        mutation(record_id=a["id"], base=1, notes="同一批里又改了"),
        new_person(worker_a, id_number=a["fields"]["id_number"]),  # same resident again
        a,  # replayed within the batch
        e := new_person(worker_a, id_number=make_id_number(date(1977, 7, 7), "男")),
        new_person(worker_a, name="王五", id_number=known_number),  # already registered
        mutation(op="delete", record_id=e["id"]),  # grid workers may not delete
    ]
    results = push(worker_a, *batch)
    statuses = [r["status"] for r in results]
    assert statuses == ["applied", "rejected", "rejected", "applied", "duplicate", "applied",
                        "applied", "duplicate", "rejected"]  # fmt: skip
    assert "id_number" in results[1]["errors"] and "area" in results[2]["errors"]
    assert results[3]["version"] == 2
    assert results[4]["canonical_id"] == a["id"]
    assert results[5] == results[0]  # a replay answers what the first one did
    assert results[7]["canonical_id"] == known["id"]
    assert results[8]["errors"]["code"] == "sync.forbidden"
    assert count_people(app) == 3
    session = app.extensions["wangge_sessionmaker"]()
    try:
        stored = session.scalar(select(func.count()).select_from(SyncMutation))
    finally:
        session.close()
    assert stored == len(batch) - 1
    changes, remaps, _ = pull_all(worker_a)
    by_id = {c["id"]: c for c in changes}
    assert by_id[a["id"]]["version"] == 2
    assert by_id[a["id"]]["fields"]["notes"] == "同一批里又改了"
    assert {(r["from_id"], r["to_id"]) for r in remaps} == {
        (batch[4]["id"], a["id"]),
        (batch[7]["id"], known["id"]),
    }
    # The whole batch again is a replay: same answers, nothing new.
    assert push(worker_a, *batch) == results
    assert count_people(app) == 3


def test_a_batch_of_edits_is_written_together_with_one_by_one_results(
    app, worker_a, worker_b, staff, make_person
):
    """Edits are decided and flushed as a group, yet merges, conflicts and refusals come out
    exactly as one at a time, and a refused edit leaves nothing of itself behind."""
    people = [new_person(worker_a, id_number=make_id_number(date(1970 + i, 1, 2), "男"))
              for i in range(8)]  # fmt: skip
    assert {r["status"] for r in push(worker_a, *people)} == {"applied"}
    p = [m["id"] for m in people]
    other_grid = make_person(user=worker_b)
    # Someone at the office edits two of them after the phone last synced.
    for rid, body in ((p[1], {"notes": "办公室备注"}), (p[2], {"current_address": "办公室地址"})):
        r = staff.patch(f"/api/v1/people/{rid}", json=body, headers={"If-Match": "1"})
        assert r.status_code == 200, r.get_json()
    taken = people[0]["fields"]["id_number"]
    twin = make_id_number(date(1999, 9, 9), "男")
    batch = [
        mutation(record_id=p[0], base=1, notes="甲"),
        mutation(record_id=p[1], base=1, current_address="新家1号"),  # other field: merged
        mutation(record_id=p[2], base=1, current_address="手机地址", notes="手机备注"),
        mutation(record_id=p[3], base=1, notes="不应保存", ethnicity="火星族"),
        mutation(record_id=other_grid["id"], base=1, notes="越界"),
        mutation(record_id=p[4], base=9, notes="未来版本"),
        mutation(record_id=p[0], base=2, current_address="乙地"),  # same record again
        mutation(record_id=p[5], base=1, id_number=taken),  # already someone else's
        # Two records claim one new number in the same group: the second is refused.
        mutation(record_id=p[6], base=1, id_number=twin),
        mutation(record_id=p[7], base=1, id_number=twin),
    ]
    batch.append(dict(batch[0]))  # a replay within the batch
    results = push(worker_a, *batch)
    assert [r["status"] for r in results] == [
        "applied", "merged", "conflict", "rejected", "rejected", "rejected", "applied",
        "rejected", "applied", "rejected", "applied",
    ]  # fmt: skip
    assert [r["version"] for r in results[:3]] == [2, 3, 3]
    assert results[2]["conflict_id"]
    assert "ethnicity" in results[3]["errors"]
    assert results[4]["errors"]["code"] == "sync.out_of_scope"
    assert "base_version" in results[5]["errors"]
    assert results[6]["version"] == 3
    duplicate = "people.duplicate_id_number"
    assert results[7]["errors"]["code"] == results[9]["errors"]["code"] == duplicate
    assert results[10] == results[0]

    changes, _, _ = pull_all(worker_a)
    fields = {c["id"]: c["fields"] for c in changes}
    assert (fields[p[0]]["notes"], fields[p[0]]["current_address"]) == ("甲", "乙地")
    assert (fields[p[1]]["notes"], fields[p[1]]["current_address"]) == ("办公室备注", "新家1号")
    # The contested field keeps the server's value; the other one applies.
    assert (fields[p[2]]["notes"], fields[p[2]]["current_address"]) == ("手机备注", "办公室地址")
    assert fields[p[3]]["notes"] is None and fields[p[4]]["notes"] is None
    versions = {c["id"]: c["version"] for c in changes}
    assert [versions[rid] for rid in p[3:]] == [1, 1, 1, 2, 1]
    (conflict,) = staff.get("/api/v1/sync/conflicts").get_json()["items"]
    assert conflict["client"] == {"current_address": "手机地址"}
    # Replaying the whole batch answers the same and changes nothing.
    _, _, cursor = pull_all(worker_a)
    assert push(worker_a, *batch) == results
    assert pull_all(worker_a, cursor)[0] == []


def test_oversized_push_is_refused_whole(app, worker_a):
    r = worker_a.post(PUSH, json={"device_id": "x", "mutations": [new_person(worker_a)] * 5001})
    assert r.status_code == 422
    body = r.get_json()["error"]
    assert body["code"] == "sync.invalid" and "5000" in body["message"]
    assert body["details"]["limit"] == 5000
    assert count_people(app) == 0


def test_malformed_push_body(worker_a):
    r = worker_a.post(PUSH, json={"device_id": "x", "mutations": "nope"})
    assert r.status_code == 422
    r = worker_a.post(PUSH, data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_a_batch_of_deletes_is_written_together_with_one_by_one_results(
    worker_a, staff, admin, make_user, tree
):
    """Deletes of existing records are written together, yet a stale base is still a
    conflict, another community's resident still refused, a household loses its head as it
    would one at a time, and every delete is audited."""
    people = [new_person(worker_a, id_number=make_id_number(date(1960 + i, 3, 4), "女"))
              for i in range(5)]  # fmt: skip
    push(worker_a, *people)
    p = [m["id"] for m in people]
    r = worker_a.post("/api/v1/households", json={"area": worker_a.area, "head_person_id": p[1]})
    assert r.status_code == 201, r.get_json()
    household = r.get_json()
    push(worker_a, mutation(record_id=p[2], base=1, notes="新情况"))
    other = make_user("grid_worker", tree["grid_c"])
    outsider = new_person(other)
    push(other, outsider)
    _, _, cursor = pull_all(worker_a)
    batch = [
        mutation(op="delete", record_id=p[0], base=1),
        mutation(op="delete", record_id=p[1], base=2),  # heads a household (since v2)
        mutation(op="delete", record_id=p[2], base=1),  # changed since version 1
        mutation(op="delete", record_id=outsider["id"], base=1),  # another community
        mutation(op="delete", record_id=str(uuid.uuid4())),  # never reached the server
        mutation(op="delete", record_id=p[0], base=2),  # gone already, earlier in the batch
        mutation(record_id=p[3], base=1, notes="同批修改"),
        mutation(op="delete", record_id=p[4]),
    ]
    results = push(staff, *batch, device="office")
    assert [r["status"] for r in results] == [
        "applied", "applied", "conflict", "rejected", "applied", "applied", "applied", "applied",
    ]  # fmt: skip
    assert [r["version"] for r in (results[0], results[1], results[7])] == [2, 3, 2]
    assert results[3]["errors"]["code"] == "sync.out_of_scope"

    changes, _, _ = pull_all(worker_a, cursor)
    ops = {c["id"]: c["op"] for c in changes}
    assert [ops.get(rid) for rid in p] == ["delete", "delete", None, "upsert", "delete"]
    pulled = next(c for c in changes if c["id"] == household["id"])
    assert pulled["fields"]["head_person_id"] is None and pulled["version"] == 2
    assert worker_a.get(f"/api/v1/people/{p[2]}").status_code == 200
    audited = admin.get(
        "/api/v1/audit", query_string={"action": "person.delete", "limit": 50}
    ).get_json()["items"]
    assert sorted(e["object_id"] for e in audited) == sorted([p[0], p[1], p[4]])
    # The whole batch replayed answers the same and changes nothing.
    assert push(staff, *batch, device="office") == results
    assert pull_all(worker_a, pull_all(worker_a, cursor)[2])[0] == []
