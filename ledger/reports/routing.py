"""Routing rules: which department gets a report, picked by category and area."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.areas.models import Area
from ledger.areas.operations import get_area_by_code
from ledger.areas.scope import Scope
from ledger.audit import operations as audit
from ledger.context import Ctx
from ledger.errors import NotFound
from ledger.reports.categories import get_category
from ledger.reports.departments import active_department
from ledger.reports.errors import RuleNotFound, field_error
from ledger.reports.models import Department, ReportCategory, RoutingRule


@dataclass(frozen=True)
class Route:
    department: Department | None
    auto_dispatch: bool = False
    rule_id: int | None = None


def route(session: Session, category: ReportCategory, area: Area) -> Route:
    """The department for a report: the most specific matching rule, else the category's
    (or its class's) default department. The kind of problem decides who can fix it, so a
    rule naming the category beats one naming only the area; among equals the deeper area
    wins (a village's own rule over the district's)."""
    codes = [category.code, category.parent_code]
    rules = session.scalars(
        select(RoutingRule).where(
            (RoutingRule.category_code.in_([c for c in codes if c]))
            | RoutingRule.category_code.is_(None)
        )
    )
    best, best_key = None, None
    for rule in rules:
        if not rule.department.active:
            continue
        if rule.area is not None and not area.path.startswith(rule.area.path):
            continue
        specificity = (
            2 if rule.category_code == category.code else int(rule.category_code is not None)
        )
        key = (specificity, len(rule.area.path) if rule.area else 0, rule.id)
        if best_key is None or key > best_key:
            best, best_key = rule, key
    if best is not None:
        return Route(best.department, best.auto_dispatch, best.id)
    department = category.department
    if department is None and category.parent_code:
        department = get_category(session, category.parent_code).department
    return Route(department if department is not None and department.active else None)


def list_rules(session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.id)))


def create_rule(ctx: Ctx, data: dict[str, Any]) -> RoutingRule:
    category = None
    if data.get("category"):
        category = ctx.session.get(ReportCategory, data["category"])
        if category is None:
            raise field_error("category", "事件类型不存在")
    area = None
    if data.get("area"):
        try:
            area = get_area_by_code(ctx.session, data["area"], Scope.everything())
        except NotFound:
            raise field_error("area", "区域不存在") from None
    department = active_department(ctx.session, data.get("department"))
    rule = RoutingRule(
        category_code=category.code if category else None,
        area_id=area.id if area else None,
        department_id=department.id,
        auto_dispatch=bool(data.get("auto_dispatch")),
        note=data.get("note"),
    )
    rule.area, rule.department = area, department
    ctx.session.add(rule)
    ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "routing_rule.create", object_type="routing_rule",
                 object_id=str(rule.id), details=rule_view(rule))  # fmt: skip
    return rule


def delete_rule(ctx: Ctx, rule_id: int) -> None:
    rule = ctx.session.get(RoutingRule, rule_id)
    if rule is None:
        raise RuleNotFound(details={"id": rule_id})
    view = rule_view(rule)
    ctx.session.delete(rule)
    ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "routing_rule.delete", object_type="routing_rule",
                 object_id=str(rule_id), details=view)  # fmt: skip


def rule_view(rule: RoutingRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "category": rule.category_code,
        "area": rule.area.code if rule.area else None,
        "department": rule.department.code,
        "auto_dispatch": rule.auto_dispatch,
        "note": rule.note,
    }
