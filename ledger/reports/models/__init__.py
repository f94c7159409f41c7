"""Report models: departments, categories, routing rules, reports and their timeline."""

from ledger.reports.models.action import ReportAction
from ledger.reports.models.api_client import ApiClient
from ledger.reports.models.category import ReportCategory
from ledger.reports.models.department import Department
from ledger.reports.models.event import ReportEvent
from ledger.reports.models.report import Report
from ledger.reports.models.routing_rule import RoutingRule

__all__ = [
    "ApiClient",
    "Department",
    "Report",
    "ReportAction",
    "ReportCategory",
    "ReportEvent",
    "RoutingRule",
]
