"""Conflict records: a client value the server did not take, kept until staff decide."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, utcnow

CONFLICT_KINDS = ("fields", "delete", "deleted", "duplicate")


class SyncConflict(Base):
    """Both sides of a collision. Values may hold ID numbers, so they are stored encrypted.

    kinds: ``fields`` (both sides changed the same fields), ``delete`` (a device deleted a
    record someone else had changed), ``deleted`` (a device edited a record already
    deleted), ``duplicate`` (a new record matched an existing one it could not merge into).
    """

    __tablename__ = "sync_conflicts"
    __table_args__ = (
        Index("ix_sync_conflicts_status_area", "status", "area_id", "created_at"),
        Index("ix_sync_conflicts_record", "entity", "record_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    mutation_id: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    base_version: Mapped[int | None] = mapped_column(Integer)
    server_version: Mapped[int | None] = mapped_column(Integer)
    # JSON {"client": {...}, "server": {...}} encrypted with the PII cipher.
    values_enc: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
