"""Console ledger jobs: start an export or an import, watch its progress, download the file
and read an import's row-by-row report. The jobs are the API's own (same start, same owner
check, same download)."""

from __future__ import annotations

from contextlib import suppress

from flask import redirect, render_template, request, url_for

from ledger.areas.operations import visible_areas
from ledger.errors import LedgerError
from ledger.jobs.errors import JobNotFound
from ledger.jobs.models import Job
from ledger.ledgers import entries as ops
from ledger.ledgers.exports.operations import FORMATS
from ledger.ledgers.imports.operations import MODES, RepeatedImport
from ledger.ledgers.templates import get_template
from server.auth.permissions import can, check
from server.console import bp, wants_json
from server.console.forms import visible_grids
from server.console.ledgers import field_errors, list_filters
from server.errors import KIND_STATUS, ApiError
from server.resources.jobs.imports import begin_import
from server.resources.jobs.routes import begin_export, download_response, load_job
from server.wiring import ctx

FORMAT_NAMES = {"xlsx": "Excel 表格（.xlsx）", "csv": "CSV 文本（.csv）",
                "pdf": "PDF 打印版（.pdf）"}  # fmt: skip
MODE_NAMES = {"all_or_nothing": "有错误时全部不导入（先按报告改好再导入）",
              "valid_rows": "只导入无误的行，有误的行列在报告中"}  # fmt: skip
# Who may watch a job of each kind (and only its owner, or an admin, ever sees it).
KIND_PERMISSION = {"ledger_export": "ledgers.export", "ledger_import": "ledgers.import"}
FILTER_NAMES = {"area": "网格", "date_from": "日期从", "date_to": "日期至", "q": "关键词"}


@bp.route("/ledgers/<string:code>/export")
def ledger_export(code: str):
    """Choose a format and export the entries the list's current filters show"""
    check("ledgers.export")
    c = ctx()
    template = get_template(c, code, archived=True)
    plain, values = list_filters(request.args)
    labels = {f["key"]: f["label"] for f in template.fields_of()}
    names = {a.code: a.name for a in visible_areas(c.session, c.scope)}
    shown = [(FILTER_NAMES[k], names.get(v, v) if k == "area" else v) for k, v in plain.items()]
    shown += [(labels.get(k, k), v) for k, v in values.items()]
    hidden = {**plain, **{f"data.{k}": v for k, v in values.items()}}
    return render_template("console/ledger_export.html", template=template, formats=FORMATS,
                           format_names=FORMAT_NAMES, shown_filters=shown, hidden=hidden,
                           may_reveal=can(c.actor.role, "people.reveal"))  # fmt: skip


@bp.route("/ledgers/<string:code>/exports", methods=["POST"])
def start_ledger_export(code: str):
    """Start an export: the page's script gets {id, url} as JSON, a plain form the job's page"""
    check("ledgers.export")
    plain, values = list_filters(request.form)
    body = {"format": request.form.get("format", ""), "filters": {**plain, **values},
            "reveal": request.form.get("reveal") == "1"}  # fmt: skip
    job = begin_export(ctx(), code, body)
    url = url_for("console.job", job_id=job.id)
    if wants_json():
        return {"id": job.id, "status": job.status, "url": url}, 202
    return redirect(url)


def _job(job_id: str) -> Job:
    """The caller's own export or import job (admins see all), with the kind's permission."""
    c = ctx()
    found = c.session.get(Job, job_id) if len(job_id) <= 36 else None
    if found is None or found.kind not in KIND_PERMISSION:
        raise JobNotFound(details={"id": job_id})
    job = load_job(job_id, found.kind)
    check(KIND_PERMISSION[job.kind])
    return job


