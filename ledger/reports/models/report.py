"""The Report model: one issue report (事件) and where it stands in the closed loop."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.accounts.models import User
from ledger.areas.models import Area
from ledger.db import Base, utcnow
from ledger.reports.models.category import ReportCategory
from ledger.reports.models.department import Department

SOURCES = ("field", "hotline_12345", "open311", "staff")
SOURCE_NAMES = {"field": "网格员上报", "hotline_12345": "12345热线", "open311": "外部系统",
                "staff": "工作人员录入"}  # fmt: skip
SOURCE_NAMES = {"field": "网格员上报", "hotline_12345": "12345热线", "open311": "Open311",
                "staff": "工作人员录入"}  # fmt: skip
URGENCIES = ("high", "normal", "low")


class Report(Base):
    """A report. ``id`` is the client's UUID so offline reports sync without duplicates.

    ``due_at`` is when the current stage must be done (from the category's deadlines);
    ``late`` records that some stage ran past it, for the on-time rate. A caller's name and
    phone (hotline and Open311 reports) are personal data and live only in ``contact_enc``.
    """

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_created", "created_at", "id"),
        Index("ix_reports_area_created", "area_id", "created_at", "id"),
        Index("ix_reports_state_due", "state", "due_at"),
        Index("ix_reports_category_created", "category_code", "created_at"),
        Index("ix_reports_department_created", "department_id", "created_at", "id"),
        # The dashboard's three queries each read one covering index, in grouping order:
        # counts by area, category, state and department; closing times; hotspots.
        Index("ix_reports_stats", "area_id", "category_code", "state", "department_id", "late",
              "due_at", "created_at", "cell"),
        Index("ix_reports_closed", "state", "category_code", "department_id", "close_bucket",
              "late", "area_id", "created_at"),
        Index("ix_reports_hotspots", "cell", "area_id", "created_at"),
    )  # fmt: skip

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("report_categories.code"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    audio_file: Mapped[str | None] = mapped_column(String(64))
    # What speech recognition heard in the recording, kept beside the edited description.
    transcript: Mapped[str | None] = mapped_column(Text)
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Geohash of the location (7 characters, about 150 m): the unit of hotspot statistics.
    cell: Mapped[str | None] = mapped_column(String(12))
    address: Mapped[str | None] = mapped_column(String(200))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(16), default="field")
    # A 12345 work-order number or another system's id, for follow-up by that system.
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    urgency: Mapped[str] = mapped_column(String(8), default="normal")
    state: Mapped[str] = mapped_column(String(16), default="reported")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    duplicate_of: Mapped[str | None] = mapped_column(String(36), index=True)
    due_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(default=False)
    satisfied: Mapped[bool | None]
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Seconds from report to 结案, kept at closing so statistics need no date arithmetic.
    close_seconds: Mapped[int | None]
    # round(ln(close_seconds) × 32): medians come from a histogram of these (±1.6%).
    close_bucket: Mapped[int | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    area: Mapped[Area] = relationship(lazy="joined")
    category: Mapped[ReportCategory] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")
    reporter: Mapped[User | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
