"""Starting an import: check the ledger, mode and default grid, then queue the job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.context import Ctx
from ledger.errors import Conflict, InvalidInput
from ledger.files.models import StoredFile
from ledger.jobs import operations as jobs
from ledger.jobs.models import Job
from ledger.ledgers.entries import writable_template
from ledger.registry.common import grid_in_scope

if TYPE_CHECKING:
    from ledger.files.blobstore import BlobStore

MODES = ("all_or_nothing", "valid_rows")


class RepeatedImport(Conflict):
    code = "ledgers.import_repeated"
    message = "该文件已经导入过；如确需再次导入，请选择“仍然导入”（force=true）"


def forget_upload(session: Session, blobs: BlobStore, sha256: str) -> None:
    """The spreadsheet holds ID numbers in clear: drop it once read (or refused), unless it
    is also a file someone uploaded on purpose."""
    kept = session.scalar(select(StoredFile.sha256).where(StoredFile.sha256 == sha256))
    if kept is None:
        blobs.delete(sha256)


def start_import(
    ctx: Ctx,
    code: str,
    *,
    file_sha256: str,
    filename: str | None,
    mode: str,
    area: str | None,
    dry_run: bool,
    runner: str,
    force: bool = False,
) -> Job:
    """Queue an import of an uploaded spreadsheet into ``code``."""
    template = writable_template(ctx, code)
    if mode not in MODES:
        raise InvalidInput(details={"fields": {"mode": ["应为 all_or_nothing 或 valid_rows"]}})
    if area:
        # Rows without a grid column go to this grid, so it must be one the caller holds.
        grid_in_scope(ctx, area)
    if not dry_run and not force:
        # The same sheet twice is the commonest slip; it would double every row.
        earlier = ctx.session.scalars(
            select(Job)
            .where(
                Job.kind == "ledger_import",
                Job.status == "done",
                Job.params["file_sha256"].as_string() == file_sha256,
            )
            .order_by(Job.finished_at.desc())
        ).all()
        done = next(
            (
                j
                for j in earlier
                if j.params.get("ledger") == template.code
                and not j.params.get("dry_run")
                and j.rows
            ),
            None,
        )
        if done is not None:
            raise RepeatedImport(
                details={
                    "job": done.id,
                    "imported": done.rows,
                    "finished_at": done.finished_at.isoformat(),
                }
            )
    params: dict[str, Any] = {
        "ledger": template.code,
        "file_sha256": file_sha256,
        "filename": filename,
        "mode": mode,
        "area": area,
        "dry_run": dry_run,
        "ip": ctx.actor.ip if ctx.actor else None,
    }
    return jobs.create_job(
        ctx.session, kind="ledger_import", params=params, actor=ctx.actor, runner=runner
    )
