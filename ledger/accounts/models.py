"""The User model: an account bound to one area with one role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.areas.models import Area
from ledger.db import Base, utcnow

ROLES = ("grid_worker", "community_staff", "dispatcher", "department_staff", "admin")
ROLE_NAMES = {
    "grid_worker": "网格员",
    "community_staff": "社区工作人员",
    "dispatcher": "调度员",
    "department_staff": "职能部门人员",
    "admin": "管理员",
}


class User(Base):
    """A login account. ``area`` limits everything the user sees to that subtree;
    ``department_id`` binds a department_staff account to its department."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str | None] = mapped_column(String(64))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # Department staff (职能部门) work the cases dispatched to this one department.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    area: Mapped[Area | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
