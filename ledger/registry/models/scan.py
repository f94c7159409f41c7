"""The DocumentScan model: one OCR'd document photo, who took it, and whom it went to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, utcnow


class DocumentScan(Base):
    """A scan of an ID card or household-register page.

    The recognised fields contain ID numbers, so they are kept only encrypted; the blind
    index lets staff find every scan of a resident without decrypting anything.
    """

    __tablename__ = "document_scans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_type: Mapped[str | None] = mapped_column(String(32))
    requested: Mapped[str] = mapped_column(String(32))
    engine: Mapped[str] = mapped_column(String(16))
    original_file: Mapped[str] = mapped_column(ForeignKey("files.sha256"))
    document_file: Mapped[str | None] = mapped_column(ForeignKey("files.sha256"))
    portrait_file: Mapped[str | None] = mapped_column(ForeignKey("files.sha256"))
    fields_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    scanned_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    person_id: Mapped[str | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
