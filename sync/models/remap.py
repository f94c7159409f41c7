"""Id remaps: a record a device created was merged into one that already existed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, utcnow


class SyncRemap(Base):
    """Devices holding ``from_id`` replace it with ``to_id``; pulls send remaps after ``seq``."""

    __tablename__ = "sync_remaps"
    __table_args__ = (
        Index("ix_sync_remaps_area_seq", "area_id", "seq"),
        Index("ix_sync_remaps_area_ms", "area_id", "ms"),
    )

    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
    from_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    to_id: Mapped[str] = mapped_column(String(36))
    area_id: Mapped[int | None] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(BigInteger)
    # The clock's millisecond tick, for WatermelonDB pulls.
    ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
