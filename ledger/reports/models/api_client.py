"""The ApiClient model: another system (a 12345 hotline, an Open311 client) with an API key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.areas.models import Area
from ledger.db import Base, utcnow


class ApiClient(Base):
    """A system allowed to file and follow reports in one area. Only the key's SHA-256 is
    stored; the key itself is shown once, when it is made."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    # What its reports count as: hotline_12345 for the hotline, open311 for anything else.
    source: Mapped[str] = mapped_column(String(16), default="open311")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    area: Mapped[Area] = relationship(lazy="joined")
