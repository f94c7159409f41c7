"""Issue reports as syncable entities: a report made in a basement syncs when the phone is back
online, and every step of its case (立案, 派遣, 结案 …) reaches the reporter's phone.

``report``: devices write the report itself, created offline, then corrected by its reporter
until a dispatcher takes it up. The case fields (``state``, ``department``, ``due_at`` …)
belong to the server; devices read them and whatever they send for them is ignored.

``report_action``: a step a device took offline (核查 on site, 评价), created once and applied
as the transition API would, at the time it was taken. If the case moved on meanwhile the
push is refused with the reason, and the device shows it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.context import Ctx
from ledger.errors import Forbidden
from ledger.files.blobstore import is_sha256
from ledger.reports import reports as ops
from ledger.reports.actions import record_action
from ledger.reports.models import Report, ReportAction
from sync.entities.common import field_errors, plain
from sync.registry import SyncEntity, register

WRITABLE = ("category", "title", "description", "transcript", "audio_file", "photos", "lat",
            "lon", "address", "area", "urgency", "reported_at")  # fmt: skip
SERVER_OWNED = ("state", "department", "duplicate_of", "due_at", "satisfied", "source")
FIELDS = WRITABLE + SERVER_OWNED
COLUMNS = {
    "category_code": "category", "title": "title", "description": "description",
    "transcript": "transcript",
    "audio_file": "audio_file", "photos": "photos", "lat": "lat", "lon": "lon",
    "address": "address", "area_id": "area", "urgency": "urgency", "reported_at": "reported_at",
    "state": "state", "department_id": "department", "duplicate_of": "duplicate_of",
    "due_at": "due_at", "satisfied": "satisfied", "source": "source",
}  # fmt: skip
_EDITS = {"title": "title", "description": "description", "transcript": "transcript",
          "audio_file": "audio_file",
          "photos": "photos", "address": "address", "urgency": "urgency"}  # fmt: skip


class ReportNotDeletable(Forbidden):
    code = "reports.not_deletable"
    message = "事件不能删除；误报请联系调度员作“不予立案”处理"


def _location(fields: dict[str, Any], current: Report | None = None) -> dict | None:
    lat = fields.get("lat", current.lat if current else None)
    lon = fields.get("lon", current.lon if current else None)
    return None if lat is None and lon is None else {"lat": lat, "lon": lon}


def _time(value: Any, field: str = "reported_at") -> datetime | None:
    if value in (None, ""):
        return None
    try:
        # WatermelonDB keeps times as milliseconds; native clients send ISO text.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, UTC)
        parsed = datetime.fromisoformat(str(value))
    except (ValueError, OverflowError, OSError):
        raise field_errors({field: "时间格式不正确"}) from None
    if parsed.tzinfo is None:
        raise field_errors({field: "时间须带时区"})
    return parsed


def create(ctx: Ctx, record_id: str, fields: dict[str, Any]) -> Report:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise field_errors({k: "未知字段，请更新应用" for k in unknown})
    body = {k: fields.get(k) for k in ("category", "title", "description", "transcript",
                                        "audio_file",
                                        "photos", "address", "area", "urgency")}  # fmt: skip
    body.update(
        id=record_id, location=_location(fields), reported_at=_time(fields.get("reported_at"))
    )
    if body["photos"] is None:
        body["photos"] = []
    return ops.create_report(ctx, body, files_may_follow=True)


def update(ctx: Ctx, report: Report, fields: dict[str, Any]) -> None:
    changes = {_EDITS[k]: v for k, v in fields.items() if k in _EDITS}
    if "lat" in fields or "lon" in fields:
        changes["location"] = _location(fields, report)
    refused = sorted(k for k in fields if k not in _EDITS and k not in ("lat", "lon"))
    if refused:
        raise field_errors({k: "上报后不能修改该项" for k in refused})
    if changes:
        ops.update_report(ctx, report.id, changes, None, files_may_follow=True)


def delete(ctx: Ctx, report: Report) -> None:
    raise ReportNotDeletable(details={"id": report.id})


def read(ctx: Ctx, report: Report) -> dict[str, Any]:
    return {
        "category": report.category_code, "title": report.title,
        "description": report.description, "transcript": report.transcript,
        "audio_file": report.audio_file,
        "photos": list(report.photos or []), "lat": report.lat, "lon": report.lon,
        "address": report.address, "area": report.area.code, "urgency": report.urgency,
        "reported_at": report.reported_at.isoformat(), "state": report.state,
        "department": report.department.code if report.department else None,
        "duplicate_of": report.duplicate_of,
        "due_at": report.due_at.isoformat() if report.due_at else None,
        "satisfied": report.satisfied, "source": report.source,
    }  # fmt: skip


def changed(ctx: Ctx, report: Report, fields: dict[str, Any]) -> dict[str, Any]:
    """Pushed fields that differ, server-owned ones left out (a device's copy of the state
    is only ever older than the server's)."""
    current = read(ctx, report)
    out = {}
    for key, value in fields.items():
        if key in SERVER_OWNED:
            continue
        if key == "reported_at":
            pushed = _time(value)
            if pushed is not None and pushed != report.reported_at:
                out[key] = value
            continue
        if key == "photos" and isinstance(value, list):
            if [str(v).strip().lower() for v in value] != current["photos"]:
                out[key] = value
            continue
        if plain(value) != plain(current.get(key)):
            out[key] = value
    return out


def file_refs(fields: dict[str, Any]) -> list[str]:
    refs = [fields.get("audio_file"), *(fields.get("photos") or [])]
    digests = [r.strip().lower() for r in refs if isinstance(r, str)]
    return [d for d in digests if is_sha256(d)]


ENTITY = register(
    SyncEntity(
        name="report",
        table="reports",
        model=Report,
        fields=FIELDS,
        columns=COLUMNS,
        area_of=lambda report: report.area_id,
        dedupe=lambda ctx, fields: None,
        create=create,
        update=update,
        delete=delete,
        read=read,
        changed=changed,
        write_permission="reports.create",
        delete_permission="reports.create",
        file_refs=file_refs,
        json_fields=("photos",),
    )
)


ACTION_FIELDS = ("report", "action", "comment", "department", "duplicate_of", "photos",
                 "satisfied", "category", "acted_at")  # fmt: skip
ACTION_COLUMNS = {"report_id": "report", "action": "action", "comment": "comment",
                  "department": "department", "duplicate_of": "duplicate_of",
                  "photos": "photos", "satisfied": "satisfied", "category": "category",
                  "acted_at": "acted_at"}  # fmt: skip


class ActionFinal(Forbidden):
    code = "reports.action_final"
    message = "已提交的办理操作不能修改或撤回"


def create_action(ctx: Ctx, record_id: str, fields: dict[str, Any]) -> ReportAction:
    unknown = sorted(set(fields) - set(ACTION_FIELDS))
    if unknown:
        raise field_errors({k: "未知字段，请更新应用" for k in unknown})
    acted_at = _time(fields.get("acted_at"), "acted_at")
    if acted_at is None:
        raise field_errors({"acted_at": "请提供操作时间"})
    return record_action(ctx, record_id, fields, acted_at)


def refuse_action_change(ctx: Ctx, action: ReportAction, fields: dict[str, Any] | None = None):
    raise ActionFinal(details={"id": action.id})


def read_action(ctx: Ctx, action: ReportAction) -> dict[str, Any]:
    return {
        "report": action.report_id, "action": action.action, "comment": action.comment,
        "department": action.department, "duplicate_of": action.duplicate_of,
        "photos": list(action.photos or []), "satisfied": action.satisfied,
        "category": action.category, "acted_at": action.acted_at.isoformat(),
    }  # fmt: skip


def action_changed(ctx: Ctx, action: ReportAction, fields: dict[str, Any]) -> dict[str, Any]:
    current = read_action(ctx, action)
    out = {}
    for key, value in fields.items():
        if key == "acted_at":
            if _time(value, "acted_at") != action.acted_at:
                out[key] = value
        elif plain(value) != plain(current.get(key)):
            out[key] = value
    return out


ACTION_ENTITY = register(
    SyncEntity(
        name="report_action",
        table="report_actions",
        model=ReportAction,
        fields=ACTION_FIELDS,
        columns=ACTION_COLUMNS,
        area_of=lambda action: action.area_id,
        dedupe=lambda ctx, fields: None,
        create=create_action,
        update=refuse_action_change,
        delete=refuse_action_change,
        read=read_action,
        changed=action_changed,
        write_permission="reports.transition",
        delete_permission="reports.transition",
        file_refs=file_refs,
        json_fields=("photos",),
    )
)
