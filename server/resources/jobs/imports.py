"""Import jobs: upload a spreadsheet into a ledger, then read the row-by-row report."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.context import Ctx
from ledger.errors import LedgerError
from ledger.jobs.models import Job
from ledger.jobs.operations import job_view
from ledger.ledgers.imports.operations import forget_upload, start_import
from server.auth.permissions import require
from server.jobs.runners import runner
from server.resources.jobs.routes import load_job
from server.resources.jobs.schemas import (
    ImportFormSchema,
    ImportJobSchema,
    ImportQuerySchema,
    JobStartedSchema,
)
from server.resources.ledgers.routes import blp as ledgers_blp
from server.uploads import ingest_upload, install_upload_limit
from server.wiring import ctx

blp = Blueprint(
    "imports", __name__, url_prefix="/api/v1/imports", description="台账导入任务：进度与逐行报告"
)
install_upload_limit(ledgers_blp)


@ledgers_blp.route("/<string:code>/imports")
class ImportsViews(MethodView):
    @require("ledgers.import")
    @ledgers_blp.arguments(ImportQuerySchema, location="query")
    @ledgers_blp.arguments(ImportFormSchema, location="files")
    @ledgers_blp.response(202, JobStartedSchema)
    def post(self, args, _form, code):
        """Import an xlsx or csv into a ledger in the background (all rows or only valid ones)"""
        job = begin_import(ctx(), code, "file", **args)
        return {"id": job.id, "status": job.status}


def begin_import(c: Ctx, code: str, field: str, *, mode: str, area: str | None,
                 dry_run: bool, force: bool) -> Job:  # fmt: skip
    """Keep the uploaded sheet of form field ``field`` and queue its import (the API and the
    console both start them)."""
    part, upload = ingest_upload(field)
    with upload:
        c.blobs.put_file(upload.path, upload.sha256, "application/octet-stream")
    run = runner(current_app)
    try:
        job = start_import(
            c,
            code,
            file_sha256=upload.sha256,
            filename=part.filename,
            mode=mode,
            area=area,
            dry_run=dry_run,
            force=force,
            runner=run.label(),
        )
    except LedgerError:
        # Refused before any job owns it: the sheet (ID numbers in clear) goes at once.
        forget_upload(c.session, c.blobs, upload.sha256)
        raise
    # The job must be visible to the runner before it starts: commit, then hand it over.
    c.session.commit()
    run.submit(job.id)
    return job


@blp.route("/<string:job_id>")
class ImportByIdViews(MethodView):
    @require("ledgers.import")
    @blp.response(200, ImportJobSchema)
    def get(self, job_id):
        """An import's status, progress and report"""
        job = load_job(job_id, "ledger_import")
        view = job_view(job)
        view.update(ledger=job.params.get("ledger"), report=job.result)
        return view
