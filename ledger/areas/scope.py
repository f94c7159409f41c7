"""Scope: the set of areas a caller may see, passed into every domain query."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from ledger.areas.models import Area


@dataclass(frozen=True)
class Scope:
    """Areas visible to a caller; ``area_ids is None`` means the whole deployment."""

    area_ids: frozenset[int] | None
    root_area_id: int | None = None

    @classmethod
    def everything(cls) -> Scope:
        return cls(area_ids=None)

    @classmethod
    def for_area(cls, session: Session, area: Area) -> Scope:
        ids = session.scalars(select(Area.id).where(Area.path.startswith(area.path))).all()
        return cls(area_ids=frozenset(ids), root_area_id=area.id)

    @property
    def unrestricted(self) -> bool:
        return self.area_ids is None

    def allows(self, area_id: int | None) -> bool:
        return self.area_ids is None or (area_id is not None and area_id in self.area_ids)

    def filter(self, column) -> ColumnElement[bool]:
        """A WHERE clause limiting ``column`` (an area id column) to this scope."""
        if self.area_ids is None:
            return true()
        return column.in_(sorted(self.area_ids))
