"""Job state transitions. Each is one guarded UPDATE, so two processes never both win one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ledger.audit.operations import Actor
from ledger.db import new_uuid, utcnow
from ledger.jobs.errors import WORKER_LOST, JobNotFound
from ledger.jobs.models import Job

ACTIVE = ("queued", "running")


def create_job(
    session: Session, *, kind: str, params: dict[str, Any], actor: Actor | None, runner: str
) -> Job:
    now = utcnow()
    job = Job(
        id=new_uuid(),
        kind=kind,
        status="queued",
        params=params,
        runner=runner,
        created_by=actor.id if actor else None,
        created_at=now,
        heartbeat_at=now,
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: str, actor: Actor, *, kind: str) -> Job:
    """The caller's own job; admins see every job."""
    job = session.get(Job, job_id) if isinstance(job_id, str) and len(job_id) <= 36 else None
    if job is None or job.kind != kind or (actor.role != "admin" and job.created_by != actor.id):
        raise JobNotFound(details={"id": job_id})
    return job


def is_stale(job: Job, stale_after: float) -> bool:
    """Whether the job's owner stopped heart-beating (reap it with ``reap_stale``)."""
    if job.status not in ACTIVE or job.heartbeat_at is None:
        return False
    if job.status == "queued" and not job.runner.startswith("local:"):
        return False
    return job.heartbeat_at < utcnow() - timedelta(seconds=stale_after)


def _stale_clause(cutoff: datetime):
    # Jobs waiting in Redis survive their web process, so only in-process ones go stale queued.
    return (Job.heartbeat_at < cutoff) & or_(
        Job.status == "running", (Job.status == "queued") & Job.runner.startswith("local:")
    )


def reap_stale(session: Session, stale_after: float, *, job_id: str | None = None) -> int:
    """Mark jobs whose owning process stopped heart-beating as failed; returns how many."""
    now = utcnow()
    stmt = update(Job).where(_stale_clause(now - timedelta(seconds=stale_after)))
    if job_id is not None:
        stmt = stmt.where(Job.id == job_id)
    result = session.execute(
        stmt.values(status="failed", error=WORKER_LOST, finished_at=now),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def claim(session: Session, job_id: str, runner: str) -> Job | None:
    """queued → running for exactly one taker; None if it was taken, failed or is gone."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="running", started_at=now, heartbeat_at=now, runner=runner),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        return None
    return session.scalar(
        select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
    )


def report_progress(session: Session, job_id: str, progress: float, rows: int) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "running")
        .values(progress=max(0.0, min(progress, 1.0)), rows=rows, heartbeat_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def touch(session: Session, job_ids: list[str]) -> None:
    """The owning process is alive: push its jobs' heartbeats forward."""
    if job_ids:
        session.execute(
            update(Job)
            .where(Job.id.in_(job_ids), Job.status.in_(ACTIVE))
            .values(heartbeat_at=utcnow()),
            execution_options={"synchronize_session": False},
        )


def finish(
    session: Session,
    job_id: str,
    *,
    rows: int,
    result: dict[str, Any] | None,
    file: tuple[str, str, str] | None,
) -> bool:
    """running → done with its rows, result and file (sha256, filename, content type)."""
    sha256, filename, content_type = file or (None, None, None)
    done = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "running")
        .values(
            status="done",
            progress=1.0,
            rows=rows,
            result=result,
            file_sha256=sha256,
            filename=filename,
            content_type=content_type,
            finished_at=utcnow(),
            heartbeat_at=utcnow(),
        ),
        execution_options={"synchronize_session": False},
    )
    return done.rowcount == 1


def fail(
    session: Session, job_id: str, error: dict[str, Any], *, result: dict[str, Any] | None = None
) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE))
        .values(status="failed", error=error, result=result, finished_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def job_view(job: Job) -> dict[str, Any]:
    """What the API shows of a job (the download URL is added by the server)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": round(job.progress or 0.0, 4),
        "rows": job.rows,
        "error": job.error,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }
