"""Report operations: file a report, read it (with the caller's next actions), list with
filters, find possible duplicates nearby, and read its timeline."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from ledger.areas.models import Area
from ledger.areas.operations import get_area_by_code
from ledger.audit import operations as audit
from ledger.context import Ctx
from ledger.db import atomic, new_uuid, utcnow
from ledger.errors import NotFound
from ledger.files.blobstore import BlobNotFound
from ledger.files.models import StoredFile
from ledger.files.operations import add_ref, readable_file, set_refs
from ledger.registry.common import check_version, client_id, newest_first_page, normalize_phone
from ledger.registry.errors import RegistryInvalid
from ledger.registry.idnumber import mask_phone
from ledger.reports import geo
from ledger.reports.categories import deadline_hours, leaf_category, path_of
from ledger.reports.departments import get_department
from ledger.reports.draft_text import clean_title
from ledger.reports.errors import (
    DuplicateReportId,
    NotReporter,
    ReportInvalid,
    ReportLocked,
    ReportNotFound,
    field_error,
)
from ledger.reports.models import Report, ReportCategory, ReportEvent
from ledger.reports.models.report import SOURCES, URGENCIES
from ledger.reports.routing import route
from ledger.reports.workflow import ACTIONS, FINAL, STATE_NAMES, allowed

# FixMyStreet's rule: the same problem reported again nearby while the first is still open.
DUPLICATE_RADIUS_M = 50
DUPLICATE_WINDOW = timedelta(hours=72)
MAX_PHOTOS = 9
# The stage (and so the deadline) a case in each state is in.
STAGE_OF = {"reported": "accept", "accepted": "dispatch", "dispatched": "resolve",
            "in_progress": "resolve", "reopened": "resolve", "resolved": "verify",
            "verified": "close"}  # fmt: skip
# Offline reports carry the time they were made; one from the future is a wrong phone clock.
CLOCK_SKEW = timedelta(minutes=10)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_OFFICE_SOURCES = frozenset({"hotline_12345", "staff"})


def visible(ctx: Ctx) -> ColumnElement[bool]:
    """What the caller may see: reports in their areas; department staff only the cases
    dispatched to their department."""
    clause = ctx.scope.filter(Report.area_id)
    if ctx.actor is not None and ctx.actor.role == "department_staff":
        clause = and_(clause, Report.department_id == (ctx.actor.department_id or -1))
    return clause


def get_report(ctx: Ctx, report_id: str) -> Report:
    try:
        rid = client_id(report_id)
    except RegistryInvalid:
        raise ReportNotFound(details={"id": report_id}) from None
    report = ctx.session.scalar(select(Report).where(Report.id == rid, visible(ctx)))
    if report is None:
        raise ReportNotFound(details={"id": report_id})
    return report


def checked_files(ctx: Ctx, hashes: Any, field: str, *, may_follow: bool = False) -> list[str]:
    """Uploaded files the caller may use, as lower-case sha256s (duplicates dropped). With
    ``may_follow`` (an offline push), files not uploaded yet are accepted: they link to the
    report when they arrive."""
    if hashes is None:
        return []
    if not isinstance(hashes, list) or len(hashes) > MAX_PHOTOS:
        raise field_error(field, f"最多附 {MAX_PHOTOS} 张照片（文件的 sha256 列表）")
    out: list[str] = []
    for raw in hashes:
        sha = str(raw).strip().lower()
        if not _SHA256.match(sha):
            raise field_error(field, "照片应为已上传文件的 sha256")
        try:
            readable_file(ctx, sha)
        except BlobNotFound:
            if not (may_follow and ctx.session.get(StoredFile, sha) is None):
                raise field_error(field, "照片尚未上传，请先上传再提交") from None
        if sha not in out:
            out.append(sha)
    return out


def link_files(ctx: Ctx, report: Report, hashes: list[str]) -> None:
    """Whoever may see the report may see its photos and recording."""
    for sha in hashes:
        add_ref(ctx.session, sha, object_type="report", object_id=report.id,
                area_id=report.area_id)  # fmt: skip


def report_area(ctx: Ctx, code: Any, *, required: bool = True) -> Area | None:
    """The area ``code`` names in the caller's scope, else the caller's own area."""
    if code:
        try:
            return get_area_by_code(ctx.session, str(code), ctx.scope)
        except NotFound:
            raise field_error("area", "区域不存在或不在您负责的范围内") from None
    if ctx.scope.root_area_id is not None:
        return ctx.session.get(Area, ctx.scope.root_area_id)
    if not required:
        return None
    raise field_error("area", "请选择事件所在的网格")


def _location(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lat, lon = float(value["lat"]), float(value["lon"])
    except (TypeError, KeyError, ValueError):
        raise field_error("location", "位置应为 {lat, lon}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        raise field_error("location", "位置坐标无效，请重新定位")
    return lat, lon


def _contact(ctx: Ctx, value: Any) -> bytes | None:
    if not value:
        return None
    name = str(value.get("name") or "").strip()[:64]
    phone = value.get("phone")
    try:
        phone = normalize_phone(str(phone)) if phone else None
    except RegistryInvalid:
        raise field_error("contact", "联系电话格式不正确") from None
    if not name and not phone:
        return None
    plain = json.dumps({"name": name, "phone": phone}, ensure_ascii=False)
    return ctx.pii.encrypt(plain, field="report_contact")


def _source(ctx: Ctx, given: str | None) -> str:
    role = ctx.actor.role if ctx.actor else None
    if given is not None and given not in SOURCES:
        raise field_error("source", "来源应为 " + "、".join(SOURCES))
    if given == "open311" or role is None:
        return given or "open311"
    if role == "grid_worker":
        return "field"
    # Office staff type in what a caller phoned in or what they saw themselves.
    return given if given in _OFFICE_SOURCES else "staff"


def actor_name(ctx: Ctx) -> str | None:
    from ledger.accounts.models import User

    if ctx.actor is None or ctx.actor.id is None:
        return ctx.actor.username if ctx.actor else None
    user = ctx.session.get(User, ctx.actor.id)
    return (user.display_name or user.username) if user else ctx.actor.username


def add_event(ctx: Ctx, report: Report, action: str, before: str | None, *,
              comment: str | None = None, photos: list[str] | None = None,
              department_id: int | None = None, data: dict | None = None,
              system: bool = False, at: datetime | None = None) -> ReportEvent:  # fmt: skip
    """One line of the timeline; ``system`` steps (automatic dispatch) name no person."""
    event = ReportEvent(
        report_id=report.id, action=action, from_state=before, to_state=report.state,
        actor_id=None if system or ctx.actor is None else ctx.actor.id,
        actor_name="系统" if system else actor_name(ctx),
        actor_role=None if system or ctx.actor is None else ctx.actor.role,
        department_id=department_id, comment=comment, photos=photos or [], data=data or {},
        at=at or utcnow(),
    )  # fmt: skip
    ctx.session.add(event)
    return event


def start_stage(report: Report, now: datetime) -> None:
    """Set the due time of the stage the case is now in (none once it is finished)."""
    stage = STAGE_OF.get(report.state)
    hours = deadline_hours(report.category, stage) if stage else None
    report.due_at = now + timedelta(hours=hours) if hours else None


def end_stage(report: Report, now: datetime) -> None:
    """A stage finished after its due time makes the case late for the on-time rate."""
    if report.due_at is not None and now > report.due_at:
        report.late = True


def create_report(ctx: Ctx, data: dict[str, Any], *, files_may_follow: bool = False) -> Report:
    """File a report. A routing rule with automatic dispatch accepts and dispatches it at once
    (the 20-minute loop); otherwise it waits for a dispatcher."""
    rid = client_id(data.get("id")) or new_uuid()
    if ctx.session.get(Report, rid) is not None:
        raise DuplicateReportId(details={"id": rid})
    category = leaf_category(ctx.session, data.get("category"))
    area = report_area(ctx, data.get("area"))
    location = _location(data.get("location"))
    now = utcnow()
    reported_at = data.get("reported_at") or now
    if reported_at > now + CLOCK_SKEW:
        raise field_error("reported_at", "上报时间晚于当前时间，请检查手机时间设置")
    urgency = data.get("urgency") or "normal"
    if urgency not in URGENCIES:
        raise field_error("urgency", "紧急程度应为 high、normal 或 low")
    photos = checked_files(ctx, data.get("photos"), "photos", may_follow=files_may_follow)
    audio = checked_files(ctx, [data["audio_file"]] if data.get("audio_file") else [],
                          "audio_file", may_follow=files_may_follow)  # fmt: skip
    title = (data.get("title") or "").strip()
    description = (data.get("description") or "").strip() or None
    transcript = (data.get("transcript") or "").strip() or None
    if not title:
        if not description:
            raise field_error("title", "请填写事件标题或描述")
        title = clean_title(description)
    report = Report(
        id=rid, category_code=category.code, title=title[:100], description=description,
        audio_file=audio[0] if audio else None, photos=photos, transcript=transcript,
        lat=location[0] if location else None, lon=location[1] if location else None,
        cell=geo.geohash(*location) if location else None,
        address=(data.get("address") or "").strip()[:200] or None, area_id=area.id,
        reporter_id=ctx.actor.id if ctx.actor else None,
        contact_enc=_contact(ctx, data.get("contact")),
        source=_source(ctx, data.get("source")), external_id=data.get("external_id"),
        urgency=urgency, state="reported", reported_at=reported_at, created_at=now,
    )  # fmt: skip
    report.category, report.area = category, area
    start_stage(report, now)
    with atomic(ctx.session, lambda: DuplicateReportId(details={"id": rid})):
        ctx.session.add(report)
    link_files(ctx, report, photos + audio)
    add_event(ctx, report, "report", None, photos=photos,
              data={"source": report.source, "urgency": urgency})  # fmt: skip
    picked = route(ctx.session, category, area)
    if picked.auto_dispatch and picked.department is not None:
        auto_dispatch(ctx, report, picked.department, picked.rule_id)
    ctx.session.flush()
    return report


EDITABLE = ("title", "description", "transcript", "photos", "audio_file", "location", "address",
            "urgency")  # fmt: skip


def update_report(ctx: Ctx, report_id: str, changes: dict[str, Any], expected_version: int | None,
                  *, files_may_follow: bool = False) -> Report:  # fmt: skip
    """The reporter completes or corrects a report until a dispatcher takes it up; after
    that the report is a case, and only the timeline adds to it."""
    report = get_report(ctx, report_id)
    check_version(report.version, expected_version)
    if report.reporter_id is None or ctx.actor is None or report.reporter_id != ctx.actor.id:
        raise NotReporter("只有上报人可以修改事件内容")
    if report.state != "reported":
        raise ReportLocked()
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ReportInvalid(details={"fields": {k: ["该字段不能修改"] for k in unknown}})
    before = {k: report_view(ctx, report)[k] for k in changes}
    if "title" in changes:
        title = (changes["title"] or "").strip()
        if not title:
            raise field_error("title", "请填写事件标题")
        report.title = title[:100]
    if "description" in changes:
        report.description = (changes["description"] or "").strip() or None
    if "transcript" in changes:
        report.transcript = (changes["transcript"] or "").strip() or None
    if "address" in changes:
        report.address = (changes["address"] or "").strip()[:200] or None
    if "urgency" in changes:
        if changes["urgency"] not in URGENCIES:
            raise field_error("urgency", "紧急程度应为 high、normal 或 low")
        report.urgency = changes["urgency"]
    if "location" in changes:
        location = _location(changes["location"])
        report.lat, report.lon = location if location else (None, None)
        report.cell = geo.geohash(*location) if location else None
    if "photos" in changes:
        report.photos = checked_files(ctx, changes["photos"], "photos", may_follow=files_may_follow)
    if "audio_file" in changes:
        audio = changes["audio_file"]
        audio = checked_files(ctx, [audio] if audio else [], "audio_file",
                              may_follow=files_may_follow)  # fmt: skip
        report.audio_file = audio[0] if audio else None
    if "photos" in changes or "audio_file" in changes:
        # Only a report still "reported" is edited: its own files are all its references,
        # and one it dropped is no longer readable through it.
        names = [*report.photos, *([report.audio_file] if report.audio_file else [])]
        set_refs(ctx.session, names, object_type="report", object_id=report.id,
                 area_id=report.area_id)  # fmt: skip
    after = {k: report_view(ctx, report)[k] for k in changes}
    changed = sorted(k for k in changes if before[k] != after[k])
    if changed:
        report.updated_at = utcnow()
        add_event(ctx, report, "update", report.state, data={"fields": changed})
    ctx.session.flush()
    return report


def auto_dispatch(ctx: Ctx, report: Report, department, rule_id: int | None) -> None:
    now = utcnow()
    for action, target in (("accept", "accepted"), ("dispatch", "dispatched")):
        before = report.state
        report.state = target
        setattr(report, f"{target}_at", now)
        if action == "dispatch":
            report.department_id, report.department = department.id, department
        start_stage(report, now)
        add_event(ctx, report, action, before, system=True,
                  department_id=report.department_id if action == "dispatch" else None,
                  data={"auto": True, "rule": rule_id})  # fmt: skip


def possible_duplicates(
    ctx: Ctx, category_code: str, lat: float | None, lon: float | None, *,
    at: datetime | None = None, exclude: str | None = None, limit: int = 5,
) -> list[dict[str, Any]]:  # fmt: skip
    """Open reports of the same category within 50 m and the 72 hours before ``at``, nearest
    first: offered while reporting so a second report joins the first."""
    if lat is None or lon is None:
        return []
    at = at or utcnow()
    min_lat, max_lat, min_lon, max_lon = geo.box(lat, lon, DUPLICATE_RADIUS_M)
    stmt = select(Report).where(
        Report.category_code == category_code,
        Report.created_at >= at - DUPLICATE_WINDOW,
        Report.created_at <= at + CLOCK_SKEW,
        Report.state.not_in(FINAL),
        Report.lat.between(min_lat, max_lat),
        Report.lon.between(min_lon, max_lon),
        visible(ctx),
    )
    if exclude:
        stmt = stmt.where(Report.id != exclude)
    found = []
    for r in ctx.session.scalars(stmt.limit(200)):
        distance = geo.distance_m(lat, lon, r.lat, r.lon)
        if distance <= DUPLICATE_RADIUS_M:
            found.append((distance, r))
    found.sort(key=lambda pair: (pair[0], pair[1].created_at))
    return [
        {
            "id": r.id,
            "title": r.title,
            "state": r.state,
            "state_name": STATE_NAMES[r.state],
            "category": r.category_code,
            "address": r.address,
            "distance_m": round(d, 1),
            "created_at": r.created_at,
        }
        for d, r in found[:limit]
    ]


def contact_view(ctx: Ctx, report: Report, *, reveal: bool) -> dict[str, Any] | None:
    if report.contact_enc is None:
        return None
    contact = json.loads(ctx.pii.decrypt(report.contact_enc, field="report_contact"))
    if not reveal and contact.get("phone"):
        contact["phone"] = mask_phone(contact["phone"])
    return contact


def reveal_contact(ctx: Ctx, report: Report) -> dict[str, Any] | None:
    """The caller's full phone, for calling back; every reveal is audited."""
    contact = contact_view(ctx, report, reveal=True)
    if contact is not None:
        audit.record(ctx.session, ctx.actor, "report.reveal_contact", object_type="report",
                     object_id=report.id)  # fmt: skip
    return contact


