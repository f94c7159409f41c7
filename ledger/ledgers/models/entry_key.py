"""Blind indexes of an entry's personal values, so exact lookups work without plaintext."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base


class LedgerEntryKey(Base):
    """One personal value of an entry (an ID number, a phone) as its keyed blind index."""

    __tablename__ = "ledger_entry_keys"
    __table_args__ = (Index("ix_ledger_entry_keys_lookup", "key", "bidx"),)

    entry_id: Mapped[str] = mapped_column(
        ForeignKey("ledger_entries.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    bidx: Mapped[str] = mapped_column(String(64))
