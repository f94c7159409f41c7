"""The ReportCategory model: one node of the two-level report category tree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.db import Base, utcnow
from ledger.reports.models.department import Department


class ReportCategory(Base):
    """A category. Reports are filed under leaves (those with a parent); a top-level class
    groups leaves for lists and statistics. ``deadlines`` holds hours per stage (accept,
    dispatch, resolve, verify); ``keywords`` seed the day-one category suggestion."""

    __tablename__ = "report_categories"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("report_categories.code"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    deadlines: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    department: Mapped[Department | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
