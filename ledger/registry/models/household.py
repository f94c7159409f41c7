"""The Household model (户)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.accounts.models import User
from ledger.areas.models import Area
from ledger.db import Base, utcnow

HOUSEHOLD_TYPES = ("家庭户", "集体户")


class Household(Base):
    """A registered household. ``household_number`` (户号) is unique in the deployment."""

    __tablename__ = "households"
    __table_args__ = (Index("ix_households_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    household_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    household_type: Mapped[str] = mapped_column(String(8), default="家庭户")
    # No foreign key: people also point at households, and a cycle of constraints would
    # make deletes order-dependent. The registry operations keep it consistent.
    head_person_id: Mapped[str | None] = mapped_column(String(36), index=True)
    address: Mapped[str | None] = mapped_column(String(255))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    area: Mapped[Area] = relationship(lazy="joined")
    creator: Mapped[User | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
