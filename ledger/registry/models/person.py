"""The Person model (实有人口) and its tags."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.accounts.models import User
from ledger.areas.models import Area
from ledger.db import Base, utcnow

SEXES = ("男", "女")
RESIDENCE_TYPES = ("户籍", "流动", "境外")


class Person(Base):
    """A resident. ID number and phone are stored only encrypted, plus a keyed blind index."""

    __tablename__ = "people"
    __table_args__ = (
        Index("ix_people_area_created", "area_id", "created_at", "id"),
        # Lists across a whole community or street walk this index instead of sorting.
        Index("ix_people_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    sex: Mapped[str | None] = mapped_column(String(2))
    ethnicity: Mapped[str | None] = mapped_column(String(16))
    birth_date: Mapped[date | None]
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Unique across the deployment: the same resident must never be registered twice.
    id_number_bidx: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    registered_address: Mapped[str | None] = mapped_column(String(255))
    current_address: Mapped[str | None] = mapped_column(String(255))
    residence_type: Mapped[str] = mapped_column(String(8), default="户籍")
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    household_id: Mapped[str | None] = mapped_column(
        ForeignKey("households.id", ondelete="SET NULL"), index=True
    )
    relationship_to_head: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    area: Mapped[Area] = relationship(lazy="joined")
    creator: Mapped[User | None] = relationship(lazy="joined")
    # Tags live twice on purpose: ``tag_list`` is what responses show (no extra query per
    # page), ``tag_rows`` is the indexed copy that tag filters use.
    tag_list: Mapped[list[str]] = mapped_column("tags", JSON, default=list)
    tag_rows: Mapped[list[PersonTag]] = relationship(
        cascade="all, delete-orphan", order_by="PersonTag.position", passive_deletes=True
    )

    # The ORM adds "WHERE version = :old" to every UPDATE, so two concurrent edits of
    # the same version cannot both win even across processes.
    __mapper_args__ = {"version_id_col": version}

    @property
    def tags(self) -> list[str]:
        return list(self.tag_list or [])

    @tags.setter
    def tags(self, values: list[str]) -> None:
        self.tag_list = list(values)
        existing = {row.tag: row for row in self.tag_rows}
        rows = []
        for position, tag in enumerate(values):
            row = existing.pop(tag, None) or PersonTag(tag=tag)
            row.position = position
            rows.append(row)
        self.tag_rows = rows


class PersonTag(Base):
    """One tag of a person (独居老人, 低保 …), a row each so that tag filters use an index."""

    __tablename__ = "person_tags"
    __table_args__ = (Index("ix_person_tags_tag", "tag", "person_id"),)

    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
