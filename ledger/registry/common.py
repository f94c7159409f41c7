"""Helpers shared by the people and household operations."""

from __future__ import annotations

import base64
import json
import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import tuple_

from ledger.areas.models import Area
from ledger.areas.operations import get_area_by_code
from ledger.context import Ctx
from ledger.db import normalize_uuid
from ledger.errors import NotFound, VersionMismatch
from ledger.registry.errors import RegistryInvalid

_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９＋－"}
_PHONE_NOISE = re.compile(r"[\s()（）]")
_MOBILE_HYPHENATED = re.compile(r"(?:\+?86)?1[\d-]{10,13}")
PHONE_RE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?)$")


def field_error(field: str, message: str) -> RegistryInvalid:
    return RegistryInvalid(message, details={"fields": {field: [message]}})


def check_version(current: int, expected: int | None) -> None:
    """Optimistic locking: the client must edit the version it last saw."""
    if expected is not None and expected != current:
        raise VersionMismatch(details={"current_version": current, "given_version": expected})


def client_id(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalize_uuid(value)
    except ValueError:
        raise field_error("id", "编号必须是 UUID 格式") from None


def grid_in_scope(ctx: Ctx, code: str) -> Area:
    """Residents and households live in grids, and only in grids the caller covers."""
    # A bulk registration names the same few grids thousands of times: look each up once
    # per session (the request).
    cache = ctx.session.info.setdefault("area_by_code", {})
    area = cache.get(code)
    if area is None or not ctx.scope.allows(area.id):
        try:
            area = get_area_by_code(ctx.session, code, ctx.scope)
        except NotFound:
            raise field_error("area", "网格不存在或不在您负责的范围内") from None
        cache[code] = area
    if area.level != "grid":
        raise field_error("area", "请选择到网格一级")
    return area


def normalize_phone(raw: str) -> str:
    phone = _PHONE_NOISE.sub("", raw.translate(_FULLWIDTH))
    if _MOBILE_HYPHENATED.fullmatch(phone):
        # Mobiles are often written 139-0000-1234; landlines keep their area-code hyphen.
        phone = phone.replace("-", "")
    m = PHONE_RE.match(phone)
    if not m:
        raise field_error("phone", "电话号码格式不正确，手机号应为11位")
    return m.group(1)


def encode_cursor(*values: date | datetime | str) -> str:
    raw = json.dumps([v if isinstance(v, str) else v.isoformat() for v in values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_KEY_TYPES: dict[str, type] = {"created_at": datetime, "entry_date": date}


def newest_first_page(session, stmt, model, limit: int, cursor: str | None,
                      keys: tuple[str, ...] = ("created_at", "id")):  # fmt: skip
    """Run a list query newest first, keyset-paginated on ``keys`` (the last one unique) so
    deep pages cost the same as the first; returns (rows, next_cursor)."""
    columns = [getattr(model, k) for k in keys]
    if cursor:
        after = decode_cursor(cursor, [_KEY_TYPES.get(k, str) for k in keys])
        stmt = stmt.where(tuple_(*columns) < tuple_(*after))
    stmt = stmt.order_by(*(c.desc() for c in columns)).limit(limit + 1)
    rows = list(session.scalars(stmt).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(*(getattr(rows[-1], k) for k in keys))
    return rows, next_cursor


def decode_cursor(cursor: str, types: list[type] | None = None) -> list[Any]:
    types = types or [datetime, str]
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("cursor shape")
        return [t.fromisoformat(v) if t in (date, datetime) else str(v)
                for t, v in zip(types, values, strict=True)]  # fmt: skip
    except (ValueError, TypeError):
        raise field_error("cursor", "分页游标无效，请从第一页重新加载") from None
