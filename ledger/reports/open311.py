"""Open311 GeoReport v2 in our terms: services from the category tree, service requests from
reports, our states mapped onto open/closed with Chinese status notes. No HTTP here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from ledger.context import Ctx
from ledger.db import utcnow
from ledger.ledgers.entries import CHINA
from ledger.reports.categories import all_categories, path_of
from ledger.reports.errors import field_error
from ledger.reports.models import Report, ReportCategory, ReportEvent
from ledger.reports.reports import create_report, visible
from ledger.reports.workflow import FINAL

# GeoReport v2: a query with no dates covers the last 90 days, and at most 1000 requests.
DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
_NOTES = {
    "reported": "已受理，等待立案审核",
    "accepted": "已立案，等待派遣",
    "dispatched": "已派遣至{department}",
    "in_progress": "{department}正在处置",
    "resolved": "{department}已处置完毕，等待网格员现场核查",
    "verified": "网格员已现场核查，等待结案",
    "reopened": "核查未通过，已退回{department}重新处置",
    "closed": "已结案",
    "rejected": "不予立案：{comment}",
    "duplicate": "与已上报事件 {duplicate_of} 重复，已合并处理",
}


def _time(value: datetime | None) -> str | None:
    # W3C datetimes with the office's offset, as 12345 systems show them.
    return value.astimezone(CHINA).isoformat(timespec="seconds") if value else None


def services(ctx: Ctx) -> list[dict[str, Any]]:
    """Every active leaf category as a service, grouped by its class."""
    categories = [c for c in all_categories(ctx.session) if c.active]
    names = {c.code: c.name for c in categories}
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": path_of(ctx.session, c),
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join(c.keywords),
            "group": names.get(c.parent_code, ""),
        }
        for c in categories
        if c.parent_code is not None
    ]


def service_definition(ctx: Ctx, code: str) -> dict[str, Any] | None:
    category = ctx.session.get(ReportCategory, code)
    if category is None or not category.active or category.parent_code is None:
        return None
    # No extra attributes: a report needs only the common fields.
    return {"service_code": category.code, "attributes": []}


def _reason(ctx: Ctx, report: Report) -> str:
    event = ctx.session.scalar(
        select(ReportEvent)
        .where(ReportEvent.report_id == report.id, ReportEvent.action == "reject")
        .order_by(ReportEvent.id.desc())
        .limit(1)
    )
    return (event.comment if event else None) or "不属于受理范围"


def request_view(ctx: Ctx, report: Report) -> dict[str, Any]:
    department = report.department.name if report.department else "相关部门"
    note = _NOTES[report.state].format(
        department=department,
        comment=_reason(ctx, report) if report.state == "rejected" else "",
        duplicate_of=report.duplicate_of or "",
    )
    if report.state == "closed" and report.satisfied is not None:
        note += "，回访" + ("满意" if report.satisfied else "不满意")
    is_open = report.state not in FINAL
    return {
        "service_request_id": report.id,
        "status": "open" if is_open else "closed",
        "status_notes": note,
        "service_name": report.category.name,
        "service_code": report.category_code,
        "description": report.description or report.title,
        "agency_responsible": report.department.name if report.department else None,
        "service_notice": None,
        "requested_datetime": _time(report.reported_at),
        "updated_datetime": _time(report.updated_at),
        "expected_datetime": _time(report.due_at) if is_open else None,
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lon,
        "media_url": None,
        "token": None,
    }


def find_requests(ctx: Ctx, *, ids: list[str] | None = None, service_codes: list[str] | None = None,
                  start: datetime | None = None, end: datetime | None = None,
                  status: list[str] | None = None) -> list[Report]:  # fmt: skip
    stmt = select(Report).where(visible(ctx))
    if ids:
        # Looking up given requests ignores the other filters, as the spec says.
        return list(ctx.session.scalars(stmt.where(Report.id.in_(ids[:MAX_RESULTS]))).unique())
    if service_codes:
        stmt = stmt.where(Report.category_code.in_(service_codes))
    if start is None and end is None:
        start = utcnow() - DEFAULT_WINDOW
    if start is not None:
        stmt = stmt.where(Report.reported_at >= start)
    if end is not None:
        stmt = stmt.where(Report.reported_at <= end)
    wanted = set(status or ())
    if wanted == {"open"}:
        stmt = stmt.where(Report.state.not_in(FINAL))
    elif wanted == {"closed"}:
        stmt = stmt.where(Report.state.in_(FINAL))
    stmt = stmt.order_by(Report.reported_at.desc(), Report.id).limit(MAX_RESULTS)
    return list(ctx.session.scalars(stmt).unique())


def create_request(ctx: Ctx, params: dict[str, Any], source: str) -> Report:
    """A service request becomes a report of ``source`` (open311 or hotline_12345)."""
    lat, lon = params.get("lat"), params.get("long")
    if (lat is None) != (lon is None):
        raise field_error("lat", "lat 与 long 须同时提供")
    if lat is None and not params.get("address_string") and not params.get("address_id"):
        raise field_error("lat", "请提供位置（lat/long）或地址（address_string）")
    name = "".join(p for p in (params.get("last_name"), params.get("first_name")) if p)
    contact = {"name": name, "phone": params.get("phone")} if name or params.get("phone") else None
    description = (params.get("description") or "").strip()
    category = ctx.session.get(ReportCategory, params.get("service_code") or "")
    return create_report(ctx, {
        "category": params.get("service_code"),
        "title": "" if description else (category.name if category else ""),
        "description": description,
        "location": {"lat": lat, "lon": lon} if lat is not None else None,
        "address": params.get("address_string"),
        "area": params.get("area"),
        "source": source,
        "external_id": params.get("account_id") or params.get("device_id"),
        "contact": contact,
    })  # fmt: skip
