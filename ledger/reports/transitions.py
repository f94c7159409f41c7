"""Transitions: the one call that moves a report through the loop, checked against the
workflow, stamped with deadlines and written to the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.context import Ctx
from ledger.db import utcnow
from ledger.errors import Conflict
from ledger.registry.common import check_version
from ledger.reports import workflow
from ledger.reports.categories import leaf_category
from ledger.reports.departments import active_department
from ledger.reports.errors import NotReporter, ReportNotFound, field_error
from ledger.reports.models import Report, ReportEvent
from ledger.reports.reports import (
    add_event,
    checked_files,
    end_stage,
    get_report,
    link_files,
    start_stage,
)
from ledger.reports.stats import close_bucket

_STAMPS = {"accepted": "accepted_at", "dispatched": "dispatched_at", "resolved": "resolved_at",
           "closed": "closed_at"}  # fmt: skip


class AlreadyEvaluated(Conflict):
    code = "reports.already_evaluated"
    message = "该事件已评价过"


def _original(ctx: Ctx, report: Report, ref: Any) -> Report:
    """The case a duplicate joins: followed to the first report, never the report itself."""
    if not ref:
        raise field_error("duplicate_of", "请指明与哪一件事件重复")
    try:
        original = get_report(ctx, str(ref))
    except ReportNotFound:
        raise field_error("duplicate_of", "原事件不存在或您无权查看") from None
    seen = {report.id}
    while original.state == "duplicate" and original.duplicate_of:
        if original.id in seen:
            break
        seen.add(original.id)
        original = get_report(ctx, original.duplicate_of)
    if original.id == report.id:
        raise field_error("duplicate_of", "不能与自身重复")
    if original.state == "rejected":
        raise field_error("duplicate_of", "原事件已不予立案，不能合并到该事件")
    return original


def transition(ctx: Ctx, report_id: str, data: dict[str, Any],
               expected_version: int | None) -> Report:  # fmt: skip
    """Take ``data['action']`` on a report: 403 for a role, 409 for a state, 422 for what the
    action needs (a reason, a department, photos …)."""
    return take(ctx, report_id, data, expected_version)[0]


def take(ctx: Ctx, report_id: str, data: dict[str, Any], expected_version: int | None, *,
         acted_at: datetime | None = None,
         files_may_follow: bool = False) -> tuple[Report, ReportEvent]:  # fmt: skip
    """``transition`` for a step taken on a device: at ``acted_at`` (kept within the case's
    last change and now, since phone clocks drift), photos possibly not uploaded yet.
    Returns the report and the timeline line the step became."""
    report = get_report(ctx, report_id)
    role = ctx.actor.role if ctx.actor else None
    action = workflow.check(data.get("action"), report.state, role)
    check_version(report.version, expected_version)
    comment = (data.get("comment") or "").strip() or None
    if action.needs_comment and not comment:
        raise field_error("comment", f"“{action.label}”需要填写原因")
    photos = checked_files(ctx, data.get("photos"), "photos", may_follow=files_may_follow)
    if action.needs_photos and not photos:
        raise field_error("photos", f"“{action.label}”需要附现场照片")
    now = utcnow()
    if acted_at is not None:
        now = max(min(acted_at, now), report.updated_at)
    before = report.state
    extra: dict[str, Any] = {}
    event_department = None
    if data.get("category") and data["category"] != report.category_code:
        # The dispatcher's correction is the confirmed category the suggester learns from.
        if action.name not in ("accept", "dispatch"):
            raise field_error("category", "只有立案或派遣时可以更正事件类型")
        category = leaf_category(ctx.session, data["category"])
        extra["category"] = {"from": report.category_code, "to": category.code}
        report.category_code, report.category = category.code, category
    if action.name == "evaluate":
        if role in ("grid_worker", "community_staff") and report.reporter_id != ctx.actor.id:
            raise NotReporter()
        if report.satisfied is not None:
            raise AlreadyEvaluated()
        if not isinstance(data.get("satisfied"), bool):
            raise field_error("satisfied", "请选择满意或不满意")
        report.satisfied = data["satisfied"]
        extra["satisfied"] = report.satisfied
    elif action.name == "dispatch":
        department = active_department(ctx.session, data.get("department"))
        if before == "dispatched" and department.id == report.department_id:
            raise field_error("department", "事件已派遣给该部门")
        if before == "dispatched":
            extra["previous_department"] = report.department.code
        report.department_id, report.department = department.id, department
        event_department = department.id
    elif action.name == "mark_duplicate":
        original = _original(ctx, report, data.get("duplicate_of"))
        report.duplicate_of = original.id
        extra["duplicate_of"] = original.id
        # The original's timeline shows the second report and its photos, so the
        # department sees all the evidence in one place.
        add_event(ctx, original, "duplicate_merged", original.state, comment=comment,
                  photos=report.photos, data={"report_id": report.id})  # fmt: skip
        original.updated_at = now
    if action.target is not None:
        end_stage(report, now)
        report.state = action.target
        if action.target in _STAMPS:
            setattr(report, _STAMPS[action.target], now)
        # Re-dispatch and reopening restart the handling clock for the department; moving
        # within a stage (dispatched → in_progress) keeps it running.
        same_stage = action.name == "start"
        if not same_stage:
            start_stage(report, now)
        if action.target == "closed":
            report.close_seconds = int((now - report.reported_at).total_seconds())
            report.close_bucket = close_bucket(report.close_seconds)
    link_files(ctx, report, photos)
    if acted_at is not None:
        extra["offline"] = True
    event = add_event(ctx, report, action.name, before, comment=comment, photos=photos,
                      department_id=event_department, data=extra, at=now)  # fmt: skip
    report.updated_at = now
    ctx.session.flush()
    return report, event
