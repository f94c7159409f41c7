"""Admin pages for ledger templates: list, define, change fields (a new version), archive."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from ledger.ledgers import templates as ops
from ledger.ledgers.fields import CHOICE_TYPES, SOURCES, TYPE_LABELS, TYPES
from ledger.ledgers.models import LedgerTemplate
from server.auth.permissions import check
from server.console import bp
from server.console.admin import CAUGHT, FormErrors, form_errors
from server.wiring import ctx

BY_CODE = {"ledgers.exists": "code"}
ROW_RE = re.compile(r"^f-(\d+)-(key|label|type|required|options|help|source)$")
FIELD_ERROR_RE = re.compile(r"^fields\[(\d+)\]$")
# Blank rows under the filled ones: room to add fields when the page runs without script.
BLANK_ROWS = 3
SOURCE_LABELS = {
    "person.name": "居民·姓名", "person.sex": "居民·性别", "person.ethnicity": "居民·民族",
    "person.birth_date": "居民·出生日期", "person.id_number": "居民·身份证号",
    "person.phone": "居民·电话", "person.address": "居民·现住地址",
    "person.registered_address": "居民·户籍地址", "household.household_number": "户·户号",
    "household.address": "户·地址", "household.household_type": "户·户别",
}  # fmt: skip


def _options_text(field: dict[str, Any]) -> str:
    """Options one per line; ``value=label`` only where the two differ."""
    options = field.get("options") or []
    if not isinstance(options, list):
        return str(options)  # pasted JSON with a stray value: shown back as it came
    out = []
    for option in options:
        if isinstance(option, dict):
            value, label = option.get("value", ""), option.get("label") or option.get("value", "")
            out.append(label if value == label else f"{value}={label}")
        else:
            out.append(str(option))
    return "\n".join(out)


def _parse_options(text: str) -> list[Any]:
    """One option a line, or one line of comma-separated options; ``value=label`` keeps a
    stored value apart from the label people see."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) == 1:
        lines = [part.strip() for part in re.split(r"[,，]", lines[0]) if part.strip()]
    options: list[Any] = []
    for line in lines:
        value, sep, label = line.partition("=")
        options.append({"value": value.strip(), "label": label.strip()} if sep else line)
    return options


def _row(field: dict[str, Any]) -> dict[str, Any]:
    """A stored field definition as one row of the editor."""
    return {"key": field.get("key", ""), "label": field.get("label", ""),
            "type": field.get("type", "text"), "required": bool(field.get("required")),
            "options": _options_text(field), "help": field.get("help") or "",
            "source": field.get("source") or ""}  # fmt: skip


def _sent_rows() -> list[dict[str, Any]]:
    """The editor's rows as sent, in order, blank ones (no key, no label) left out."""
    by_index: dict[int, dict[str, str]] = {}
    for name in request.form:
        m = ROW_RE.match(name)
        if m:
            by_index.setdefault(int(m[1]), {})[m[2]] = request.form.get(name) or ""
    rows = []
    for i in sorted(by_index):
        raw = by_index[i]
        if not (raw.get("key", "").strip() or raw.get("label", "").strip()):
            continue
        rows.append({"key": raw.get("key", "").strip(), "label": raw.get("label", "").strip(),
                     "type": raw.get("type") or "text", "required": "required" in raw,
                     "options": raw.get("options", ""), "help": raw.get("help", "").strip(),
                     "source": raw.get("source", "")})  # fmt: skip
    return rows


def _field(row: dict[str, Any]) -> dict[str, Any]:
    """One editor row as the field definition the domain checks."""
    field = {"key": row["key"], "label": row["label"], "type": row["type"],
             "required": row["required"], "help": row["help"]}  # fmt: skip
    if row["type"] in CHOICE_TYPES:
        field["options"] = _parse_options(row["options"])
    if row["source"]:
        field["source"] = row["source"]
    return field


def _sent_fields(errors: FormErrors) -> tuple[list[dict[str, Any]] | None, list[dict], str]:
    """The fields from the table, or from the JSON textarea when that button was used; also
    the rows and the JSON text to show again if the save fails."""
    text = request.form.get("fields_json") or ""
    if request.form.get("mode") == "json":
        try:
            fields = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.add("fields_json", f"JSON 格式有误（第 {exc.lineno} 行第 {exc.colno} 列）")
            return None, [], text
        if not isinstance(fields, list):
            errors.add("fields_json", '应为字段定义的 JSON 数组：[{"key": …, "label": …}]')
            return None, [], text
        rows = [_row(f) if isinstance(f, dict) else _row({}) for f in fields]
        return fields, rows, text
    rows = _sent_rows()
    return [_field(r) for r in rows], rows, text


