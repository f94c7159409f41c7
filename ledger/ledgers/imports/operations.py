"""Starting an import: check the ledger, mode and default grid, then queue the job."""

from __future__ import annotations

from typing import Any

from ledger.context import Ctx
from ledger.errors import InvalidInput
from ledger.jobs import operations as jobs
from ledger.jobs.models import Job
from ledger.ledgers.entries import writable_template
from ledger.registry.common import grid_in_scope

MODES = ("all_or_nothing", "valid_rows")


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
) -> Job:
    """Queue an import of an uploaded spreadsheet into ``code``."""
    template = writable_template(ctx, code)
    if mode not in MODES:
        raise InvalidInput(details={"fields": {"mode": ["应为 all_or_nothing 或 valid_rows"]}})
    if area:
        # Rows without a grid column go to this grid, so it must be one the caller holds.
        grid_in_scope(ctx, area)
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
