"""Ledger entries (台账记录): one row of a ledger, in one grid."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.accounts.models import User
from ledger.areas.models import Area
from ledger.db import Base, utcnow
from ledger.ledgers.models.entry_key import LedgerEntryKey


class LedgerEntry(Base):
    """An entry. ``data`` holds the plain values; ID numbers and phones live only in
    ``personal_enc`` (encrypted JSON). ``entry_date`` is the entry's date in the ledger: the
    template's first date field, else the day it was entered (Beijing time). Lists run
    newest first on it, like the paper ledger read backwards, and date ranges use it."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        # Lists filter by ledger (and grid) and page on (entry_date, created_at, id).
        Index("ix_ledger_entries_template_dated", "template_id", "entry_date", "created_at", "id"),
        Index(
            "ix_ledger_entries_template_area_dated",
            "template_id",
            "area_id",
            "entry_date",
            "created_at",
            "id",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("ledger_templates.id"))
    template_version: Mapped[int]
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    personal_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    person_id: Mapped[str | None] = mapped_column(String(36), index=True)
    household_id: Mapped[str | None] = mapped_column(String(36), index=True)
    entry_date: Mapped[date | None]
    # Lower-cased text of the plain values, for the list's full-text filter.
    search_text: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    area: Mapped[Area] = relationship(lazy="joined")
    creator: Mapped[User | None] = relationship(lazy="joined")
    keys: Mapped[list[LedgerEntryKey]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}

    # Not a column: the keys of ``data`` (personal ones included) that the write about to be
    # flushed changes. The entries service adds to it; the sync change log takes it.
    changed_keys: ClassVar[frozenset[str]] = frozenset()
