"""Steps of the loop sent from devices through sync: taken when the phone was offline (a
check on site in a basement), applied when it syncs, refused with the reason if the case
moved on meanwhile."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.context import Ctx
from ledger.db import atomic
from ledger.errors import Conflict
from ledger.reports.errors import ReportNotFound, field_error
from ledger.reports.models import ReportAction
from ledger.reports.reports import get_report
from ledger.reports.transitions import take

STEP_FIELDS = ("action", "comment", "department", "duplicate_of", "photos", "satisfied",
               "category")  # fmt: skip


def record_action(ctx: Ctx, action_id: str, fields: dict[str, Any],
                  acted_at: datetime) -> ReportAction:  # fmt: skip
    """Take the step as ``transition`` would, at the time the device took it, and keep it
    under the device's id."""
    if ctx.session.get(ReportAction, action_id) is not None:
        raise Conflict("该操作已提交过", code="reports.duplicate_action")
    try:
        report = get_report(ctx, str(fields.get("report") or ""))
    except ReportNotFound:
        raise field_error("report", "事件不存在或不在您负责的范围内") from None
    step = {k: fields.get(k) for k in STEP_FIELDS}
    report, event = take(ctx, report.id, step, None, acted_at=acted_at, files_may_follow=True)
    row = ReportAction(
        id=action_id, report_id=report.id, action=step["action"], comment=event.comment,
        department=step["department"], duplicate_of=step["duplicate_of"],
        category=step["category"], photos=event.photos, satisfied=step["satisfied"],
        acted_at=event.at, area_id=report.area_id,
        actor_id=ctx.actor.id if ctx.actor else None, event_id=event.id,
    )  # fmt: skip
    with atomic(ctx.session, lambda: Conflict("该操作已提交过", code="reports.duplicate_action")):
        ctx.session.add(row)
    return row
