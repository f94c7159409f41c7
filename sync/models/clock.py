"""The sync clock: one row whose lock orders every logged change."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base


class SyncClock(Base):
    """Sequence and millisecond clock for the change log, in a single row (id 1).

    Writers advance it with an UPDATE, which holds the row lock until they commit. So change
    sequences become visible in the order they were handed out, and a pull that reads the
    clock sees every change at or below it: no change can commit "behind" a cursor.
    """

    __tablename__ = "sync_clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Milliseconds since the epoch, never going back even if the wall clock does.
    ms: Mapped[int] = mapped_column(BigInteger, default=0)
    # Cursors below this were compacted away (tombstones purged): such clients start over.
    floor_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The same floor as a WatermelonDB timestamp: older last_pulled_at values start over.
    floor_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Changes when the log is rebuilt (restore from backup): every older cursor is reset.
    epoch: Mapped[str] = mapped_column(String(16))
