"""The change log that feeds pulls: the newest change of each record, per area it touched."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base

# Rowids must never be reused, or a change could take a sequence a client already passed.
SeqPK = BigInteger().with_variant(Integer, "sqlite")


class SyncChange(Base):
    """Record ``record_id`` of ``entity`` changed at ``seq``, which concerns ``area_id``.

    Only the latest change of a record per area is kept: a pull sends the record as it is
    now, so older rows would only repeat it. A record that moved to another grid keeps a
    row for the old grid, so devices there learn it left. Pulls compute what to send from
    the record's current state: gone or out of the caller's scope means a delete.
    """

    __tablename__ = "sync_changes"
    __table_args__ = (
        UniqueConstraint("entity", "record_id", "area_id"),
        Index("ix_sync_changes_area_seq", "area_id", "seq"),
        Index("ix_sync_changes_area_ms", "area_id", "ms"),
        Index("ix_sync_changes_ms", "ms"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(SeqPK, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36))
    area_id: Mapped[int | None] = mapped_column(Integer)
    # The sync clock's millisecond tick for the transaction, for WatermelonDB's timestamps.
    ms: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(default=False)
