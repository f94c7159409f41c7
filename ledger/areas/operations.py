"""Area operations: create, look up within scope, and build the visible tree."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.areas.boundary import normalize_boundary
from ledger.areas.models import LEVEL_NAMES, LEVELS, Area
from ledger.areas.scope import Scope
from ledger.audit import operations as audit
from ledger.audit.operations import Actor
from ledger.db import atomic
from ledger.errors import Conflict, InvalidInput, NotFound

UNSET: Any = object()
CODE_RE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")


class AreaNotFound(NotFound):
    code = "areas.not_found"
    message = "找不到该区域，或您无权查看"


def get_area_by_code(session: Session, code: str, scope: Scope | None = None) -> Area:
    area = session.scalar(select(Area).where(Area.code == code))
    if area is None or (scope is not None and not scope.allows(area.id)):
        raise AreaNotFound(details={"code": code})
    return area


def create_area(
    session: Session, *, code: str, name: str, level: str, parent_code: str | None
) -> Area:
    """Add an area under its parent; levels must step down exactly one rank."""
    errors: dict[str, list[str]] = {}
    if not CODE_RE.match(code or ""):
        errors["code"] = ["编码只能包含字母、数字、下划线和短横线，最长32位"]
    if not (name or "").strip():
        errors["name"] = ["名称不能为空"]
    if level not in LEVELS:
        errors["level"] = ["层级应为 district、street、community 或 grid"]
    if errors:
        raise InvalidInput(details={"fields": errors})
    if session.scalar(select(Area.id).where(Area.code == code)) is not None:
        raise Conflict("该区域编码已存在", code="areas.duplicate_code", details={"code": code})

    parent = None
    if parent_code:
        parent = session.scalar(select(Area).where(Area.code == parent_code))
        if parent is None:
            raise InvalidInput(
                "上级区域不存在", details={"fields": {"parent_code": ["上级区域不存在"]}}
            )
    expected_parent = LEVELS[LEVELS.index(level) - 1] if level != "district" else None
    if expected_parent is None and parent is not None:
        raise InvalidInput(
            "区不能有上级区域", details={"fields": {"parent_code": ["区是最高层级，不能设置上级"]}}
        )
    if expected_parent is not None and (parent is None or parent.level != expected_parent):
        msg = f"{LEVEL_NAMES[level]}的上级必须是{LEVEL_NAMES[expected_parent]}"
        raise InvalidInput(msg, details={"fields": {"parent_code": [msg]}})

    area = Area(code=code, name=name.strip(), level=level, parent_id=parent.id if parent else None)
    area.path = "/"  # placeholder until the id exists
    duplicate = Conflict("该区域编码已存在", code="areas.duplicate_code", details={"code": code})
    with atomic(session, lambda: duplicate):
        session.add(area)
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    session.flush()
    return area


def update_area(
    session: Session,
    actor: Actor | None,
    code: str,
    *,
    name: str | None = None,
    boundary: Any = UNSET,
) -> Area:
    """Rename an area or set its boundary (None clears it); audited, since maps guide dispatch."""
    area = get_area_by_code(session, code)
    changed = []
    if name is not None:
        if not name.strip():
            raise InvalidInput(details={"fields": {"name": ["名称不能为空"]}})
        if name.strip() != area.name:
            area.name = name.strip()
            changed.append("name")
    if boundary is not UNSET:
        area.boundary = normalize_boundary(boundary) if boundary is not None else None
        changed.append("boundary")
    if changed:
        audit.record(session, actor, "area.update", object_type="area", object_id=area.code,
                     details={"fields": changed})  # fmt: skip
    session.flush()
    return area


def area_view(session: Session, area: Area) -> dict[str, Any]:
    parent = session.get(Area, area.parent_id) if area.parent_id else None
    return {"code": area.code, "name": area.name, "level": area.level,
            "parent_code": parent.code if parent else None, "boundary": area.boundary}  # fmt: skip


def boundary_collection(session: Session, scope: Scope) -> dict[str, Any]:
    """The visible areas that have a boundary, as a GeoJSON FeatureCollection."""
    features = []
    for a in visible_areas(session, scope):
        if a.boundary:
            properties = {"code": a.code, "name": a.name, "level": a.level}
            features.append({"type": "Feature", "geometry": a.boundary, "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def visible_areas(session: Session, scope: Scope) -> list[Area]:
    # Siblings in code order: path strings sort "/1/10/" before "/1/2/", which is no order.
    stmt = select(Area).order_by(Area.code)
    if not scope.unrestricted:
        stmt = stmt.where(scope.filter(Area.id))
    return list(session.scalars(stmt))


def area_tree(session: Session, scope: Scope) -> list[dict]:
    """Nested dicts of the areas in scope; the roots are the topmost visible areas."""
    areas = visible_areas(session, scope)
    by_id = {a.id: a for a in areas}
    nodes = {
        a.id: {
            "code": a.code,
            "name": a.name,
            "level": a.level,
            "parent_code": by_id[a.parent_id].code if a.parent_id in by_id else None,
            "children": [],
        }
        for a in areas
    }
    if scope.root_area_id is not None:
        root = session.get(Area, scope.root_area_id)
        parent = session.get(Area, root.parent_id) if root and root.parent_id else None
        if parent is not None:
            nodes[root.id]["parent_code"] = parent.code
    roots = []
    for a in areas:
        if a.parent_id in nodes:
            nodes[a.parent_id]["children"].append(nodes[a.id])
        else:
            roots.append(nodes[a.id])
    return roots
