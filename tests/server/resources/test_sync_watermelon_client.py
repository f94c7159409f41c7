"""The real WatermelonDB 0.28.0 client, two devices in Node, syncing with a live server."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import make_id_number
from tests.plugins.live import LiveServer

CLIENT = Path(__file__).resolve().parent / "watermelon"
COMPARED = ("name", "current_address", "notes", "phone", "household_id", "relationship_to_head")


@pytest.fixture
def live(app):
    server = LiveServer(app)
    yield server
    server.stop()


def run_devices(live, worker, staff, area) -> dict:
    if shutil.which("node") is None or not (CLIENT / "node_modules").is_dir():
        pytest.fail("Node.js and the pinned client are installed by scripts/setup.sh (npm ci)")
    numbers = [make_id_number(date(1950 + i, 2, 3), "女" if i % 2 else "男") for i in range(4)]
    config = {
        "url": live.base,
        "tokens": {"worker": worker.token, "staff": staff.token},
        "area": area,
        "household_number": f"3301060{random.randint(10000, 99999)}",
        "id_numbers": numbers,
    }
    proc = subprocess.run(
        ["node", "devices.cjs"],
        cwd=CLIENT,
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.stdout, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert proc.returncode == 0, out.get("error")
    return out


def test_two_devices_converge_with_the_server(
    live, worker_a, staff, tree, make_person, app, builtin_ledgers
):
    from sqlalchemy import select

    from ledger.registry.models import Household, Person
    from sync.models import SyncMutation

    existing = make_person(name="赵大爷")  # already on the server before the phones sync
    out = run_devices(live, worker_a, staff, tree["grid_a"])
    ids = out["ids"]
    worker, tablet = out["devices"]["phone-worker"], out["devices"]["tablet-staff"]

    # WatermelonDB itself found nothing wrong with what the server sent.
    assert out["sync_log"] == []
    assert [e for e in out["logged"] if e["level"] == "error"] == []
    # The staff tablet's push was refused once as stale, then went through after a pull.
    assert tablet["stale"] >= 1

    # Same records everywhere: the deleted and the never-synced ones are gone for good.
    expected_people = {ids["head"], existing["id"]}
    session = app.extensions["wangge_sessionmaker"]()
    try:
        on_server = set(session.scalars(select(Person.id)))
        households = set(session.scalars(select(Household.id)))
        pushed = set(
            session.scalars(select(SyncMutation.record_id).where(SyncMutation.op == "upsert"))
        )
    finally:
        session.close()
    assert on_server == expected_people
    assert set(worker["people"]) == set(tablet["people"]) == expected_people
    assert (
        set(worker["households"]) == set(tablet["households"]) == households == {ids["household"]}
    )
    assert ids["draft"] not in pushed  # created and deleted offline: never created here
    assert {ids["son"], ids["visitor"]} <= pushed  # sent, then deleted, and not recreated

    # Each device holds exactly what the server shows its user.
    for device, user in ((worker, worker_a), (tablet, staff)):
        for person_id in expected_people:
            r = user.get(f"/api/v1/people/{person_id}")
            assert r.status_code == 200
            server_view = r.get_json()
            local = device["people"][person_id]
            for column in COMPARED:
                assert local[column] == server_view[column], (column, person_id)
            assert local["_status"] == "synced"
            assert json.loads(local["tags"]) == server_view["tags"]
            assert local["version"] == server_view["version"]

    # The visit logged offline reached the server and both devices, with the tablet's
    # follow-up merged in.
    server_visit = staff.get(f"/api/v1/ledgers/visit_log/entries/{ids['visit']}").get_json()
    assert server_visit["data"]["follow_up"] == "下周回访"
    assert server_visit["data"]["situation"] == "地下室没有信号，回来后同步"
    for device in (worker, tablet):
        local = device["ledger_entries"][ids["visit"]]
        assert json.loads(local["data"]) == server_visit["data"]
        assert local["version"] == server_visit["version"] and local["_status"] == "synced"

    head = worker["people"][ids["head"]]
    assert head["current_address"] == "宝石一路8号2单元"  # the worker's field ...
    assert head["notes"] == "每周探访"  # ... and the staff's, merged
    assert head["household_id"] == ids["household"]
    # Same field on both: the tablet synced last, having seen the phone's value.
    full = staff.get(f"/api/v1/people/{ids['head']}?reveal=1").get_json()
    assert full["phone"] == "13900139000"
