"""The Job model: one export or import, its progress and where its result went."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, utcnow

STATUSES = ("queued", "running", "done", "failed")


class Job(Base):
    """A unit of background work. Its row is the single source of truth for its state, so
    any app process can answer "how far is it" whichever process or queue worker runs it."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress: Mapped[float] = mapped_column(default=0.0)
    rows: Mapped[int] = mapped_column(default=0)
    # {"code", "message", "details"}: the same shape as an API error.
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What the job produced besides a file, e.g. an import's report.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(100))
    # "local:<host>:<pid>" for in-process jobs, "rq" for the Redis queue.
    runner: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    # Touched by the owning process while it lives; a stale heartbeat means it died.
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_jobs_status_heartbeat", "status", "heartbeat_at"),)