def _status_line(job: Job) -> str:
    """What the job is doing, in a sentence."""
    percent = round((job.progress or 0) * 100)
    rows = job.rows or 0
    export = job.kind == "ledger_export"
    report = job.result or {}
    if job.status == "queued":
        return "排队中，即将开始…"
    if job.status == "running":
        if export:
            return f"正在导出：已处理 {rows} 条（{percent}%）"
        return f"正在检查和导入：已读取 {rows} 行（{percent}%）"
    if job.status == "failed":
        return (job.error or {}).get("message") or ("导出失败" if export else "导入失败")
    if export:
        return f"导出完成，共 {rows} 条记录"
    if report.get("dry_run"):
        return (f"检查完成：{report.get('valid_rows', 0)} 行无误，"
                f"{report.get('rejected', 0)} 行有误（未导入）")  # fmt: skip
    rejected = report.get("rejected", 0)
    return f"导入完成：已导入 {rows} 行" + (f"，{rejected} 行有误未导入" if rejected else "")


def job_view(job: Job) -> dict:
    """What the job page and its script show: status, percentage, sentence, download link."""
    done = job.status == "done"
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "finished": job.status in ("done", "failed"),
        "progress": round(job.progress or 0, 4),
        "percent": round((job.progress or 0) * 100),
        "rows": job.rows,
        "message": _status_line(job),
        "error": (job.error or {}).get("message") if job.status == "failed" else None,
        "ledger": job.params.get("ledger"),
        "download_url": url_for("console.job_download", job_id=job.id)
        if done and job.kind == "ledger_export" and job.file_sha256
        else None,
    }


@bp.route("/jobs/<string:job_id>")
def job(job_id: str):
    """A job's progress (JSON for the page's script), then its file or its row report"""
    found = _job(job_id)
    view = job_view(found)
    if wants_json():
        return view
    c = ctx()
    template = None
    with suppress(LedgerError):  # a ledger gone since: the job still shows
        template = get_template(c, view["ledger"], archived=True)
    report = found.result if found.kind == "ledger_import" else None
    errors = []
    for e in (report or {}).get("errors", []):
        for key, messages in e.get("fields", {}).items():
            label = e.get("labels", {}).get(key, key)
            listed = messages if isinstance(messages, list) else [messages]
            errors.append({"row": e["row"], "field": label, "message": "；".join(map(str, listed))})
    return render_template("console/ledger_job.html", job=view, template=template, report=report,
                           errors=errors, params=found.params, format_names=FORMAT_NAMES,
                           mode_names=MODE_NAMES)  # fmt: skip


@bp.route("/jobs/<string:job_id>/download")
def job_download(job_id: str):
    """Download a finished export: the data dir's file, or a redirect to a signed URL"""
    check("ledgers.export")
    return download_response(ctx(), load_job(job_id, "ledger_export"))


@bp.route("/ledgers/<string:code>/import", methods=["GET", "POST"])
def ledger_import(code: str):
    """Upload an xlsx or csv into a ledger: all rows or only the valid ones"""
    check("ledgers.import")
    c = ctx()
    template = ops.writable_template(c, code)
    form = request.form
    chosen = {"mode": form.get("mode") or "all_or_nothing", "area": form.get("area") or None,
              "dry_run": form.get("dry_run") == "1", "force": form.get("force") == "1"}  # fmt: skip
    error, errors, repeated, status = None, {}, False, 200
    if request.method == "POST":
        if chosen["mode"] not in MODES:
            chosen["mode"] = "all_or_nothing"
        try:
            started = begin_import(c, code, "file", **chosen)
        except (LedgerError, ApiError) as exc:
            error, errors = exc.message, field_errors(exc)
            repeated = isinstance(exc, RepeatedImport)
            status = exc.status if isinstance(exc, ApiError) else KIND_STATUS.get(exc.kind, 400)
        else:
            return redirect(url_for("console.job", job_id=started.id))
    return render_template("console/ledger_import.html", template=template, grids=visible_grids(c),
                           modes=MODES, mode_names=MODE_NAMES, chosen=chosen, error=error,
                           errors=errors, repeated=repeated), status  # fmt: skip
