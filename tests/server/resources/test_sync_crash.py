"""SIGKILL the real server (gunicorn) in the middle of a large push, then replay the push."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date, timedelta

import pytest
import requests
from sqlalchemy import func, select

from tests.conftest import make_id_number
from tests.plugins.live import Gunicorn

PUSH = "/api/v1/sync/push"


def creates(area: str, count: int, start: int) -> list[dict]:
    born = date(1940, 1, 1)
    return [
        {
            "mutation_id": str(uuid.uuid4()),
            "entity": "person",
            "op": "upsert",
            "id": str(uuid.uuid4()),
            "base_version": None,
            "fields": {
                "name": f"居民{start + i}",
                "area": area,
                # Distinct, valid numbers: one per day of birth.
                "id_number": make_id_number(born + timedelta(days=start + i), "男", seq=7),
                "current_address": f"宝石一路{start + i}号",
            },
        }
        for i in range(count)
    ]


def post(base: str, user, mutations: list[dict], timeout: float = 300) -> requests.Response:
    return requests.post(
        base + PUSH,
        json={"device_id": "crash-phone", "mutations": mutations},
        headers={"Authorization": f"Bearer {user.token}"},
        timeout=timeout,
    )


def state(app) -> dict:
    """What the database holds, read fresh, with the invariants the sync engine keeps."""
    from ledger.registry.models import Person
    from sync.models import SyncChange, SyncClock, SyncMutation, SyncRecordMeta

    session = app.extensions["wangge_sessionmaker"]()
    try:
        people = {p.id: p for p in session.scalars(select(Person))}
        changes = {r.record_id: r for r in session.scalars(select(SyncChange))}
        metas = {m.record_id: m for m in session.scalars(select(SyncRecordMeta))}
        clock = session.get(SyncClock, 1)
        # Every record is in the change log and has its sync metadata, and no change can hide
        # above the clock (pulls would never see it).
        assert set(changes) == set(people) == set(metas)
        assert all(c.seq <= clock.seq and c.ms <= clock.ms for c in changes.values())
        assert all(metas[i].version == p.version for i, p in people.items())
        return {
            "people": {i: (p.notes, p.version) for i, p in people.items()},
            "mutations": session.scalar(select(func.count()).select_from(SyncMutation)),
            "by_bidx": session.scalar(
                select(func.count(func.distinct(Person.id_number_bidx))).select_from(Person)
            ),
        }
    finally:
        session.close()


def test_sigkill_mid_push_then_replay_leaves_a_consistent_state(base_config, app, worker_a):
    server = Gunicorn(base_config)
    try:
        # Residents the big push will also edit: their edits must be all there or not at all.
        existing = creates(worker_a.area, 100, 0)
        r = post(server.base, worker_a, existing)
        assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"applied"}

        # Time a push to know when the big one will be halfway through.
        t0 = time.monotonic()
        assert post(server.base, worker_a, creates(worker_a.area, 200, 100)).status_code == 200
        per_mutation = (time.monotonic() - t0) / 200
        before = state(app)

        edits = [
            {**m, "mutation_id": str(uuid.uuid4()), "base_version": 1,
             "fields": {"notes": "大批量修改"}}
            for m in existing
        ]  # fmt: skip
        batch = edits + creates(worker_a.area, 3900, 300)
        outcome: dict = {}

        def send() -> None:
            try:
                outcome["response"] = post(server.base, worker_a, batch)
            except requests.RequestException as exc:
                outcome["error"] = exc

        sender = threading.Thread(target=send)
        sender.start()
        # Kill when roughly a third of the mutations are applied (uncommitted).
        time.sleep(max(0.3, per_mutation * len(batch) / 3))
        server.kill()
        sender.join(timeout=60)
        if "response" in outcome:
            pytest.fail(f"the push finished before the kill ({outcome['response'].status_code})")
        assert isinstance(outcome["error"], requests.ConnectionError)

        # Nothing of the killed push is visible: no new resident, no edit, no stored result.
        assert state(app) == before

        # The phone retries the very same push on a fresh server: everything applies once.
        server = Gunicorn(base_config)
        r = post(server.base, worker_a, batch)
        assert r.status_code == 200
        results = r.json()["results"]
        assert len(results) == len(batch)
        assert {x["status"] for x in results} == {"applied"}
        after = state(app)
        assert len(after["people"]) == 300 + 3900 == after["by_bidx"]
        assert all(after["people"][m["id"]] == ("大批量修改", 2) for m in existing)
        assert after["mutations"] == before["mutations"] + len(batch)

        # And a replay of the replay changes nothing and returns the same results.
        again = post(server.base, worker_a, batch)
        assert again.status_code == 200 and again.json()["results"] == results
        assert state(app) == after
    finally:
        server.stop()
