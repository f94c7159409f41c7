"""Category operations: install the default tree, list it, and let admins adapt it."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.audit import operations as audit
from ledger.context import Ctx
from ledger.db import atomic
from ledger.errors import Conflict
from ledger.registry.common import check_version
from ledger.reports import taxonomy
from ledger.reports.departments import active_department
from ledger.reports.errors import CategoryNotFound, field_error
from ledger.reports.models import Department, ReportCategory

STAGES = ("accept", "dispatch", "resolve", "verify", "close")
CODE_RE = re.compile(r"^[a-z][a-z0-9_.]{1,63}$")


def install_defaults(session: Session) -> dict[str, int]:
    """Add the default departments and categories a database lacks (never overwrites an
    office's edits); returns how many of each were added."""
    have = set(session.scalars(select(Department.code)))
    added_departments = 0
    for code, name in taxonomy.DEPARTMENTS.items():
        if code not in have:
            session.add(Department(code=code, name=name))
            added_departments += 1
    session.flush()
    departments = {d.code: d.id for d in session.scalars(select(Department))}
    have = set(session.scalars(select(ReportCategory.code)))
    added = 0
    for position, c in enumerate((*taxonomy.TOP, *taxonomy.LEAVES)):
        if c.code in have:
            continue
        session.add(ReportCategory(
            code=c.code, name=c.name, parent_code=c.parent,
            department_id=departments.get(c.department) if c.department else None,
            deadlines=dict(c.deadlines), keywords=list(c.keywords), position=position,
        ))  # fmt: skip
        # Parents first: the foreign key to the parent must be satisfiable at each flush.
        session.flush()
        added += 1
    return {"departments": added_departments, "categories": added}


def all_categories(session: Session) -> list[ReportCategory]:
    return list(session.scalars(select(ReportCategory).order_by(ReportCategory.position)))


def get_category(session: Session, code: str) -> ReportCategory:
    category = session.get(ReportCategory, code)
    if category is None:
        raise CategoryNotFound(details={"code": code})
    return category


def leaf_category(session: Session, code: Any, field: str = "category") -> ReportCategory:
    """The active leaf ``code`` names: reports are filed under leaves, never a whole class."""
    category = session.get(ReportCategory, str(code or ""))
    if category is None or not category.active:
        raise field_error(field, "事件类型不存在或已停用")
    if category.parent_code is None:
        raise field_error(field, "请选择具体的事件小类")
    return category


def path_of(session: Session, category: ReportCategory) -> str:
    """The category's full name with its parent, e.g. 市容环境/暴露垃圾."""
    if category.parent_code is None:
        return category.name
    parent = session.get(ReportCategory, category.parent_code)
    return f"{parent.name}/{category.name}" if parent else category.name


def deadline_hours(category: ReportCategory, stage: str) -> float | None:
    """Hours the stage may take; closing a verified case falls back to the accept time."""
    hours = category.deadlines.get(stage)
    if hours is None and stage == "close":
        hours = category.deadlines.get("accept")
    return float(hours) if hours else None


def _deadlines(value: Any) -> dict[str, float]:
    if not isinstance(value, dict) or any(k not in STAGES for k in value):
        raise field_error("deadlines", "时限应为 " + "、".join(STAGES) + " 各阶段的小时数")
    out = {}
    for stage, hours in value.items():
        if not isinstance(hours, int | float) or isinstance(hours, bool) or not 0 < hours <= 8760:
            raise field_error("deadlines", f"{stage} 的时限应为 0 到 8760 之间的小时数")
        out[stage] = float(hours)
    return out


def create_category(ctx: Ctx, data: dict[str, Any]) -> ReportCategory:
    code = data["code"]
    if not CODE_RE.match(code):
        raise field_error("code", "类型代码为小写字母、数字、下划线或点，以字母开头")
    parent = None
    if data.get("parent"):
        parent = get_category(ctx.session, data["parent"])
        if parent.parent_code is not None:
            raise field_error("parent", "事件类型只有大类和小类两级")
    department = (
        active_department(ctx.session, data["department"]) if data.get("department") else None
    )
    position = (ctx.session.scalar(select(func.max(ReportCategory.position))) or 0) + 1
    category = ReportCategory(
        code=code, name=data["name"], parent_code=parent.code if parent else None,
        department_id=department.id if department else None,
        deadlines=_deadlines(data.get("deadlines") or (parent.deadlines if parent else {})),
        keywords=list(data.get("keywords") or []), position=position,
    )  # fmt: skip
    category.department = department
    with atomic(
        ctx.session, lambda: Conflict("类型代码已存在", code="report_categories.duplicate")
    ):
        ctx.session.add(category)
    audit.record(ctx.session, ctx.actor, "report_category.create", object_type="report_category",
                 object_id=code, details={"name": category.name})  # fmt: skip
    return category


def update_category(
    ctx: Ctx, code: str, changes: dict[str, Any], expected_version: int | None
) -> ReportCategory:
    category = get_category(ctx.session, code)
    check_version(category.version, expected_version)
    if "department" in changes:
        department = (
            active_department(ctx.session, changes["department"]) if changes["department"] else None
        )
        category.department_id = department.id if department else None
        category.department = department
    if "deadlines" in changes:
        category.deadlines = {**category.deadlines, **_deadlines(changes["deadlines"])}
    for key in ("name", "keywords", "active"):
        if key in changes:
            setattr(category, key, list(changes[key]) if key == "keywords" else changes[key])
    ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "report_category.update", object_type="report_category",
                 object_id=code, details={"changed": sorted(changes)})  # fmt: skip
    return category


def category_view(session: Session, category: ReportCategory) -> dict[str, Any]:
    department = category.department
    return {
        "code": category.code,
        "name": category.name,
        "parent": category.parent_code,
        "path": path_of(session, category),
        "leaf": category.parent_code is not None,
        "department": department.code if department else None,
        "department_name": department.name if department else None,
        "deadlines": category.deadlines,
        "keywords": category.keywords,
        "active": category.active,
        "version": category.version,
    }
