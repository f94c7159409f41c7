"""The Area model: one node of the district → street → community → grid tree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.db import Base, utcnow

LEVELS = ("district", "street", "community", "grid")
LEVEL_NAMES = {"district": "区", "street": "街道/镇", "community": "社区/村", "grid": "网格"}


class Area(Base):
    """An administrative area with a stable code; ``path`` lists ancestor ids for subtree scans."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # "/1/4/9/": ids from the root down to this node, so a subtree is one prefix match.
    path: Mapped[str] = mapped_column(String(400), index=True)
    # A GeoJSON Polygon/MultiPolygon (WGS84 lon/lat) drawn on the console's map; None = unknown.
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Area {self.code} {self.level}>"
