"""The mutation log: one row per pushed mutation_id, with the result it got."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, utcnow


class SyncMutation(Base):
    """The primary key makes replays exactly-once: a second insert of the same id fails on
    the unique index (waiting for the first to commit on PostgreSQL), and the stored
    result is returned instead of applying the mutation again."""

    __tablename__ = "sync_mutations"
    __table_args__ = (Index("ix_sync_mutations_record", "entity", "record_id"),)

    mutation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    entity: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36))
    op: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
