"""Departments, the category tree and routing rules: what admins configure for dispatch."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.reports import categories, departments, routing
from server.auth.permissions import require
from server.db import get_session
from server.resources.common import etag_for, if_match_version
from server.resources.reports.schemas import (
    CategoryListSchema,
    CategorySchema,
    CategoryUpdateSchema,
    DepartmentListSchema,
    DepartmentSchema,
    DepartmentUpdateSchema,
    InactiveQuerySchema,
    RuleListSchema,
    RuleSchema,
)
from server.wiring import ctx

departments_blp = Blueprint("departments", __name__, url_prefix="/api/v1/departments",
                            description="职能部门")  # fmt: skip
categories_blp = Blueprint("report_categories", __name__, url_prefix="/api/v1/report-categories",
                           description="事件类型")  # fmt: skip
rules_blp = Blueprint("routing_rules", __name__, url_prefix="/api/v1/routing-rules",
                      description="自动分派规则")  # fmt: skip


@departments_blp.route("")
class DepartmentsViews(MethodView):
    @require("departments.read")
    @departments_blp.arguments(InactiveQuerySchema, location="query")
    @departments_blp.response(200, DepartmentListSchema)
    def get(self, args):
        """List departments"""
        found = departments.list_departments(
            get_session(), include_inactive=args["include_inactive"]
        )
        return {"items": [departments.department_view(d) for d in found]}

    @require("departments.manage")
    @departments_blp.arguments(DepartmentSchema)
    @departments_blp.response(201, DepartmentSchema)
    def post(self, data):
        """Add a department"""
        department = departments.create_department(ctx(), data)
        return departments.department_view(department), etag_for(department.version)


@departments_blp.route("/<string:code>")
class DepartmentByCodeViews(MethodView):
    @require("departments.read")
    @departments_blp.response(200, DepartmentSchema)
    def get(self, code):
        """Get one department"""
        department = departments.get_department(get_session(), code)
        return departments.department_view(department), etag_for(department.version)

    @require("departments.manage")
    @departments_blp.arguments(DepartmentUpdateSchema)
    @departments_blp.response(200, DepartmentSchema)
    def patch(self, data, code):
        """Rename, change the phone, or retire a department (not while it has open cases)"""
        department = departments.update_department(ctx(), code, data,
                                                   if_match_version(required=False))  # fmt: skip
        return departments.department_view(department), etag_for(department.version)


@categories_blp.route("")
class CategoriesViews(MethodView):
    @require("reports.read")
    @categories_blp.arguments(InactiveQuerySchema, location="query")
    @categories_blp.response(200, CategoryListSchema)
    def get(self, args):
        """The category tree: classes, then their leaves, with departments and deadlines"""
        session = get_session()
        found = categories.all_categories(session)
        if not args["include_inactive"]:
            found = [c for c in found if c.active]
        return {"items": [categories.category_view(session, c) for c in found]}

    @require("report_categories.manage")
    @categories_blp.arguments(CategorySchema)
    @categories_blp.response(201, CategorySchema)
    def post(self, data):
        """Add a class or a leaf category"""
        c = ctx()
        category = categories.create_category(c, data)
        return categories.category_view(c.session, category), etag_for(category.version)


@categories_blp.route("/<string:code>")
class CategoryByCodeViews(MethodView):
    @require("reports.read")
    @categories_blp.response(200, CategorySchema)
    def get(self, code):
        """Get one category"""
        session = get_session()
        category = categories.get_category(session, code)
        return categories.category_view(session, category), etag_for(category.version)

    @require("report_categories.manage")
    @categories_blp.arguments(CategoryUpdateSchema)
    @categories_blp.response(200, CategorySchema)
    def patch(self, data, code):
        """Change a category's name, department, deadlines, keywords or retire it"""
        c = ctx()
        category = categories.update_category(c, code, data, if_match_version(required=False))
        return categories.category_view(c.session, category), etag_for(category.version)


@rules_blp.route("")
class RulesViews(MethodView):
    @require("routing.read")
    @rules_blp.response(200, RuleListSchema)
    def get(self):
        """List routing rules"""
        return {"items": [routing.rule_view(r) for r in routing.list_rules(get_session())]}

    @require("routing.manage")
    @rules_blp.arguments(RuleSchema)
    @rules_blp.response(201, RuleSchema)
    def post(self, data):
        """Add a rule: a category (or class) from an area goes to a department"""
        return routing.rule_view(routing.create_rule(ctx(), data))


@rules_blp.route("/<int:rule_id>")
class RuleByIdViews(MethodView):
    @require("routing.manage")
    @rules_blp.response(204)
    def delete(self, rule_id):
        """Delete a rule"""
        routing.delete_rule(ctx(), rule_id)
