"""Per-record sync state: when each field last changed, open conflicts, missing files."""

from __future__ import annotations

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base


class SyncRecordMeta(Base):
    """Field versions let a stale edit merge: fields nobody touched since its base apply."""

    __tablename__ = "sync_record_meta"

    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # {field: version at which it last changed}
    field_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    open_conflicts: Mapped[int] = mapped_column(Integer, default=0)
    # sha256 of files the record references that the server has not received yet.
    missing_files: Mapped[list] = mapped_column(JSON, default=list)
    # The last version, kept after a delete so a late edit of it is recognised as such.
    version: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[bool] = mapped_column(default=False)
