"""Field conversion shared by the built-in entities: JSON values in, domain values out."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ledger.areas.models import Area
from ledger.context import Ctx
from ledger.registry.errors import RegistryInvalid


def field_errors(errors: dict[str, str]) -> RegistryInvalid:
    return RegistryInvalid(details={"fields": {k: [v] for k, v in errors.items()}})


def convert(values: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    """Check each pushed value against its kind ("str", "date", "tags"); unknown fields fail."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in values.items():
        kind = kinds.get(key)
        if kind is None:
            errors[key] = "未知字段，请更新应用"
        elif value is None:
            out[key] = None
        elif kind == "str":
            if isinstance(value, str | int) and not isinstance(value, bool):
                out[key] = str(value)
            else:
                errors[key] = "应为文本"
        elif kind == "date":
            try:
                out[key] = date.fromisoformat(str(value)[:10]) if value != "" else None
            except ValueError:
                errors[key] = "日期格式应为 YYYY-MM-DD"
        elif kind == "tags":
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                out[key] = value
            else:
                errors[key] = "应为文本列表"
    if errors:
        raise field_errors(errors)
    return out


def plain(value: Any) -> Any:
    """A value as JSON carries it, for comparing what a device sent with what is stored."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip() or None
    if value == []:
        return []
    return value


def rows_with_area_code(ctx: Ctx, model: type, columns: list, ids: list[str]):
    """Rows of ``model``'s table by id, with the code of their grid as ``area_code``: what a
    pull page reads instead of ORM objects."""
    table = model.__table__
    query = (
        select(*columns, table.c.id, table.c.area_id, table.c.version,
               Area.code.label("area_code"))
        .join(Area, Area.id == table.c.area_id)
        .where(table.c.id.in_(ids))
    )  # fmt: skip
    return ctx.session.execute(query)
