"""Writing and reading audit entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who performs an action, as the domain sees it (no HTTP objects)."""

    id: int | None
    username: str | None
    role: str | None
    ip: str | None = None
    # The department a department_staff account works for.
    department_id: int | None = None


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    details: dict[str, Any] | None = None,
    flush: bool = True,
) -> AuditEntry:
    """Add an audit entry to the current transaction. Never put raw personal data in details.

    ``flush=False`` leaves the entry for the caller's flush (many entries written at once)."""
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor=actor.username if actor else None,
        role=actor.role if actor else None,
        ip=actor.ip if actor else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        details=details or {},
    )
    session.add(entry)
    if flush:
        session.flush()
    return entry


def list_entries(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """Newest first, keyset-paginated on the id."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    if before_id:
        stmt = stmt.where(AuditEntry.id < before_id)
    return list(session.scalars(stmt))
