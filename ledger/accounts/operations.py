"""Account operations: create, change role or area, list. Passwords arrive already hashed."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.accounts.models import ROLES, User
from ledger.areas.models import Area
from ledger.audit import operations as audit
from ledger.audit.operations import Actor
from ledger.db import atomic
from ledger.errors import Conflict, InvalidInput, NotFound

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")

# The area level each role works at; admins may sit anywhere or nowhere.
ROLE_LEVELS = {
    "grid_worker": {"grid"},
    "community_staff": {"community", "street", "district"},
    "dispatcher": {"district", "street", "community", "grid"},
    # A department serves a district, a street or a community, never one grid.
    "department_staff": {"district", "street", "community"},
}


class UserNotFound(NotFound):
    code = "users.not_found"
    message = "找不到该用户"


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, details={"fields": {field: [message]}})


def _resolve_area(session: Session, role: str, area_code: str | None) -> Area | None:
    if role not in ROLES:
        raise _invalid("role", "角色应为 " + "、".join(ROLES))
    if not area_code:
        if role == "admin":
            return None
        raise _invalid("area", "请为该用户指定负责的区域")
    area = session.scalar(select(Area).where(Area.code == area_code))
    if area is None:
        raise _invalid("area", "区域不存在")
    allowed = ROLE_LEVELS.get(role)
    if allowed and area.level not in allowed:
        raise _invalid("area", "网格员只能分配到网格；社区工作人员应分配到社区或以上")
    return area


def _resolve_department(session: Session, role: str, code: str | None) -> int | None:
    """Department staff work for exactly one department; no other role has one."""
    from ledger.reports.models import Department

    if role != "department_staff":
        if code:
            raise _invalid("department", "只有职能部门人员需要指定部门")
        return None
    if not code:
        raise _invalid("department", "请为职能部门人员指定所属部门")
    department = session.scalar(select(Department).where(Department.code == code))
    if department is None or not department.active:
        raise _invalid("department", "部门不存在或已停用")
    return department.id


def create_user(
    session: Session,
    actor: Actor | None,
    *,
    username: str,
    password_hash: str,
    role: str,
    area: str | None = None,
    display_name: str | None = None,
    department: str | None = None,
) -> User:
    if not USERNAME_RE.match(username or ""):
        raise _invalid("username", "用户名为3-64位字母、数字或 _ . @ -")
    area_obj = _resolve_area(session, role, area)
    department_id = _resolve_department(session, role, department)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("该用户名已存在", code="users.duplicate_username")
    user = User(
        username=username,
        password_hash=password_hash,
        role=role,
        area_id=area_obj.id if area_obj else None,
        display_name=display_name,
        department_id=department_id,
    )
    user.area = area_obj
    with atomic(session, lambda: Conflict("该用户名已存在", code="users.duplicate_username")):
        session.add(user)
    audit.record(
        session,
        actor,
        "user.create",
        object_type="user",
        object_id=str(user.id),
        details={
            "username": username,
            "role": role,
            "area": area,
            **({"department": department} if department else {}),
        },
    )
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound(details={"id": user_id})
    return user


def update_user(
    session: Session, actor: Actor | None, user_id: int, changes: dict[str, Any]
) -> User:
    """Change role, area, activity, name or password hash; role and area changes are audited."""
    user = get_user(session, user_id)
    role = changes.get("role", user.role)
    area_code = changes.get("area", user.area.code if user.area else None)
    before = _placement(session, user)
    if "role" in changes or "area" in changes or "department" in changes:
        area_obj = _resolve_area(session, role, area_code)
        department = changes.get("department", _department_code(session, user))
        if role != "department_staff" and "department" not in changes:
            department = None
        user.department_id = _resolve_department(session, role, department)
        user.role = role
        user.area_id = area_obj.id if area_obj else None
        user.area = area_obj
    if "active" in changes:
        user.active = bool(changes["active"])
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    if "password_hash" in changes:
        user.password_hash = changes["password_hash"]
    session.flush()
    after = _placement(session, user)
    if before != after:
        audit.record(
            session,
            actor,
            "user.role_change",
            object_type="user",
            object_id=str(user.id),
            details={"before": before, "after": after},
        )
    if "active" in changes or "password_hash" in changes:
        audit.record(
            session,
            actor,
            "user.update",
            object_type="user",
            object_id=str(user.id),
            details={
                "active": user.active,
                "password_changed": "password_hash" in changes,
            },
        )
    return user


def _placement(session: Session, user: User) -> dict[str, Any]:
    """Role, area and (for department staff) department, as the audit log records them."""
    out = {"role": user.role, "area": user.area.code if user.area else None}
    if user.department_id:
        out["department"] = _department_code(session, user)
    return out


def _department_code(session: Session, user: User) -> str | None:
    from ledger.reports.models import Department

    department = session.get(Department, user.department_id) if user.department_id else None
    return department.code if department else None


def list_users(session: Session, *, role: str | None = None, area: str | None = None) -> list[User]:
    stmt = select(User).order_by(User.id)
    if role:
        stmt = stmt.where(User.role == role)
    if area:
        stmt = stmt.join(Area, User.area_id == Area.id).where(Area.code == area)
    return list(session.scalars(stmt).unique())
