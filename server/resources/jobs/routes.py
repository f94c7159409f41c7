"""Export jobs: start one for a ledger, watch its progress, download its file."""

from __future__ import annotations

from flask import Response, current_app, redirect, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.audit import operations as audit
from ledger.context import Ctx
from ledger.files.blobstore import content_disposition
from ledger.jobs import operations as jobs
from ledger.jobs.errors import JobNotDone
from ledger.jobs.models import Job
from ledger.ledgers.exports.operations import start_export
from server.auth.permissions import can, require
from server.db import write_session
from server.jobs.runners import runner
from server.resources.jobs.schemas import (
    ExportJobSchema,
    ExportRequestSchema,
    JobStartedSchema,
)
from server.resources.ledgers.routes import blp as ledgers_blp
from server.wiring import ctx

blp = Blueprint(
    "exports", __name__, url_prefix="/api/v1/exports", description="台账导出任务：进度与下载"
)


def load_job(job_id: str, kind: str):
    """The caller's job, failed on the spot if the process running it has died."""
    c = ctx()
    job = jobs.get_job(c.session, job_id, c.actor, kind=kind)
    stale_after = current_app.extensions["wangge_settings"].job_stale_seconds
    if jobs.is_stale(job, stale_after):
        # Polls are reads; the rare repair gets a short write transaction of its own.
        with write_session() as session:
            jobs.reap_stale(session, stale_after, job_id=job.id)
        c.session.refresh(job)
    return job


def begin_export(c: Ctx, code: str, body: dict) -> Job:
    """Queue an export and hand it to the runner (the API and the console both start them)."""
    run = runner(current_app)
    job = start_export(
        c, code, body, runner=run.label(), may_reveal=can(c.actor.role, "people.reveal")
    )
    # The job must be visible to the runner before it starts: commit, then hand it over.
    c.session.commit()
    run.submit(job.id)
    return job


@ledgers_blp.route("/<string:code>/exports")
class ExportsViews(MethodView):
    @require("ledgers.export")
    @ledgers_blp.arguments(ExportRequestSchema)
    @ledgers_blp.response(202, JobStartedSchema)
    def post(self, body, code):
        """Start exporting a ledger (xlsx, csv or pdf) in the background"""
        job = begin_export(ctx(), code, body)
        return {"id": job.id, "status": job.status}


def export_view(job) -> dict:
    view = jobs.job_view(job)
    view.update(
        ledger=job.params.get("ledger"),
        format=job.params.get("format"),
        filename=job.filename,
        download_url=None,
    )
    if job.status == "done" and job.file_sha256:
        view["download_url"] = ctx().blobs.download_url(
            job.file_sha256, filename=job.filename, content_type=job.content_type
        ) or url_for("exports.ExportDownloadViews", job_id=job.id, _external=True)
    return view


@blp.route("/<string:job_id>")
class ExportByIdViews(MethodView):
    @require("ledgers.export")
    @blp.response(200, ExportJobSchema)
    def get(self, job_id):
        """An export's status and progress, and its download URL once done"""
        return export_view(load_job(job_id, "ledger_export"))


@blp.route("/<string:job_id>/download")
class ExportDownloadViews(MethodView):
    @require("ledgers.export")
    @blp.response(200)
    def get(self, job_id):
        """Download a finished export (object storage redirects to a signed URL)"""
        return download_response(ctx(), load_job(job_id, "ledger_export"))


def download_response(c: Ctx, job: Job):
    """A finished export's file, audited: streamed from the data dir, or a redirect to a signed
    URL of the object store (the API and the console download alike)."""
    if job.status != "done" or not job.file_sha256:
        raise JobNotDone(details={"status": job.status})
    audit.record(
        c.session,
        c.actor,
        "ledger.export_download",
        object_type="job",
        object_id=job.id,
        details={"ledger": job.params.get("ledger"), "reveal": job.params.get("reveal", False)},
    )
    signed = c.blobs.download_url(
        job.file_sha256, filename=job.filename, content_type=job.content_type
    )
    if signed:
        return redirect(signed, code=302)
    reader = c.blobs.open(job.file_sha256)
    response = Response(iter(lambda: reader.read(1 << 16), b""), mimetype=job.content_type)
    response.call_on_close(reader.close)
    response.headers["Content-Length"] = str(c.blobs.size(job.file_sha256))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = content_disposition(job.filename)
    return response
