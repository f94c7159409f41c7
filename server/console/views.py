"""Console pages: login, the dashboard (一张图), the report queues and a report's page."""

from __future__ import annotations

from datetime import datetime, time

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import func, select

from ledger.files.operations import readable_file, store_upload
from ledger.files.sniff import IMAGE_UPLOAD_TYPES
from ledger.ledgers.entries import CHINA
from ledger.ledgers.models import LedgerEntry
from ledger.registry.models import Household, Person
from ledger.registry.placenames import place_names
from ledger.reports import reports as ops
from ledger.reports.categories import all_categories, category_view
from ledger.reports.departments import list_departments
from ledger.reports.models import Report
from ledger.reports.models.report import SOURCE_NAMES
from ledger.reports.stats import report_stats
from ledger.reports.transitions import transition
from ledger.reports.workflow import ACTIONS, STATE_NAMES
from server.auth import service
from server.auth.permissions import can, check
from server.console import bp
from server.console.mapview import report_map
from server.db import get_session
from server.errors import ApiError
from server.resources.files.routes import file_response
from server.resources.reports.draft import suggester_cache
from server.uploads import ingest_part
from server.wiring import ctx, speech_engine
from speech import decode_audio
from sync.models import SyncConflict

QUEUES = ("reported", "accepted", "dispatched", "in_progress", "resolved", "reopened",
          "verified", "closed")  # fmt: skip


