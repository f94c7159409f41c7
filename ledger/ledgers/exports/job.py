"""The export job: stream the ledger's rows into the chosen format and hand over the file."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ledger.areas.models import Area
from ledger.jobs.errors import JobFailed
from ledger.jobs.run import JobRun, Output
from ledger.ledgers.exports.operations import parse_filters, unseal_filters
from ledger.ledgers.exports.rows import (
    Shown,
    columns_for,
    count_entries,
    entry_rows,
    register_rows,
)
from ledger.ledgers.exports.writers import (
    PDF_MAX_ROWS,
    Sheet,
    find_font,
    write_csv,
    write_pdf,
    write_xlsx,
)
from ledger.ledgers.templates import all_fields, get_template

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


def run_export(run: JobRun) -> None:
    params = run.params
    fmt = params["format"]
    font = None
    if fmt == "pdf":
        font = find_font(run.options.get("pdf_font"))
        if font is None:
            raise JobFailed(
                "服务器未安装中文字体，暂时无法导出 PDF，请导出 Excel 或联系管理员",
                code="ledgers.pdf_font_missing",
            )
    with run.read_session() as session:
        ctx = run.ctx(session)
        template = get_template(ctx, params["ledger"], archived=True)
        by_key = {f["key"]: f for f in all_fields(template)}
        columns = columns_for([by_key[k] for k in params["fields"] if k in by_key])
        filters = parse_filters(unseal_filters(run.pii, params.get("filters") or {}))
        unit = _unit(ctx, filters.area)
        sheet = Sheet(
            title=f"{unit or ''}{template.name}",
            unit=unit or "",
            columns=columns,
            made_on=date.today(),
            labels=params.get("labels", True),
        )
        shown = Shown(
            labels=sheet.labels, reveal=params.get("reveal", False), text_dates=fmt != "xlsx"
        )
        if template.kind == "registry":
            total = None
            rows = register_rows(ctx, filters, columns, shown)
        else:
            total = count_entries(ctx, template, filters)
            if fmt == "pdf" and total > PDF_MAX_ROWS:
                raise JobFailed(
                    f"PDF 一次最多导出 {PDF_MAX_ROWS} 条，请缩小筛选范围或导出 Excel",
                    code="ledgers.export_too_large",
                )
            rows = entry_rows(ctx, template, filters, columns, shown)

        def progress(done: int) -> None:
            run.report(done / total if total else 0.5, done)

        path = run.temp_path(f".{fmt}")
        if fmt == "xlsx":
            run.rows = write_xlsx(path, sheet, rows, progress)
        elif fmt == "csv":
            run.rows = write_csv(path, sheet, rows, progress)
        else:
            run.rows = write_pdf(path, sheet, rows, progress, font=font)
    stamp = date.today().strftime("%Y%m%d")
    run.output = Output(path, f"{sheet.title}_{stamp}.{fmt}", CONTENT_TYPES[fmt])


def _unit(ctx, area_code: str | None) -> str | None:
    """制表单位: the area exported, else the area the exporter is responsible for."""
    if area_code:
        return ctx.session.scalar(select(Area.name).where(Area.code == area_code))
    if ctx.scope.root_area_id is not None:
        return ctx.session.scalar(select(Area.name).where(Area.id == ctx.scope.root_area_id))
    return None