def next_actions(ctx: Ctx, report: Report) -> list[str]:
    role = ctx.actor.role if ctx.actor else None
    actions = allowed(report.state, role)
    if "evaluate" in actions and report.satisfied is not None:
        actions.remove("evaluate")
    own = report.reporter_id == (ctx.actor.id if ctx.actor else None)
    if "evaluate" in actions and role in ("grid_worker", "community_staff") and not own:
        actions.remove("evaluate")
    return actions


def is_overdue(report: Report, now: datetime | None = None) -> bool:
    return (report.due_at is not None and report.state not in FINAL
            and (now or utcnow()) > report.due_at)  # fmt: skip


def set_transcript(ctx: Ctx, report_id: str, text: str) -> Report:
    """Keep what recognition heard in a report's recording (transcribed at the desk when the
    phone could not). It is derived data, so it neither bumps the version nor locks."""
    report = get_report(ctx, report_id)
    report.transcript = text.strip() or None
    ctx.session.flush()
    return report


def report_view(ctx: Ctx, report: Report, *, reveal: bool = False,
                contact: dict | None = None) -> dict[str, Any]:  # fmt: skip
    department = report.department
    return {
        "id": report.id,
        "category": report.category_code,
        "category_name": report.category.name,
        "category_path": path_of(ctx.session, report.category),
        "title": report.title,
        "description": report.description,
        "audio_file": report.audio_file,
        "transcript": report.transcript,
        "photos": report.photos,
        "location": None if report.lat is None else {"lat": report.lat, "lon": report.lon},
        "address": report.address,
        "area": report.area.code,
        "area_name": report.area.name,
        "reporter": None if report.reporter is None else {
            "id": report.reporter.id,
            "name": report.reporter.display_name or report.reporter.username},
        "contact": contact if contact is not None else contact_view(ctx, report, reveal=reveal),
        "source": report.source,
        "external_id": report.external_id,
        "urgency": report.urgency,
        "state": report.state,
        "state_name": STATE_NAMES[report.state],
        "department": department.code if department else None,
        "department_name": department.name if department else None,
        "duplicate_of": report.duplicate_of,
        "due_at": report.due_at,
        "overdue": is_overdue(report),
        "late": report.late,
        "satisfied": report.satisfied,
        "reported_at": report.reported_at,
        "accepted_at": report.accepted_at,
        "dispatched_at": report.dispatched_at,
        "resolved_at": report.resolved_at,
        "closed_at": report.closed_at,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "version": report.version,
        "actions": next_actions(ctx, report),
    }  # fmt: skip


