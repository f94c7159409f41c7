"""Department operations: list, create, rename and retire the offices that handle reports."""

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
from ledger.reports.errors import DepartmentInUse, DepartmentNotFound, field_error
from ledger.reports.models import Department, Report, RoutingRule
from ledger.reports.workflow import FINAL

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


def list_departments(session: Session, *, include_inactive: bool = False) -> list[Department]:
    stmt = select(Department).order_by(Department.id)
    if not include_inactive:
        stmt = stmt.where(Department.active.is_(True))
    return list(session.scalars(stmt))


def get_department(session: Session, code: str) -> Department:
    department = session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise DepartmentNotFound(details={"code": code})
    return department


def active_department(session: Session, code: Any, field: str = "department") -> Department:
    """The active department ``code`` names, or a field error the caller can act on."""
    department = session.scalar(select(Department).where(Department.code == str(code or "")))
    if department is None or not department.active:
        raise field_error(field, "部门不存在或已停用")
    return department


def create_department(ctx: Ctx, data: dict[str, Any]) -> Department:
    code = data["code"]
    if not CODE_RE.match(code):
        raise field_error("code", "部门代码为2-32位小写字母、数字或下划线，以字母开头")
    department = Department(code=code, name=data["name"], phone=data.get("phone"))
    with atomic(ctx.session, lambda: Conflict("部门代码已存在", code="departments.duplicate")):
        ctx.session.add(department)
    audit.record(ctx.session, ctx.actor, "department.create", object_type="department",
                 object_id=code, details={"name": department.name})  # fmt: skip
    return department


def update_department(
    ctx: Ctx, code: str, changes: dict[str, Any], expected_version: int | None
) -> Department:
    """Rename, change the phone, or retire/restore a department. A department with open cases
    or routing rules cannot be retired: they would strand cases nobody works on."""
    department = get_department(ctx.session, code)
    check_version(department.version, expected_version)
    if changes.get("active") is False and department.active:
        open_cases = ctx.session.scalar(
            select(func.count()).where(
                Report.department_id == department.id, Report.state.not_in(FINAL)
            )
        )
        rules = ctx.session.scalar(
            select(func.count()).where(RoutingRule.department_id == department.id)
        )
        if open_cases or rules:
            raise DepartmentInUse(details={"open_reports": open_cases, "routing_rules": rules})
    for key in ("name", "phone", "active"):
        if key in changes:
            setattr(department, key, changes[key])
    ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "department.update", object_type="department",
                 object_id=code, details={k: changes[k] for k in changes})  # fmt: skip
    return department


def department_view(department: Department) -> dict[str, Any]:
    return {
        "code": department.code,
        "name": department.name,
        "phone": department.phone,
        "active": department.active,
        "version": department.version,
    }
