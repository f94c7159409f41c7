"""Admin pages for user accounts: list and filter, create, edit, disable, reset a password."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ledger.accounts import operations as ops
from ledger.accounts.models import ROLE_NAMES, ROLES, User
from ledger.areas.models import LEVEL_NAMES
from ledger.areas.operations import visible_areas
from ledger.reports.departments import list_departments
from server.auth.models import AuthSession
from server.auth.permissions import check
from server.console import bp
from server.console.admin import CAUGHT, FormErrors, area_rows, form_errors
from server.resources.users.routes import change_account, create_account
from server.wiring import ctx

BY_CODE = {"users.duplicate_username": "username"}


def _text(name: str) -> str | None:
    value = (request.form.get(name) or "").strip()
    return value or None


def _placement_form() -> dict:
    """Role, area and department as sent; a department only counts for department staff (the
    select stays in the form, hidden, for the other roles)."""
    role = request.form.get("role") or ""
    return {"role": role, "area": _text("area"),
            "department": _text("department") if role == "department_staff" else None}  # fmt: skip


def _choices(c) -> dict:
    """The selects every user form needs: roles, areas (indented) and departments."""
    departments = list_departments(c.session, include_inactive=True)
    return {"roles": ROLES, "role_names": ROLE_NAMES, "level_names": LEVEL_NAMES,
            "area_rows": area_rows(visible_areas(c.session, c.scope)),
            "departments": [d for d in departments if d.active],
            "department_names": {d.id: d.name for d in departments},
            "department_codes": {d.id: d.code for d in departments}}  # fmt: skip


@bp.route("/admin/users", methods=["GET", "POST"])
def admin_users():
    """Users: list filtered by role and area, and the form that creates an account"""
    check("users.manage")
    c = ctx()
    errors, form = FormErrors(), {}
    if request.method == "POST":
        form = {"username": (request.form.get("username") or "").strip(),
                "display_name": _text("display_name"), **_placement_form()}  # fmt: skip
        try:
            sent = {**form, "password": request.form.get("password") or ""}
            user = create_account(c.session, c.actor, sent)
        except CAUGHT as exc:
            errors = form_errors(exc, BY_CODE)
            if errors is None:
                raise
        else:
            flash(f"已创建用户 {user.username}（{ROLE_NAMES[user.role]}），可以用初始密码登录")
            return redirect(url_for("console.admin_users"))
    role = request.args.get("role") or None
    area = request.args.get("area") or None
    users = ops.list_users(c.session, role=role if role in ROLES else None, area=area)
    last_login = dict(
        c.session.execute(
            select(AuthSession.user_id, func.max(AuthSession.created_at)).group_by(
                AuthSession.user_id
            )
        ).all()
    )
    page = render_template("console/admin_users.html", users=users, last_login=last_login,
                           role=role, area=area, form=form, errors=errors,
                           **_choices(c))  # fmt: skip
    return page, errors.status if errors else 200


def _current(user: User, department_codes: dict[int, str]) -> dict:
    """The account's editable values in the form's terms."""
    return {"display_name": user.display_name, "role": user.role,
            "area": user.area.code if user.area else None,
            "department": department_codes.get(user.department_id)}  # fmt: skip


def _user_page(c, user: User, errors: FormErrors | None = None, form: dict | None = None,
               password_errors: FormErrors | None = None):  # fmt: skip
    choices = _choices(c)
    current = _current(user, choices["department_codes"])
    last = c.session.scalar(
        select(func.max(AuthSession.created_at)).where(AuthSession.user_id == user.id)
    )
    errors = errors or FormErrors()
    password_errors = password_errors or FormErrors()
    page = render_template("console/admin_user.html", u=user, form={**current, **(form or {})},
                           errors=errors, password_errors=password_errors, last_login=last,
                           is_self=user.id == g.user.id, **choices)  # fmt: skip
    failed = errors or password_errors
    return page, failed.status if failed else 200


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
def admin_user(user_id: int):
    """One account: change display name, role, area and department"""
    check("users.manage")
    c = ctx()
    user = ops.get_user(c.session, user_id)
    if request.method == "GET":
        return _user_page(c, user)
    form = {"display_name": _text("display_name"), **_placement_form()}
    codes = {d.id: d.code for d in list_departments(c.session, include_inactive=True)}
    current = _current(user, codes)
    # Only what changed: a role or area change ends the user's sessions, a new name must not.
    changes = {k: v for k, v in form.items() if v != current[k]}
    try:
        change_account(c.session, c.actor, user.id, changes)
    except CAUGHT as exc:
        errors = form_errors(exc, BY_CODE)
        if errors is None:
            raise
        return _user_page(c, user, errors, form)
    if {"role", "area", "department"} & changes.keys():
        flash(f"已保存 {user.username} 的角色和区域；该用户需要重新登录")
    elif changes:
        flash(f"已保存 {user.username} 的信息")
    else:
        flash("没有需要保存的修改")
    return redirect(url_for("console.admin_user", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
def admin_user_password(user_id: int):
    """Reset a user's password (same strength rules as the API); their sessions end"""
    check("users.manage")
    c = ctx()
    user = ops.get_user(c.session, user_id)
    password = request.form.get("password") or ""
    if password != (request.form.get("password_again") or ""):
        mismatch = FormErrors().add("password_again", "两次输入的密码不一致")
        return _user_page(c, user, password_errors=mismatch)
    try:
        change_account(c.session, c.actor, user.id, {"password": password})
    except CAUGHT as exc:
        errors = form_errors(exc)
        if errors is None:
            raise
        return _user_page(c, user, password_errors=errors)
    flash(f"已重置 {user.username} 的密码；该用户需要用新密码重新登录")
    return redirect(url_for("console.admin_user", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
def admin_user_active(user_id: int):
    """Disable an account (its sessions end at once) or enable it again"""
    check("users.manage")
    c = ctx()
    active = request.form.get("active") == "1"
    if not active and user_id == g.user.id:
        # An admin locking themselves out leaves the office without one until someone edits
        # the database; another admin can still do it.
        flash("不能停用自己的账号", "error")
        return redirect(url_for("console.admin_user", user_id=user_id))
    user = change_account(c.session, c.actor, user_id, {"active": active})
    flash(f"已启用 {user.username}" if active else f"已停用 {user.username}，其登录已全部退出")
    return redirect(url_for("console.admin_user", user_id=user.id))
