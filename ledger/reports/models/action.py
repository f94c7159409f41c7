"""The ReportAction model: a step of the loop taken on a device, possibly offline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, utcnow


class ReportAction(Base):
    """A transition a device sent through sync (a check on site in a basement, say), kept
    with the device's id so a replayed push cannot take it twice. ``event_id`` is the
    timeline line it became."""

    __tablename__ = "report_actions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(32))
    duplicate_of: Mapped[str | None] = mapped_column(String(36))
    category: Mapped[str | None] = mapped_column(String(64))
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    satisfied: Mapped[bool | None]
    acted_at: Mapped[datetime]
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __mapper_args__ = {"version_id_col": version}
