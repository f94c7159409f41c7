"""File records: stored blobs, who uploaded them, and which records reference them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, utcnow


class StoredFile(Base):
    """A blob in the BlobStore, addressed by the sha256 of its bytes."""

    __tablename__ = "files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FileUpload(Base):
    """That a user uploaded a blob: uploaders may always read back what they sent."""

    __tablename__ = "file_uploads"

    sha256: Mapped[str] = mapped_column(
        ForeignKey("files.sha256", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    filename: Mapped[str | None] = mapped_column(String(255))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class FileRef(Base):
    """A record that uses a blob; readers of the record's area may read the blob."""

    __tablename__ = "file_refs"
    __table_args__ = (Index("ix_file_refs_object", "object_type", "object_id"),)

    sha256: Mapped[str] = mapped_column(
        ForeignKey("files.sha256", ondelete="CASCADE"), primary_key=True
    )
    object_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingFileRef(Base):
    """A record that names a file not uploaded yet (an offline report pushed before its
    photos): it becomes a FileRef when the file arrives, so the record's readers see it."""

    __tablename__ = "pending_file_refs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