def _row_errors(errors: FormErrors, rows: list[dict]) -> dict[int, list[str]]:
    """Field problems by editor row: ``fields[i]`` is the i-th row sent, a bare key is the
    row with that key (a type change across versions)."""
    out: dict[int, list[str]] = {}
    keys = {r["key"]: i for i, r in enumerate(rows)}
    for name, messages in errors.fields.items():
        m = FIELD_ERROR_RE.match(name)
        index = int(m[1]) if m else keys.get(name)
        if index is not None:
            out.setdefault(index, []).extend(messages)
    return out


def _editor(template: LedgerTemplate | None, form: dict, rows: list[dict], fields_json: str,
            errors: FormErrors, mode: str):  # fmt: skip
    page = render_template(
        "console/admin_template.html", t=template, form=form, errors=errors, mode=mode,
        rows=rows, blank_rows=BLANK_ROWS, row_errors=_row_errors(errors, rows), types=TYPES,
        type_labels=TYPE_LABELS, choice_types=CHOICE_TYPES, sources=list(SOURCES),
        source_labels=SOURCE_LABELS, fields_json=fields_json,
    )  # fmt: skip
    return page, errors.status if errors else 200


def _pretty(fields: list[dict[str, Any]]) -> str:
    return json.dumps(fields, ensure_ascii=False, indent=2)


@bp.route("/admin/templates")
def admin_templates():
    """Ledger templates, archived ones too: version, fields, built-in or not"""
    check("ledgers.manage")
    templates = ops.list_templates(ctx(), archived=True)
    return render_template("console/admin_templates.html", templates=templates)


@bp.route("/admin/templates/new", methods=["GET", "POST"])
def admin_template_new():
    """Define a new ledger: code, name and a table of fields (or its JSON)"""
    check("ledgers.manage")
    c = ctx()
    if request.method == "GET":
        return _editor(None, {}, [], "", FormErrors(), "rows")
    errors = FormErrors()
    form = {k: (request.form.get(k) or "").strip() for k in ("code", "name", "description")}
    fields, rows, text = _sent_fields(errors)
    if not errors:
        try:
            template = ops.create_template(c, {**form, "fields": fields})
        except CAUGHT as exc:
            errors = form_errors(exc, BY_CODE)
            if errors is None:
                raise
        else:
            flash(f"已创建台账「{template.name}」（{len(template.fields_of())} 个字段）")
            return redirect(url_for("console.admin_templates"))
    return _editor(None, form, rows, text, errors, request.form.get("mode") or "rows")


@bp.route("/admin/templates/<string:code>/edit", methods=["GET", "POST"])
def admin_template(code: str):
    """Change a ledger's name, description or fields; changed fields make a new version"""
    check("ledgers.manage")
    c = ctx()
    template = ops.get_template(c, code, archived=True)
    current = {"name": template.name, "description": template.description or "",
               "version": template.version}  # fmt: skip
    if request.method == "POST" and (template.archived or template.kind != "entries"):
        # Archived and register-made ledgers are shown, not edited (a stale page's form).
        flash("该台账不能在此修改", "error")
        return redirect(url_for("console.admin_template", code=code))
    if request.method == "GET":
        fields = template.fields_of()
        return _editor(template, current, [_row(f) for f in fields], _pretty(fields),
                       FormErrors(), "rows")  # fmt: skip
    errors = FormErrors()
    form = {"name": (request.form.get("name") or "").strip(),
            "description": (request.form.get("description") or "").strip(),
            "version": request.form.get("version") or ""}  # fmt: skip
    fields, rows, text = _sent_fields(errors)
    if not errors:
        version = form["version"]
        try:
            changed = ops.update_template(
                c, code, {"name": form["name"], "description": form["description"],
                          "fields": fields},
                int(version) if version.isdigit() else 0,
            )  # fmt: skip
        except CAUGHT as exc:
            errors = form_errors(exc, BY_CODE)
            if errors is None:
                raise
        else:
            if changed.version != current["version"]:
                flash(f"已保存「{changed.name}」，字段已更新为第 {changed.version} 版")
            else:
                flash(f"已保存「{changed.name}」（字段未变，仍为第 {changed.version} 版）")
            return redirect(url_for("console.admin_template", code=code))
    return _editor(template, form, rows, text, errors, request.form.get("mode") or "rows")


@bp.route("/admin/templates/<string:code>/archive", methods=["POST"])
def admin_template_archive(code: str):
    """Archive a ledger: hidden from lists, its entries kept"""
    check("ledgers.manage")
    c = ctx()
    version = request.form.get("version") or ""
    template = ops.get_template(c, code)
    try:
        ops.archive_template(c, code, int(version) if version.isdigit() else 0)
    except CAUGHT as exc:
        # A built-in ledger, or one changed since the page was shown: say so on its page.
        errors = form_errors(exc)
        if errors is None:
            raise
        flash(errors.message, "error")
        return redirect(url_for("console.admin_template", code=code))
    flash(f"已归档台账「{template.name}」；已有记录仍保留，可以导出")
    return redirect(url_for("console.admin_templates"))
