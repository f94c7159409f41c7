"""API clients: keys for systems that file and follow reports (12345 hotline, Open311)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.areas.operations import get_area_by_code
from ledger.areas.scope import Scope
from ledger.audit import operations as audit
from ledger.audit.operations import Actor
from ledger.context import Ctx
from ledger.db import atomic, utcnow
from ledger.errors import Conflict, NotFound
from ledger.reports.errors import field_error
from ledger.reports.models import ApiClient

CLIENT_SOURCES = ("open311", "hotline_12345")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_client(session: Session, *, name: str, area: str,
                  source: str = "open311") -> tuple[ApiClient, str]:  # fmt: skip
    """A new client and its key (returned once; only its hash is kept)."""
    if source not in CLIENT_SOURCES:
        raise field_error("source", "来源应为 open311 或 hotline_12345")
    try:
        area_obj = get_area_by_code(session, area)
    except NotFound:
        raise field_error("area", "区域不存在") from None
    key = "wg311_" + secrets.token_urlsafe(32)
    client = ApiClient(name=name, key_hash=_digest(key), area_id=area_obj.id, source=source)
    client.area = area_obj
    with atomic(session, lambda: Conflict("该名称已存在", code="api_clients.duplicate")):
        session.add(client)
    audit.record(session, None, "api_client.create", object_type="api_client",
                 object_id=name, details={"area": area, "source": source})  # fmt: skip
    return client, key


def revoke_client(session: Session, name: str) -> ApiClient:
    client = session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise NotFound("找不到该接入系统", code="api_clients.not_found")
    client.active = False
    audit.record(session, None, "api_client.revoke", object_type="api_client", object_id=name)
    return client


def authenticate(session: Session, key: str | None) -> ApiClient | None:
    if not key:
        return None
    client = session.scalar(select(ApiClient).where(ApiClient.key_hash == _digest(key.strip())))
    return client if client is not None and client.active else None


def client_ctx(session: Session, client: ApiClient, pii, blobs, ip: str | None) -> Ctx:
    """What a client may do: act in its area, as itself, never as a person."""
    actor = Actor(id=None, username=f"api:{client.name}", role=None, ip=ip)
    return Ctx(session=session, actor=actor, scope=Scope.for_area(session, client.area),
               pii=pii, blobs=blobs)  # fmt: skip


def touch(client: ApiClient) -> None:
    client.last_used_at = utcnow()
