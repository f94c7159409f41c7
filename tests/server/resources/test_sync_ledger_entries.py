"""Ledger entries through offline sync: a visit logged without signal, edited on two devices,
seen by staff, masked on the wire, and kept within the grid."""

from __future__ import annotations

from tests.server.resources.test_ledgers import entry_url
from tests.server.resources.test_sync import mutation, pull_all, push


def visit_fields(user, **data):
    values = {
        "visit_date": "2026-11-20",
        "visited_name": "王芳",
        "purpose": "日常走访",
        "situation": "地下室没有信号，回来后同步",
        "visitor": "李网格",
        **data,
    }
    return {"ledger": "visit_log", "area": user.area, "data": values}


def entries_in(changes):
    return {c["id"]: c for c in changes if c["entity"] == "ledger_entry"}


def test_an_offline_visit_syncs_and_edits_merge_by_key(builtin_ledgers, worker_a, staff):
    created = mutation("ledger_entry", **visit_fields(worker_a))
    (result,) = push(worker_a, created)
    assert result["status"] == "applied" and result["version"] == 1, result
    entry_id = created["id"]
    # The office sees it through the REST API at once, with the device's id.
    r = staff.get(entry_url("visit_log", entry_id))
    assert r.status_code == 200 and r.get_json()["data"]["situation"].startswith("地下室")

    changes, _, cursor = pull_all(staff)
    pulled = entries_in(changes)[entry_id]
    assert pulled["fields"]["ledger"] == "visit_log" and pulled["fields"]["area"] == worker_a.area
    assert pulled["fields"]["data"]["purpose"] == "日常走访" and pulled["version"] == 1

    # The office fills in the follow-up after the phone last synced (version 2).
    r = staff.patch(
        entry_url("visit_log", entry_id),
        json={"data": {"follow_up": "下周回访"}},
        headers={"If-Match": "1"},
    )
    assert r.status_code == 200
    # From version 1, the phone corrects the situation: another key of the same entry merges.
    edit = mutation("ledger_entry", record_id=entry_id, base=1,
                    data={"situation": "补充：老人血压偏高"})  # fmt: skip
    (result,) = push(worker_a, edit)
    assert result["status"] == "merged" and result["version"] == 3, result
    data = staff.get(entry_url("visit_log", entry_id)).get_json()["data"]
    assert data["situation"] == "补充：老人血压偏高" and data["follow_up"] == "下周回访"
    # Still from version 1, the phone changes the purpose and the follow-up. The purpose
    # nobody else touched applies; the follow-up the office wrote waits for staff.
    edit = mutation("ledger_entry", record_id=entry_id, base=1,
                    data={"purpose": "困难帮扶", "follow_up": "明天再去"})  # fmt: skip
    (result,) = push(worker_a, edit)
    assert result["status"] == "conflict" and result["version"] == 4, result
    data = staff.get(entry_url("visit_log", entry_id)).get_json()["data"]
    assert (data["purpose"], data["follow_up"]) == ("困难帮扶", "下周回访")
    conflicts = staff.get("/api/v1/sync/conflicts").get_json()["items"]
    (conflict,) = [c for c in conflicts if c["id"] == result["conflict_id"]]
    assert conflict["client"] == {"data": {"follow_up": "明天再去"}}
    assert conflict["server"] == {"data": {"follow_up": "下周回访"}}
    # Staff take the phone's follow-up: only that key changes, as a new version.
    r = staff.post(f"/api/v1/sync/conflicts/{result['conflict_id']}/resolve",
                   json={"choice": "client"})  # fmt: skip
    assert r.status_code == 200, r.get_json()
    entry = staff.get(entry_url("visit_log", entry_id)).get_json()
    assert entry["version"] == 5
    assert (entry["data"]["purpose"], entry["data"]["follow_up"]) == ("困难帮扶", "明天再去")
    assert entry["data"]["situation"] == "补充：老人血压偏高"

    # Deleting needs the office's role; the pull then carries the tombstone.
    (result,) = push(worker_a, mutation("ledger_entry", op="delete", record_id=entry_id, base=5))
    assert result["status"] == "rejected"
    (result,) = push(staff, mutation("ledger_entry", op="delete", record_id=entry_id, base=5))
    assert result["status"] == "applied", result
    changes, _, _ = pull_all(staff, cursor)
    assert entries_in(changes)[entry_id]["op"] == "delete"


def test_personal_values_are_masked_and_scope_holds(
    builtin_ledgers, worker_a, worker_b, staff, id_number
):
    number = id_number()
    fields = {
        "ledger": "rental_housing",
        "area": worker_a.area,
        "data": {"address": "宝石二路3号", "landlord_name": "钱房东", "landlord_id_number": number},
    }
    created = mutation("ledger_entry", **fields)
    (result,) = push(worker_a, created)
    assert result["status"] == "applied", result
    changes, _, _ = pull_all(worker_a)
    data = entries_in(changes)[created["id"]]["fields"]["data"]
    assert data["landlord_id_number"] == number[:6] + "********" + number[-4:]
    # Sending the masked number back is no change.
    same = mutation(
        "ledger_entry",
        record_id=created["id"],
        base=1,
        data={"landlord_id_number": data["landlord_id_number"]},
    )
    (result,) = push(worker_a, same)
    assert result["status"] == "applied" and result["version"] == 1
    # The office corrects the number and phone; a stale edit of them from the phone lands
    # in a conflict, and staff see it masked there too.
    r = staff.patch(
        entry_url("rental_housing", created["id"]),
        json={"data": {"landlord_id_number": id_number(), "landlord_phone": "13800001111"}},
        headers={"If-Match": "1"},
    )
    assert r.status_code == 200
    other_number = id_number()
    stale = mutation(
        "ledger_entry",
        record_id=created["id"],
        base=1,
        data={"landlord_id_number": other_number, "landlord_phone": "13912345678"},
    )
    assert push(worker_a, stale)[0]["status"] == "conflict"
    (listed,) = staff.get("/api/v1/sync/conflicts").get_json()["items"]
    assert listed["client"]["data"]["landlord_id_number"] == (
        other_number[:6] + "********" + other_number[-4:]
    )
    assert listed["client"]["data"]["landlord_phone"] == "139****5678"
    assert other_number not in str(listed)
    # Another grid's worker neither pulls it nor can write it.
    assert created["id"] not in entries_in(pull_all(worker_b)[0])
    other = mutation("ledger_entry", record_id=created["id"], base=1, data={"notes": "x"})
    assert push(worker_b, other)[0]["status"] == "rejected"
    # Invalid data is refused with the ledger's own field messages.
    bad = mutation("ledger_entry", **{**visit_fields(worker_a), "data": {"purpose": "闲聊"}})
    (result,) = push(worker_a, bad)
    assert result["status"] == "rejected" and "purpose" in str(result["errors"]), result


def test_photos_not_uploaded_yet_are_reported_missing(builtin_ledgers, worker_a):
    photo = "ab" * 32
    created = mutation("ledger_entry", **visit_fields(worker_a, photos=[photo.upper()]))
    (result,) = push(worker_a, created)
    assert result["status"] == "applied", result
    assert result["missing_files"] == [photo]
