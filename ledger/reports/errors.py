"""Exceptions raised by the reports domain; the server maps them to HTTP."""

from __future__ import annotations

from ledger.errors import Conflict, Forbidden, InvalidInput, NotFound


class ReportNotFound(NotFound):
    code = "reports.not_found"
    message = "找不到该事件，或您无权查看"


class ReportInvalid(InvalidInput):
    code = "validation_error"
    message = "事件信息有误，请按提示修改"


class DuplicateReportId(Conflict):
    code = "reports.duplicate_id"
    message = "该事件编号已被使用"


class ReportLocked(Conflict):
    code = "reports.locked"
    message = "事件已进入办理流程，不能再修改内容；补充情况请联系调度员"


class NotReporter(Forbidden):
    code = "reports.not_reporter"
    message = "只有上报人可以评价该事件"


class NotYourDepartment(Forbidden):
    code = "reports.not_your_department"
    message = "该事件未派遣给您所在的部门"


class DepartmentNotFound(NotFound):
    code = "departments.not_found"
    message = "找不到该部门"


class DepartmentInUse(Conflict):
    code = "departments.in_use"
    message = "该部门仍有未办结的事件或分派规则，不能停用"


class CategoryNotFound(NotFound):
    code = "report_categories.not_found"
    message = "找不到该事件类型"


class RuleNotFound(NotFound):
    code = "routing_rules.not_found"
    message = "找不到该分派规则"


def field_error(field: str, message: str) -> ReportInvalid:
    return ReportInvalid(message, details={"fields": {field: [message]}})