def detail_view(ctx: Ctx, report: Report, *, contact: dict | None = None) -> dict[str, Any]:
    """One report as its page shows it: the list view plus the dispatcher's helpers."""
    view = report_view(ctx, report, contact=contact)
    if report.state in ("reported", "accepted"):
        picked = route(ctx.session, report.category, report.area)
        view["suggested_department"] = picked.department.code if picked.department else None
        view["possible_duplicates"] = possible_duplicates(
            ctx, report.category_code, report.lat, report.lon, at=report.created_at,
            exclude=report.id,
        )  # fmt: skip
    else:
        view["suggested_department"] = None
        view["possible_duplicates"] = []
    return view


@dataclass
class ReportFilter:
    state: list[str] | None = None
    category: str | None = None
    area: str | None = None
    department: str | None = None
    source: str | None = None
    overdue: bool | None = None
    mine: bool = False


def list_reports(ctx: Ctx, filters: ReportFilter, *, limit: int,
                 cursor: str | None) -> tuple[list[Report], str | None]:  # fmt: skip
    """Reports the caller may see, newest first, filtered by state, category (a class takes
    its leaves), area (with the areas under it), department, source and overdue."""
    stmt = select(Report).where(visible(ctx))
    if filters.state:
        stmt = stmt.where(Report.state.in_(filters.state))
    if filters.category:
        leaves = select(ReportCategory.code).where(
            (ReportCategory.code == filters.category)
            | (ReportCategory.parent_code == filters.category)
        )
        stmt = stmt.where(Report.category_code.in_(leaves))
    if filters.area:
        try:
            area = get_area_by_code(ctx.session, filters.area, ctx.scope)
        except NotFound:
            raise field_error("area", "区域不存在或不在您负责的范围内") from None
        stmt = stmt.where(
            Report.area_id.in_(select(Area.id).where(Area.path.startswith(area.path)))
        )
    if filters.department:
        stmt = stmt.where(
            Report.department_id == get_department(ctx.session, filters.department).id
        )
    if filters.source:
        stmt = stmt.where(Report.source == filters.source)
    if filters.overdue is not None:
        late = and_(Report.state.not_in(FINAL), Report.due_at < utcnow())
        stmt = stmt.where(late if filters.overdue else ~late)
    if filters.mine:
        stmt = stmt.where(Report.reporter_id == (ctx.actor.id if ctx.actor else -1))
    return newest_first_page(ctx.session, stmt, Report, limit, cursor)