def _safe_next(target: str | None) -> str:
    # Only our own pages: a login link must not bounce anyone to another site.
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return url_for("console.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with username and password"""
    error = None
    if request.method == "POST":
        try:
            user, pair = service.login(get_session(), request.form.get("username", ""),
                                       request.form.get("password", ""))  # fmt: skip
        except ApiError as exc:
            error = exc.message
        else:
            session.clear()
            session.update(uid=user.id, sid=pair.session_id)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("console/login.html", error=error), 401 if error else 200


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out of the console (the login session is revoked)"""
    service.logout(get_session(), g.auth_session_id)
    session.clear()
    return redirect(url_for("console.login"))


def _since_midnight() -> datetime:
    return datetime.combine(datetime.now(CHINA).date(), time(), CHINA)


def _open_conflicts(c) -> int:
    return c.session.scalar(
        select(func.count())
        .select_from(SyncConflict)
        .where(SyncConflict.status == "open", c.scope.filter(SyncConflict.area_id))
    )


@bp.route("/")
def dashboard():
    """一张图: reports by state, overdue cases, today's new records, open sync conflicts"""
    c = ctx()
    since = _since_midnight()
    today = {}
    for label, model, permission in (("居民", Person, "people.read"),
                                      ("户", Household, "households.read"),
                                      ("台账记录", LedgerEntry, "ledgers.read"),
                                      ("事件", Report, "reports.read")):  # fmt: skip
        if can(g.user.role, permission):
            today[label] = c.session.scalar(
                select(func.count())
                .select_from(model)
                .where(model.created_at >= since, c.scope.filter(model.area_id))
            )
    stats = report_stats(c) if can(g.user.role, "reports.stats") else None
    conflicts = _open_conflicts(c) if can(g.user.role, "sync.conflicts") else None
    return render_template("console/dashboard.html", today=today, stats=stats,
                           conflicts=conflicts, counts=ops.state_counts(c),
                           state_names=STATE_NAMES, map=report_map(c))  # fmt: skip


@bp.route("/reports")
def reports():
    """Report queues: by state or overdue, newest first, a page at a time"""
    check("reports.read")
    c = ctx()
    state = request.args.get("state") or None
    overdue = request.args.get("overdue") == "1"
    if state is not None and state not in STATE_NAMES:
        abort(404)
    filters = ops.ReportFilter(state=[state] if state else None, overdue=True if overdue else None,
                               category=request.args.get("category") or None)  # fmt: skip
    items, next_cursor = ops.list_reports(c, filters, limit=25,
                                          cursor=request.args.get("cursor") or None)  # fmt: skip
    return render_template("console/reports.html", items=[ops.report_view(c, r) for r in items],
                           next_cursor=next_cursor, state=state, overdue=overdue,
                           counts=ops.state_counts(c), queues=QUEUES,
                           state_names=STATE_NAMES)  # fmt: skip


@bp.route("/reports/<string:report_id>")
def report(report_id: str):
    """One report: photos, recording, transcript, timeline and the steps you may take"""
    check("reports.read")
    c = ctx()
    found = ops.get_report(c, report_id)
    view = ops.detail_view(c, found)
    leaves = [category_view(c.session, x) for x in all_categories(c.session)
              if x.parent_code and x.active]  # fmt: skip
    suggested = []
    if {"accept", "dispatch"} & set(view["actions"]):
        # What the dispatcher confirms here is what the suggester learns from next.
        text = " ".join(x for x in (found.title, found.description, found.transcript) if x)
        names = {x["code"]: x["path"] for x in leaves}
        for code, score in suggester_cache().get(c.session).suggest(text, k=3):
            if code in names:
                suggested.append({"code": code, "path": names[code], "score": score})
    departments = list_departments(c.session)
    view["suggested_department_name"] = next(
        (d.name for d in departments if d.code == view["suggested_department"]), None
    )
    return render_template("console/report.html", r=view, timeline=ops.timeline(c, report_id),
                           actions=[ACTIONS[a] for a in view["actions"]], leaves=leaves,
                           departments=departments, suggested=suggested,
                           source_names=SOURCE_NAMES,
                           state_names=STATE_NAMES)  # fmt: skip


@bp.route("/reports/<string:report_id>/transcribe", methods=["POST"])
def transcribe(report_id: str):
    """Transcribe a report's recording on the server and keep the text with the report"""
    check("speech.transcribe")
    c = ctx()
    found = ops.get_report(c, report_id)
    if not found.audio_file:
        raise ApiError(422, "reports.no_audio", "该事件没有录音")
    readable_file(c, found.audio_file)
    with c.blobs.open(found.audio_file) as reader:
        data = reader.read()
    settings = current_app.extensions["wangge_settings"]
    audio = decode_audio(data, max_seconds=float(settings.speech_max_seconds),
                         max_bytes=settings.max_upload_bytes)  # fmt: skip
    hotwords = place_names(c.session, found.area)
    # Recognition takes seconds: no database transaction may stay open meanwhile.
    c.session.rollback()
    heard = speech_engine().transcribe(audio, hotwords=hotwords)
    ops.set_transcript(c, report_id, heard.text)
    flash("录音已转写" if heard.text.strip() else "录音中没有识别出语音", "ok")
    return redirect(url_for("console.report", report_id=report_id))


@bp.route("/reports/<string:report_id>/transitions", methods=["POST"])
def take_step(report_id: str):
    """One step of the loop from the report's page (photos uploaded with it)"""
    check("reports.transition")
    c = ctx()
    photos = []
    for part in request.files.getlist("photos"):
        if not part or not part.filename:
            continue
        upload = ingest_part(part, "photos")
        with upload:
            stored = store_upload(c, upload, filename=part.filename, declared_type=part.mimetype,
                                  allowed=IMAGE_UPLOAD_TYPES)  # fmt: skip
        photos.append(stored.sha256)
    form = request.form
    satisfied = {"1": True, "0": False}.get(form.get("satisfied", ""))
    data = {"action": form.get("action"), "comment": form.get("comment"),
            "department": form.get("department") or None,
            "duplicate_of": form.get("duplicate_of") or None,
            "category": form.get("category") or None, "photos": photos,
            "satisfied": satisfied}  # fmt: skip
    version = form.get("version")
    transition(c, report_id, data, int(version) if version and version.isdigit() else None)
    return redirect(url_for("console.report", report_id=report_id))


@bp.route("/files/<string:sha256>")
def file(sha256: str):
    """A photo or recording of a record you may see"""
    check("files.read")
    return file_response(ctx(), sha256)


CONFLICTS_PER_PAGE = 20
ENTITY_NAMES = {"person": "居民", "household": "户", "ledger_entry": "台账记录", "report": "事件",
                "report_action": "办理操作"}  # fmt: skip
KIND_NAMES = {"fields": "同时修改", "delete": "删除已被修改的记录", "deleted": "修改已删除的记录",
              "duplicate": "重复登记"}  # fmt: skip


@bp.route("/conflicts")
def conflicts():
    """Open sync conflicts: the device's and the server's values side by side"""
    check("sync.conflicts")
    from sync import conflicts as sync_conflicts

    c = ctx()
    # Oldest first, a page at a time: each one resolved makes room for the next.
    rows = sync_conflicts.list_conflicts(c, limit=CONFLICTS_PER_PAGE)
    items = [sync_conflicts.conflict_view(c, x) for x in rows]
    for item in items:
        item["fields"] = sorted(set(item["client"]) | set(item["server"]))
    return render_template("console/conflicts.html", items=items, entity_names=ENTITY_NAMES,
                           kind_names=KIND_NAMES, total=_open_conflicts(c))  # fmt: skip


@bp.route("/conflicts/<string:conflict_id>", methods=["POST"])
def resolve_conflict(conflict_id: str):
    """Keep the device's or the server's values, in one click"""
    check("sync.conflicts")
    from sync import conflicts as sync_conflicts

    choice = request.form.get("choice")
    if choice not in ("client", "server"):
        raise ApiError(422, "validation_error", "请选择保留哪一方的值")
    sync_conflicts.resolve(ctx(), conflict_id, choice, None)
    return redirect(url_for("console.conflicts"))
