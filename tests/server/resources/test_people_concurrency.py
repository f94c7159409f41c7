"""Concurrent writers: the database, not Python locks, keeps ID numbers unique and edits safe."""

from __future__ import annotations

import threading

from tests.conftest import make_id_number


def _run_parallel(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_same_id_number_registered_concurrently_once(app, worker_a, staff):
    number = make_id_number()

    def create(i):
        client = app.test_client()
        r = client.post(
            "/api/v1/people",
            json={"name": f"并发{i}", "id_number": number, "area": worker_a.area},
            headers={"Authorization": f"Bearer {worker_a.token}"},
        )
        return r.status_code, r.get_json()

    results = _run_parallel(6, create)
    codes = sorted(code for code, _ in results)
    assert codes == [201] + [409] * 5, results
    created_id = next(body["id"] for code, body in results if code == 201)
    for code, body in results:
        if code == 409:
            assert body["error"]["code"] == "people.duplicate_id_number"
            assert body["error"]["details"]["existing_id"] == created_id
    listed = staff.get(f"/api/v1/people?id_number={number}").get_json()["items"]
    assert [p["id"] for p in listed] == [created_id]


def test_concurrent_edits_of_one_version_only_one_wins(app, worker_a, make_person):
    person = make_person()

    def edit(i):
        client = app.test_client()
        r = client.patch(
            f"/api/v1/people/{person['id']}",
            json={"notes": f"edit {i}"},
            headers={"Authorization": f"Bearer {worker_a.token}", "If-Match": "1"},
        )
        return r.status_code

    codes = sorted(_run_parallel(5, edit))
    assert codes == [200, 412, 412, 412, 412]
    final = worker_a.get(f"/api/v1/people/{person['id']}").get_json()
    assert final["version"] == 2
