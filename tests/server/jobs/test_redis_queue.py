"""Jobs on a real Redis queue: worker processes run them, any app process sees their progress,
and a job whose worker is killed is reported failed instead of hanging."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from tests.server.resources.test_exports import EXPORTS, LEDGERS, download
from tests.server.resources.test_ledgers import entry_url, visit

HEARTBEAT = 0.3


@pytest.fixture
def queue_app(app, base_config, redis_url):
    """A second app process-alike sending jobs to Redis; same database and files."""
    from server import create_app

    made = create_app({**base_config, "REDIS_URL": redis_url, "JOB_HEARTBEAT_SECONDS": HEARTBEAT})
    yield made
    made.extensions["wangge_engine"].dispose()


@pytest.fixture
def start_worker(base_config, redis_url):
    """Factory: ``flask --app wsgi worker`` as a real separate process."""
    procs = []
    env = {**os.environ, "WANGGE_REDIS_URL": redis_url,
           "WANGGE_JOB_HEARTBEAT_SECONDS": str(HEARTBEAT)}  # fmt: skip
    for key in ("DATA_DIR", "DATABASE_URL", "SECRET_KEY", "PII_KEY", "STORAGE"):
        env[f"WANGGE_{key}"] = str(base_config[key])

    def _start(*args):
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", *args],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        procs.append(proc)
        return proc

    yield _start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def on(user, other_app):
    import dataclasses

    return dataclasses.replace(user, client=other_app.test_client())


def poll(user, job_id, until, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        job = user.get(f"{EXPORTS}/{job_id}").get_json()
        if until(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_a_queued_export_runs_on_a_worker_and_is_seen_from_any_process(
    queue_app,
    start_worker,
    staff,
    worker_a,
    builtin_ledgers,
):
    for day in ("2026-05-01", "2026-05-02", "2026-05-03"):
        body = visit(worker_a, visit_date=day)
        assert worker_a.post(entry_url("visit_log"), json=body).status_code == 201
    via_queue = on(staff, queue_app)
    r = via_queue.post(f"{LEDGERS}/visit_log/exports", json={"format": "xlsx"})
    assert r.status_code == 202
    job_id = r.get_json()["id"]
    # No worker yet: the job waits in Redis, and waiting there is not a failure.
    time.sleep(HEARTBEAT * 6)
    assert via_queue.get(f"{EXPORTS}/{job_id}").get_json()["status"] == "queued"

    worker = start_worker("--burst")
    out, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, out.decode()[-2000:]
    # The plain app (no Redis) answers for the job the worker ran: state lives in the database.
    job = staff.get(f"{EXPORTS}/{job_id}").get_json()
    assert job["status"] == "done" and job["rows"] == 3, job
    assert download(staff, job).startswith(b"PK")


def test_a_job_whose_worker_dies_is_failed_not_stuck(
    app,
    queue_app,
    start_worker,
    staff,
    builtin_ledgers,
):
    from ledger.areas.scope import Scope
    from ledger.audit.operations import Actor
    from ledger.context import Ctx
    from ledger.ledgers.entries import create_entry

    # Enough rows that the PDF takes seconds to lay out, so the kill lands mid-job.
    with app.extensions["wangge_sessionmaker"]() as session:
        ctx = Ctx(session, Actor(staff.id, staff.username, staff.role), Scope.everything(),
                  app.extensions["wangge_pii"])  # fmt: skip
        for i in range(1500):
            body = visit(staff, situation=f"第{i}次走访，情况正常" * 3)
            create_entry(ctx, "visit_log", {**body, "area": "G1"})
        session.commit()
    via_queue = on(staff, queue_app)
    r = via_queue.post(f"{LEDGERS}/visit_log/exports", json={"format": "pdf"})
    assert r.status_code == 202, r.get_json()
    job_id = r.get_json()["id"]
    worker = start_worker()
    job = poll(via_queue, job_id, lambda j: j["status"] != "queued")
    assert job["status"] == "running", job
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    job = poll(via_queue, job_id, lambda j: j["status"] == "failed", timeout=HEARTBEAT * 20)
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "jobs.worker_lost"
    assert job["download_url"] is None