def state_counts(ctx: Ctx) -> dict[str, int]:
    """How many reports the caller may see are in each state, and how many are overdue."""
    counts = dict(ctx.session.execute(
        select(Report.state, func.count()).where(visible(ctx)).group_by(Report.state)
    ).all())  # fmt: skip
    counts["overdue"] = ctx.session.scalar(
        select(func.count()).where(
            visible(ctx), Report.state.not_in(FINAL), Report.due_at < utcnow()
        )
    )
    return counts


def timeline(ctx: Ctx, report_id: str) -> list[dict[str, Any]]:
    report = get_report(ctx, report_id)
    events = ctx.session.scalars(
        select(ReportEvent).where(ReportEvent.report_id == report.id).order_by(ReportEvent.id)
    )
    departments = {}
    out = []
    for e in events:
        if e.department_id and e.department_id not in departments:
            from ledger.reports.models import Department

            departments[e.department_id] = ctx.session.get(Department, e.department_id)
        department = departments.get(e.department_id)
        action = ACTIONS.get(e.action)
        out.append({
            "id": e.id, "action": e.action,
            "action_name": action.label if action else _EVENT_NAMES.get(e.action, e.action),
            "from_state": e.from_state, "to_state": e.to_state,
            "actor": {"id": e.actor_id, "name": e.actor_name, "role": e.actor_role},
            "department": department.code if department else None,
            "department_name": department.name if department else None,
            "comment": e.comment, "photos": e.photos, "data": e.data, "at": e.at,
        })  # fmt: skip
    return out


_EVENT_NAMES = {"report": "上报", "duplicate_merged": "合并重复上报", "update": "补充信息"}
