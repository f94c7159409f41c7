"""Ledger templates (台账模板) and the versions their fields went through."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ledger.db import Base, utcnow

KINDS = ("entries", "registry")


class LedgerTemplate(Base):
    """A ledger: its code, name and current version. ``kind`` "registry" is a view over the
    people register (实有人口台账) rather than entries of its own."""

    __tablename__ = "ledger_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="entries")
    version: Mapped[int] = mapped_column(default=1)
    builtin: Mapped[bool] = mapped_column(default=False)
    archived: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    versions: Mapped[list[LedgerTemplateVersion]] = relationship(
        back_populates="template", order_by="LedgerTemplateVersion.version", lazy="selectin"
    )

    def fields_of(self, version: int | None = None) -> list[dict[str, Any]]:
        wanted = version or self.version
        for v in self.versions:
            if v.version == wanted:
                return v.fields
        return []


class LedgerTemplateVersion(Base):
    """The fields of one version of a template; entries validate against the version they
    were made with, so old entries stay valid after the template changes."""

    __tablename__ = "ledger_template_versions"

    template_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_templates.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(primary_key=True)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    template: Mapped[LedgerTemplate] = relationship(back_populates="versions")
