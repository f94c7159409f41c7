"""The RoutingRule model: which department gets a category's reports from an area."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.areas.models import Area
from ledger.db import Base, utcnow
from ledger.reports.models.department import Department


class RoutingRule(Base):
    """A rule: reports of ``category_code`` (a leaf, a top-level class, or any when null) from
    ``area`` (and the areas under it, or anywhere when null) go to ``department``. The most
    specific rule wins; with ``auto_dispatch`` the case is accepted and dispatched at once."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str | None] = mapped_column(
        ForeignKey("report_categories.code"), index=True
    )
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    auto_dispatch: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    area: Mapped[Area | None] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")
