"""Run one job to its end, whoever calls: a local thread or a queue worker."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from ledger.accounts.models import User
from ledger.audit.operations import Actor
from ledger.errors import LedgerError
from ledger.jobs import operations as jobs
from ledger.jobs.errors import CRASHED
from ledger.jobs.run import JobRun, handler_for
from server.db import app_session

log = logging.getLogger(__name__)


def runner_name(kind: str) -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}"


_writing = threading.local()


@contextlib.contextmanager
def _session(app: Flask, *, write: bool) -> Iterator[Session]:
    # Counts the write sessions this thread holds, for the progress reporter.
    outer = getattr(_writing, "depth", 0)
    _writing.depth = outer + (1 if write else 0)
    try:
        with app_session(app, write=write) as session:
            yield session
    finally:
        _writing.depth = outer


class Heartbeat:
    """One daemon thread per process touching the jobs this process owns, so a job whose
    process died is recognised (its heartbeat goes stale) and failed instead of stuck."""

    def __init__(self, app: Flask, interval: float) -> None:
        self.app = app
        self.interval = interval
        self._owned: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def own(self, job_id: str) -> None:
        with self._lock:
            self._owned.add(job_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="job-heartbeat", daemon=True
                )
                self._thread.start()

    def release(self, job_id: str) -> None:
        with self._lock:
            self._owned.discard(job_id)

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval)
            with self._lock:
                owned = sorted(self._owned)
            if not owned:
                continue
            try:
                with _session(self.app, write=True) as session:
                    jobs.touch(session, owned)
            except Exception:
                log.warning("job heartbeat failed", exc_info=True)


def heartbeat(app: Flask) -> Heartbeat:
    beat = app.extensions.get("wangge_heartbeat")
    if beat is None:
        settings = app.extensions["wangge_settings"]
        beat = app.extensions.setdefault(
            "wangge_heartbeat", Heartbeat(app, settings.job_heartbeat_seconds)
        )
    return beat


class _Progress:
    """Writes progress in its own short transactions, at most twice a second."""

    def __init__(self, app: Flask, job_id: str) -> None:
        self.app, self.job_id, self.last = app, job_id, 0.0

    def __call__(self, progress: float, rows: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.5:
            return
        if getattr(_writing, "depth", 0) and self.app.extensions["wangge_settings"].is_sqlite:
            return
        self.last = now
        with _session(self.app, write=True) as session:
            jobs.report_progress(session, self.job_id, progress, rows)


def _error(exc: LedgerError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "details": exc.details}


def run_job(app: Flask, job_id: str, runner: str) -> str | None:
    """Claim and run ``job_id``; returns its final status (None if someone else had it)."""
    from server.auth.service import scope_for

    beat = heartbeat(app)
    settings = app.extensions["wangge_settings"]
    with _session(app, write=True) as session:
        job = jobs.claim(session, job_id, runner)
        if job is None:
            return None
        user = session.get(User, job.created_by) if job.created_by else None
        actor = Actor(user.id, user.username, user.role, job.params.get("ip")) if user else None
        scope = scope_for(session, user) if user and user.active else None
        kind, params = job.kind, dict(job.params)
    beat.own(job_id)
    run = JobRun(
        job_id=job_id,
        kind=kind,
        params=params,
        actor=actor,
        scope=scope,
        pii=app.extensions["wangge_pii"],
        blobs=app.extensions["wangge_blobs"],
        tmp_dir=settings.data_dir / "tmp",
        read_session=lambda: _session(app, write=False),
        write_session=lambda: _session(app, write=True),
        report=_Progress(app, job_id),
        options={"pdf_font": settings.pdf_font},
    )
    try:
        if scope is None:
            raise LedgerError("发起任务的账号已停用或已删除", code="jobs.owner_inactive")
        handler_for(kind)(run)
        stored = None
        if run.output is not None:
            sha256 = _store(run)
            stored = (sha256, run.output.filename, run.output.content_type)
        with _session(app, write=True) as session:
            jobs.finish(session, job_id, rows=run.rows, result=run.result, file=stored)
        return "done"
    except LedgerError as exc:
        _fail(app, job_id, _error(exc), run.result)
        return "failed"
    except Exception:
        log.exception("job %s (%s) crashed", job_id, kind)
        _fail(app, job_id, CRASHED, None)
        return "failed"
    finally:
        beat.release(job_id)
        for path in run.cleanup:
            path.unlink(missing_ok=True)


def _store(run: JobRun) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(run.output.path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    sha256 = digest.hexdigest()
    run.blobs.put_file(run.output.path, sha256, run.output.content_type)
    return sha256


def _fail(app: Flask, job_id: str, error: dict[str, Any], result: dict[str, Any] | None) -> None:
    try:
        with _session(app, write=True) as session:
            jobs.fail(session, job_id, error, result=result)
    except Exception:
        # The heartbeat stops with this run, so the job is still failed once it goes stale.
        log.exception("could not record the failure of job %s", job_id)
