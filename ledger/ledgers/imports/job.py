"""The import job: read a clerk's spreadsheet, correct what is safe, validate every row, link
residents by ID number, then write all rows or only the valid ones in one transaction."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
from sqlalchemy import select

from ledger.areas.models import Area
from ledger.audit import operations as audit
from ledger.context import Ctx
from ledger.jobs.errors import JobFailed
from ledger.jobs.run import JobRun
from ledger.ledgers.entries import build_entry, prefill, writable_template
from ledger.ledgers.fields import entry_schema, validate_data
from ledger.ledgers.imports.corrections import correct
from ledger.ledgers.imports.headers import match_headers
from ledger.ledgers.imports.operations import forget_upload
from ledger.ledgers.imports.reader import read_table
from ledger.registry.idnumber import is_valid_id_number
from ledger.registry.models import Person

MAX_ROWS = 100_000
# The report lists this many rows of errors and of corrections; counts cover them all.
REPORT_LIMIT = 2000
WRITE_BATCH = 1000


@dataclass
class Plan:
    """What reading and checking the file found, before anything is written."""

    report: dict[str, Any]
    valid: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)  # row, area, values
    errors: list[dict[str, Any]] = field(default_factory=list)
    corrections: list[dict[str, Any]] = field(default_factory=list)


def run_import(run: JobRun) -> None:
    params = run.params
    path = run.temp_path(".upload")
    try:
        with run.blobs.open(params["file_sha256"]) as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        with run.read_session() as session:
            plan = _check(run, run.ctx(session), path)
        report = plan.report
        run.result = report
        if plan.errors and params["mode"] == "all_or_nothing":
            raise JobFailed(
                f"有 {len(plan.errors)} 行数据有误，未导入任何数据；请按报告修改后重新导入",
                code="ledgers.import_rejected",
                details={"rejected": len(plan.errors)},
            )
        if params.get("dry_run"):
            run.rows = 0
            return
        with run.write_session() as session:
            report["imported"] = run.rows = _write(run, run.ctx(session), plan)
    finally:
        _forget_upload(run)


def _check(run: JobRun, ctx: Ctx, path) -> Plan:
    template = writable_template(ctx, run.params["ledger"])
    fields = template.fields_of()
    by_key = {f["key"]: f for f in fields}
    with read_table(path, max_rows=MAX_ROWS, fields=fields) as table:
        match = match_headers(table.headers, fields)
        plan = Plan(
            report={
                "ledger": template.code,
                "template_version": template.version,
                "mode": run.params["mode"],
                "dry_run": bool(run.params.get("dry_run")),
                "file": {
                    "name": run.params.get("filename"),
                    "format": table.format,
                    "sheet": table.sheet,
                    "header_row": table.header_row,
                },
                "columns": {
                    "mapped": {table.headers[i]: key for i, key in sorted(match.columns.items())},
                    "area": table.headers[match.area_column]
                    if match.area_column is not None
                    else None,
                    "ignored": match.ignored,
                    "missing_required": match.missing_required,
                },
            }
        )
        if not match.columns:
            raise JobFailed(
                "没有找到可导入的列，请确认表头与台账字段名称一致", code="ledgers.import_no_columns"
            )
        grids = _grids(ctx)
        default_area = run.params.get("area")
        rows: list[tuple[int, int | None, dict[str, Any], dict[str, list[str]]]] = []
        for number, cells in table.rows:
            values: dict[str, Any] = {}
            for index, key in match.columns.items():
                value, notes = correct(by_key[key], cells[index])
                values[key] = value
                if notes:
                    plan.corrections.append(
                        {"row": number, "field": key, "label": by_key[key]["label"], "notes": notes}
                    )
            problems: dict[str, list[str]] = {}
            raw_area = cells[match.area_column] if match.area_column is not None else None
            wanted = str(raw_area).strip() if raw_area not in (None, "") else default_area
            area_id = grids.get(wanted) if wanted else None
            if area_id is None:
                problems["area"] = (
                    ["请填写所属网格（网格编码或名称）"]
                    if not wanted
                    else [f"网格“{wanted}”不存在或不在您负责的范围内"]
                )
            rows.append((number, area_id, values, problems))
            if len(rows) % 2000 == 0:
                run.report(0.1, len(rows))
    run.report(0.4, len(rows))
    linked = _link(ctx, fields, rows)
    schema = entry_schema(fields)
    for number, area_id, values, problems in rows:
        person = linked.get(number)
        if person is not None:
            given = {k for k, v in values.items() if v not in (None, "", [])}
            person_key = next(f["key"] for f in fields if f["type"] == "person")
            if not values.get(person_key):
                values[person_key] = person.id
            prefill(ctx, fields, values, {"person": person}, given)
        try:
            checked = validate_data(fields, values, schema=schema)
        except ma.ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"data": exc.messages}
            problems.update(messages)
            checked = None
        if problems:
            plan.errors.append(
                {
                    "row": number,
                    "fields": problems,
                    "labels": {
                        k: by_key[k]["label"] if k in by_key else "所属网格" for k in problems
                    },
                }
            )
        else:
            plan.valid.append((number, area_id, checked))
    report = plan.report
    report.update(
        total_rows=len(rows),
        valid_rows=len(plan.valid),
        rejected=len(plan.errors),
        linked=len(linked),
        corrected_cells=len(plan.corrections),
        imported=0,
        errors=plan.errors[:REPORT_LIMIT],
        corrections=plan.corrections[:REPORT_LIMIT],
        truncated=len(plan.errors) > REPORT_LIMIT or len(plan.corrections) > REPORT_LIMIT,
    )
    run.report(0.6, len(rows))
    return plan


def _grids(ctx: Ctx) -> dict[str, int]:
    """Grids a row may name, by code or by name; a name shared by two grids is ambiguous."""
    found: dict[str, int] = {}
    names: dict[str, list[int]] = {}
    stmt = select(Area.id, Area.code, Area.name).where(
        Area.level == "grid", ctx.scope.filter(Area.id)
    )
    for area_id, code, name in ctx.session.execute(stmt):
        found[code] = area_id
        names.setdefault(name, []).append(area_id)
    found.update({name: ids[0] for name, ids in names.items() if len(ids) == 1})
    return found


def _link(ctx: Ctx, fields: list[dict], rows) -> dict[int, Person]:
    """Rows whose ID number belongs to a registered resident in scope → that resident."""
    person_field = next((f for f in fields if f["type"] == "person"), None)
    numbers = [f for f in fields if f["type"] == "id_number"]
    id_field = next(
        (f for f in numbers if f.get("source") == "person.id_number"),
        numbers[0] if numbers else None,
    )
    if person_field is None or id_field is None:
        return {}
    by_bidx: dict[str, list[int]] = {}
    for number, _area, values, _problems in rows:
        value = values.get(id_field["key"])
        if (
            isinstance(value, str)
            and not values.get(person_field["key"])
            and is_valid_id_number(value)
        ):
            by_bidx.setdefault(ctx.pii.blind_index(value, field="id_number"), []).append(number)
    linked: dict[int, Person] = {}
    keys = list(by_bidx)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for person in ctx.session.scalars(select(Person).where(Person.id_number_bidx.in_(chunk))):
            if ctx.scope.allows(person.area_id):
                for number in by_bidx[person.id_number_bidx]:
                    linked[number] = person
    return linked


def _write(run: JobRun, ctx: Ctx, plan: Plan) -> int:
    template = writable_template(ctx, run.params["ledger"])
    if template.version != plan.report["template_version"]:
        raise JobFailed("导入期间台账模板已被修改，请重新导入", code="ledgers.template_changed")
    area_ids = {area_id for _n, area_id, _v in plan.valid}
    areas = {a.id: a for a in ctx.session.scalars(select(Area).where(Area.id.in_(area_ids)))}
    written = 0
    with ctx.session.no_autoflush:
        for start in range(0, len(plan.valid), WRITE_BATCH):
            batch = plan.valid[start : start + WRITE_BATCH]
            ctx.session.add_all(
                build_entry(ctx, template, areas[a], values) for _n, a, values in batch
            )
            ctx.session.flush()
            written += len(batch)
    audit.record(
        ctx.session,
        ctx.actor,
        "ledger.import",
        object_type="job",
        object_id=run.job_id,
        details={
            "ledger": template.code,
            "imported": written,
            "rejected": len(plan.errors),
            "mode": run.params["mode"],
            "file": run.params.get("filename"),
        },
    )
    return written


def _forget_upload(run: JobRun) -> None:
    with run.read_session() as session:
        forget_upload(session, run.blobs, run.params["file_sha256"])
