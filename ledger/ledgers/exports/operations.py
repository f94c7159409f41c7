"""Starting an export: check what was asked, audit it, and queue the job."""

from __future__ import annotations

import base64
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.audit import operations as audit
from ledger.context import Ctx
from ledger.errors import Forbidden
from ledger.jobs import operations as jobs
from ledger.jobs.models import Job
from ledger.ledgers.entries import EntryFilter, entry_query
from ledger.ledgers.errors import ExportInvalid
from ledger.ledgers.exports.writers import PDF_MAX_ROWS
from ledger.ledgers.fields import PERSONAL
from ledger.ledgers.templates import all_fields, get_template

if TYPE_CHECKING:
    from ledger.registry.pii import PiiCipher

FORMATS = ("xlsx", "csv", "pdf")
_FILTER_KEYS = ("area", "date_from", "date_to", "q")


def parse_filters(raw: Any) -> EntryFilter:
    """``{"area", "date_from", "date_to", "q", <field key>: value}`` as an EntryFilter."""
    if raw is None:
        return EntryFilter()
    if not isinstance(raw, dict):
        raise ExportInvalid(details={"fields": {"filters": ["应为对象"]}})
    errors: dict[str, list[str]] = {}
    dates: dict[str, date | None] = {}
    for key in ("date_from", "date_to"):
        try:
            dates[key] = date.fromisoformat(raw[key]) if raw.get(key) else None
        except (TypeError, ValueError):
            errors[key] = ["日期格式应为 YYYY-MM-DD"]
    values = {}
    for key, value in raw.items():
        if key in _FILTER_KEYS:
            continue
        if not isinstance(value, (str, int, float, bool)):
            errors[key] = ["筛选值应为文字或数字"]
        else:
            values[key] = str(value).lower() if isinstance(value, bool) else str(value)
    for key in ("area", "q"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            errors[key] = ["应为文字"]
    if errors:
        raise ExportInvalid(details={"fields": {"filters": errors}})
    return EntryFilter(
        area=raw.get("area"),
        date_from=dates["date_from"],
        date_to=dates["date_to"],
        q=raw.get("q"),
        values=values,
    )


def start_export(
    ctx: Ctx, code: str, body: dict[str, Any], *, runner: str, may_reveal: bool
) -> Job:
    """Queue an export of ``code`` in the caller's areas; audited whether or not it reveals."""
    template = get_template(ctx, code, archived=True)
    fmt = body.get("format")
    if fmt not in FORMATS:
        raise ExportInvalid(details={"fields": {"format": ["格式应为 xlsx、csv 或 pdf"]}})
    known = {f["key"] for f in all_fields(template)}
    wanted = body.get("fields")
    if wanted is None:
        wanted = [f["key"] for f in template.fields_of()]
    elif not isinstance(wanted, list) or not wanted or not all(isinstance(k, str) for k in wanted):
        raise ExportInvalid(details={"fields": {"fields": ["应为字段编码的列表"]}})
    unknown = [k for k in wanted if k not in known]
    if unknown:
        raise ExportInvalid(
            f"台账中没有这些字段：{'、'.join(unknown)}", details={"fields": {"fields": unknown}}
        )
    reveal = bool(body.get("reveal", False))
    if reveal and not may_reveal:
        raise Forbidden(
            "您的角色不能导出完整的身份证号和电话，请去掉“显示完整信息”后导出",
            code="ledgers.reveal_forbidden",
        )
    filters = parse_filters(body.get("filters"))
    if template.kind == "entries":
        # Built now so a bad filter is a 422 at once rather than a failed job later.
        query = entry_query(ctx, template, filters)
        if fmt == "pdf" and query is not None:
            from ledger.ledgers.exports.rows import count_entries

            total = count_entries(ctx, template, filters)
            if total > PDF_MAX_ROWS:
                raise ExportInvalid(
                    f"PDF 一次最多导出 {PDF_MAX_ROWS} 条（当前 {total} 条），"
                    "请缩小筛选范围或导出 Excel",
                    code="ledgers.export_too_large",
                    details={"rows": total, "max_rows": PDF_MAX_ROWS},
                )
    elif filters.values or filters.date_from or filters.date_to:
        raise ExportInvalid(
            "实有人口台账只能按区域和姓名筛选",
            details={"fields": {"filters": ["只能按区域和姓名筛选"]}},
        )
    personal = {f["key"] for f in all_fields(template) if f["type"] in PERSONAL}
    given = {k: v for k, v in (body.get("filters") or {}).items() if v is not None}
    params = {
        "ledger": template.code,
        "format": fmt,
        "fields": wanted,
        "labels": bool(body.get("labels", True)),
        "reveal": reveal,
        # Jobs sit in a table and a queue: an ID number filtered on is kept encrypted there.
        "filters": {k: _sealed(ctx, v) if k in personal else v for k, v in given.items()},
        "ip": ctx.actor.ip if ctx.actor else None,
    }
    job = jobs.create_job(
        ctx.session, kind="ledger_export", params=params, actor=ctx.actor, runner=runner
    )
    shown = {k: "***" if k in personal else v for k, v in given.items()}
    audit.record(
        ctx.session,
        ctx.actor,
        "ledger.export",
        object_type="job",
        object_id=job.id,
        details={
            "ledger": template.code,
            "format": fmt,
            "fields": wanted,
            "labels": params["labels"],
            "reveal": reveal,
            "filters": shown,
        },
    )
    return job


def _sealed(ctx: Ctx, value: Any) -> dict[str, str]:
    sealed = ctx.pii.encrypt(str(value), field="job_filter")
    return {"sealed": base64.b64encode(sealed).decode()}


def unseal_filters(pii: PiiCipher, raw: dict[str, Any]) -> dict[str, Any]:
    return {
        k: pii.decrypt(base64.b64decode(v["sealed"]), field="job_filter")
        if isinstance(v, dict) and "sealed" in v
        else v
        for k, v in raw.items()
    }
